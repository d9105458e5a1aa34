import { createHmac } from 'node:crypto';
import type { Tactful } from '@tactful/core';
import { createEncryptedSessionStorage, type KeyValueStore, type ShopifySessionStorage } from '@tactful/shopify';

/** Rows of the app itself (not of one shop) in the `kv` table. */
const APP_TENANT = '_app';

/** A KeyValueStore over the store's `kv` table, for the Shopify sessions of every installed shop. */
export function storeKeyValue(tactful: Tactful): KeyValueStore {
  const q = tactful.store.query.bind(tactful.store);
  return {
    async get(key) {
      const [row] = await q<{ value: string }>('select value from kv where shop_id = $1 and key = $2', [
        APP_TENANT,
        key,
      ]);
      return row?.value ?? null;
    },
    async set(key, value) {
      await q(
        'insert into kv (shop_id, key, value, updated_at) values ($1, $2, $3, now()) on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at',
        [APP_TENANT, key, value],
      );
    },
    async delete(key) {
      await q('delete from kv where shop_id = $1 and key = $2', [APP_TENANT, key]);
    },
    async list(prefix) {
      const rows = await q<{ key: string }>(
        'select key from kv where shop_id = $1 and starts_with(key, $2) order by key',
        [APP_TENANT, prefix],
      );
      return rows.map((r) => r.key);
    },
  };
}

/** Shopify sessions (access tokens) encrypted under a key derived from the app's master secret. */
export function storeSessionStorage(tactful: Tactful): ShopifySessionStorage {
  const key = createHmac('sha256', tactful.store.masterKey).update('tactful/shopify-sessions/v1').digest();
  return createEncryptedSessionStorage(storeKeyValue(tactful), key);
}
