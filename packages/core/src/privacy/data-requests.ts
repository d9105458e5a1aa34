import { and, eq, like } from 'drizzle-orm';
import { decrypt, encrypt } from '../crypto/cipher.js';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { kv } from '../store/schema.js';

/**
 * Export bundles prepared for a platform's data request (Shopify `customers/data_request`): kept for the
 * merchant to download and hand over, encrypted under the shop key, one per request id.
 */
const prefix = 'data-request:';

export async function storeDataRequest(
  db: Db,
  keys: KeyRing,
  shopId: string,
  requestId: string,
  bundle: unknown,
  at: Date,
): Promise<void> {
  const shopKeys = await keys.shop(db, shopId);
  const value = encrypt(
    shopKeys.shopKey,
    JSON.stringify({ requestId, preparedAt: at.toISOString(), bundle }),
    `${shopId}:${prefix}${requestId}`,
  ).toString('base64');
  await db
    .insert(kv)
    .values({ shopId, key: `${prefix}${requestId}`, value, updatedAt: at })
    .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value, updatedAt: at } });
}

export interface DataRequestBundle {
  requestId: string;
  preparedAt: string;
  bundle: unknown;
}

export async function readDataRequests(db: Db, keys: KeyRing, shopId: string): Promise<DataRequestBundle[]> {
  const shopKeys = await keys.shop(db, shopId);
  const rows = await db
    .select()
    .from(kv)
    .where(and(eq(kv.shopId, shopId), like(kv.key, `${prefix}%`)));
  return rows.map(
    (r) =>
      JSON.parse(
        decrypt(shopKeys.shopKey, Buffer.from(r.value, 'base64'), `${shopId}:${r.key}`).toString('utf8'),
      ) as DataRequestBundle,
  );
}
