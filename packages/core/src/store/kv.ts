import { and, asc, eq, sql } from 'drizzle-orm';
import { rows, type Db } from './open.js';
import { kv } from './schema.js';

/**
 * String values by key in the store's `kv` table, under one owner: a shop (its id) or the application itself
 * (`APP_OWNER`). Every instance that opens the same database sees the same values.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys that start with `prefix`, in order. */
  list(prefix: string): Promise<string[]>;
}

/** A shop's key-value storage, with leases so that one instance at a time runs a shop's long job. */
export interface ShopKeyValueStore extends KeyValueStore {
  /**
   * Takes (or renews) the lease `key` for `holder` for `leaseMs`, unless another holder's lease is still running;
   * true when `holder` holds it. The lease expires by the database's clock, so instances whose clocks differ
   * still agree on it.
   */
  claim(key: string, holder: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease back (only `holder`'s own). */
  release(key: string, holder: string): Promise<void>;
}

/** The owner of rows that belong to the application rather than to one shop (e.g. platform sessions). */
export const APP_OWNER = '_app';

export function keyValueStore(db: Db, owner: string): ShopKeyValueStore {
  const where = (key: string) => and(eq(kv.shopId, owner), eq(kv.key, key));
  return {
    async get(key) {
      const [row] = await db.select({ value: kv.value }).from(kv).where(where(key));
      return row?.value ?? null;
    },
    async set(key, value) {
      await db
        .insert(kv)
        .values({ shopId: owner, key, value, updatedAt: sql`now()` })
        .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value, updatedAt: sql`now()` } });
    },
    async delete(key) {
      await db.delete(kv).where(where(key));
    },
    async list(prefix) {
      const found = await db
        .select({ key: kv.key })
        .from(kv)
        .where(and(eq(kv.shopId, owner), sql`starts_with(${kv.key}, ${prefix})`))
        .orderBy(asc(kv.key));
      return found.map((r) => r.key);
    },
    async claim(key, holder, leaseMs) {
      // One statement: the row lock of ON CONFLICT makes two concurrent claims see each other.
      const taken = await rows(
        db,
        sql`insert into kv (shop_id, key, value, updated_at)
            values (${owner}, ${key},
                    json_build_object('holder', ${holder}::text,
                                      'until', now() + ${Math.max(1, Math.round(leaseMs))}::int * interval '1 millisecond')::text,
                    now())
            on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at
              where kv.value::jsonb ->> 'holder' = ${holder}::text or (kv.value::jsonb ->> 'until')::timestamptz <= now()
            returning 1 as ok`,
      );
      return taken.length > 0;
    },
    async release(key, holder) {
      await db.delete(kv).where(and(where(key), sql`${kv.value}::jsonb ->> 'holder' = ${holder}::text`));
    },
  };
}

/** Answers when the database does (a readiness check). */
export async function pingStore(db: Db): Promise<void> {
  await rows(db, sql`select 1 as ok`);
}
