/**
 * Bulk import checkpoints in the store's `kv` table, shared by every instance of the app that uses the same
 * database, with a lease so that one instance at a time runs a shop's import (see `BulkImportCheckpointStore`).
 * The lease expires by the database's clock, so instances whose clocks differ still agree on it.
 */
import type { Store } from '@tactful/core';
import type { BulkImportCheckpoint, BulkImportCheckpointStore } from './import.js';

export interface StoreCheckpointOptions {
  /** The shop (its `shop_id` in the store, e.g. `my-shop.myshopify.com`). */
  shop: string;
  /** Which import: `orders` or `customers` (one checkpoint and one lease each). */
  name: string;
}

export function storeCheckpointStore(
  store: Pick<Store, 'query'>,
  options: StoreCheckpointOptions,
): BulkImportCheckpointStore {
  const shop = options.shop;
  const key = `shopify.bulk.${options.name}`;
  const leaseKey = `${key}.lease`;
  return {
    async load() {
      const [row] = await store.query<{ value: string }>('select value from kv where shop_id = $1 and key = $2', [
        shop,
        key,
      ]);
      return row ? (JSON.parse(row.value) as BulkImportCheckpoint) : null;
    },
    async save(checkpoint) {
      await store.query(
        'insert into kv (shop_id, key, value, updated_at) values ($1, $2, $3, now()) on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at',
        [shop, key, JSON.stringify(checkpoint)],
      );
    },
    async claim(holder, leaseMs) {
      // One statement: the row lock of ON CONFLICT makes two concurrent claims see each other.
      const rows = await store.query(
        `insert into kv (shop_id, key, value, updated_at)
         values ($1, $2, json_build_object('holder', $3::text, 'until', now() + $4::int * interval '1 millisecond')::text, now())
         on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at
           where kv.value::jsonb ->> 'holder' = $3::text or (kv.value::jsonb ->> 'until')::timestamptz <= now()
         returning 1 as ok`,
        [shop, leaseKey, holder, Math.max(1, Math.round(leaseMs))],
      );
      return rows.length > 0;
    },
    async release(holder) {
      await store.query("delete from kv where shop_id = $1 and key = $2 and value::jsonb ->> 'holder' = $3::text", [
        shop,
        leaseKey,
        holder,
      ]);
    },
  };
}
