/**
 * The revision of a shop's product rows: a token in the store's `kv` table, replaced by every write to `products`
 * (in the writer's transaction, after the write), so an instance that keeps the catalogue in memory checks it
 * with one primary-key read instead of scanning the shop's products. A fresh random token rather than a counter:
 * a shop erased (every row of it deleted, this one too) and filled again can never come back to a token an
 * instance still holds.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Db } from '../store/open.js';

const KEY = 'catalogue.revision';

/** Call after every insert, update or delete of the shop's `products`, in the same transaction. */
export async function bumpCatalogue(tx: Db, shopId: string, at: Date): Promise<void> {
  await tx.execute(sql`
    insert into kv (shop_id, key, value, updated_at) values (${shopId}, ${KEY}, ${randomUUID()}, ${at.toISOString()}::timestamptz)
    on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at`);
}

/**
 * The current revision. A shop without one (products written before revisions existed, or just erased) gets one
 * here, so whatever an instance cached before cannot match it.
 */
export async function catalogueRevision(db: Db, shopId: string): Promise<string> {
  const read = async () =>
    (await rows<{ value: string }>(db, sql`select value from kv where shop_id = ${shopId} and key = ${KEY}`))[0]?.value;
  const found = await read();
  if (found !== undefined) return found;
  await db.execute(sql`
    insert into kv (shop_id, key, value, updated_at) values (${shopId}, ${KEY}, ${randomUUID()}, now())
    on conflict (shop_id, key) do nothing`);
  return (await read()) ?? '';
}

/**
 * What `load` derives from the shop's catalogue, kept in memory and loaded again only when the catalogue revision
 * or the argument's `keyOf` changes: one primary-key read per call instead of reading the products. The revision
 * is read first, so a change landing during a load is seen by the next call.
 */
export function byCatalogueRevision<A, V>(
  db: Db,
  shopId: string,
  load: (arg: A) => Promise<V>,
  keyOf: (arg: A) => string = () => '',
): (arg: A) => Promise<V> {
  let cached: { revision: string; key: string; value: V } | null = null;
  return async (arg) => {
    const revision = await catalogueRevision(db, shopId);
    const key = keyOf(arg);
    if (!cached || cached.revision !== revision || cached.key !== key)
      cached = { revision, key, value: await load(arg) };
    return cached.value;
  };
}
