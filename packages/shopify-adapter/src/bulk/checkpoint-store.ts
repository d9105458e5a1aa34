/**
 * Bulk import checkpoints in the shop's key-value storage of the engine, shared by every instance of the app
 * that uses the same database, with a lease so that one instance at a time runs a shop's import (see
 * `BulkImportCheckpointStore`). The lease expires by the database's clock, so instances whose clocks differ
 * still agree on it.
 */
import type { Tactful } from '@tactful/core';
import type { BulkImportCheckpoint, BulkImportCheckpointStore } from './import.js';

export interface StoreCheckpointOptions {
  /** Which import: `orders` or `customers` (one checkpoint and one lease each). */
  name: string;
}

export function storeCheckpointStore(
  tactful: Pick<Tactful, 'storage'>,
  options: StoreCheckpointOptions,
): BulkImportCheckpointStore {
  const storage = tactful.storage.shop;
  const key = `shopify.bulk.${options.name}`;
  const leaseKey = `${key}.lease`;
  return {
    async load() {
      const value = await storage.get(key);
      return value === null ? null : (JSON.parse(value) as BulkImportCheckpoint);
    },
    async save(checkpoint) {
      await storage.set(key, JSON.stringify(checkpoint));
    },
    claim: (holder, leaseMs) => storage.claim(leaseKey, holder, leaseMs),
    release: (holder) => storage.release(leaseKey, holder),
  };
}
