import type { Tactful } from '@tactful/core';
import { createEncryptedSessionStorage, type KeyValueStore, type ShopifySessionStorage } from '@tactful/shopify';

/** The app's own key-value storage (not one shop's), for the Shopify sessions of every installed shop. */
export function storeKeyValue(tactful: Tactful): KeyValueStore {
  return tactful.storage.app;
}

/** Shopify sessions (access tokens) encrypted under a key derived from the app's master secret. */
export function storeSessionStorage(tactful: Tactful): ShopifySessionStorage {
  return createEncryptedSessionStorage(tactful.storage.app, tactful.storage.secretKey('tactful/shopify-sessions/v1'));
}
