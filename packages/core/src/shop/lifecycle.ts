import { and, eq } from 'drizzle-orm';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from '../store/open.js';
import { kv } from '../store/schema.js';

/**
 * Whether the app is still installed on a shop, as far as its platform told us: an erasure of the whole
 * shop is a request anyone holding one captured delivery could replay, so it is honoured only for a shop
 * the platform said was uninstalled, and not before the platform itself would send it.
 */
const UNINSTALLED = 'lifecycle:uninstalled';

/**
 * Shopify sends `shop/redact` 48 hours after `app/uninstalled`. A day is the least gap accepted: it leaves
 * room for an uninstall notice that reached us late (Shopify retries for up to 4 hours), and still refuses
 * a replayed uninstall followed at once by a replayed redaction.
 */
export const SHOP_ERASURE_DELAY_MS = 24 * 60 * 60 * 1000;

interface UninstallMark {
  at: string;
  platformShopId?: string | undefined;
}

export async function recordUninstalled(
  db: Db,
  shopId: string,
  at: Date,
  platformShopId: string | undefined,
): Promise<void> {
  const value = JSON.stringify({ at: at.toISOString(), ...(platformShopId ? { platformShopId } : {}) });
  await db
    .insert(kv)
    .values({ shopId, key: UNINSTALLED, value, updatedAt: at })
    .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value, updatedAt: at } });
}

export async function recordInstalled(db: Db, shopId: string): Promise<void> {
  await db.delete(kv).where(and(eq(kv.shopId, shopId), eq(kv.key, UNINSTALLED)));
}

/** Throws PRIVACY.SHOP_INSTALLED unless the shop may be erased by a request received at `receivedAt`. */
export async function assertShopErasable(
  db: Db,
  shopId: string,
  request: { receivedAt: Date; platformShopId?: string | undefined },
): Promise<void> {
  const [row] = await db
    .select({ value: kv.value })
    .from(kv)
    .where(and(eq(kv.shopId, shopId), eq(kv.key, UNINSTALLED)));
  const refuse = (why: string): never => {
    throw new TactfulError(
      'PRIVACY.SHOP_INSTALLED',
      `The request to erase shop ${shopId} was not honoured: ${why}. Nothing was deleted; an erasure the platform really sent after an uninstall is honoured.`,
    );
  };
  if (!row) return refuse('the app was not uninstalled from it (or was installed again since)');
  const mark = JSON.parse(row.value) as UninstallMark;
  if (mark.platformShopId && request.platformShopId && mark.platformShopId !== request.platformShopId)
    refuse(`it names shop id ${request.platformShopId}, the uninstall named ${mark.platformShopId}`);
  if (request.receivedAt.getTime() - new Date(mark.at).getTime() < SHOP_ERASURE_DELAY_MS)
    refuse(`it came less than a day after the uninstall (${mark.at}), long before the platform sends one`);
}
