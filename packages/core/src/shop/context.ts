/**
 * The shop a piece of work acts on, and the one transaction every write of that shop runs in. It sits at the
 * bottom of core so that consent, profiles, preferences, privacy and campaigns share it without importing
 * each other.
 */
import type { Actor } from '../audit/log.js';
import type { KeyRing, ShopKeys } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { lockShopHead, saveShopHead, type ShopHead } from '../store/shop-head.js';
import { readShopSettings, type ShopSettings } from './settings.js';

/** Everything an operation needs about the shop it acts on. */
export interface ShopContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  now: () => Date;
  /**
   * The database is a server in another process (PostgreSQL), not embedded: the app's own work can go on while a
   * statement runs there. Unset means embedded (PGlite), where a statement runs on this thread.
   */
  server?: boolean;
}

/** What work inside `withShopTransaction` holds: the transaction, the locked head, the shop's keys and settings. */
export interface ShopSession {
  tx: Db;
  ctx: ShopContext;
  keys: KeyRing;
  shopId: string;
  head: ShopHead;
  shopKeys: ShopKeys;
  settings: ShopSettings;
  actor: Actor;
  /** One time for everything the transaction records. */
  recordedAt: Date;
}

/**
 * Runs `work` in one transaction holding the shop's head lock: ledger rows, projections, audit entries and
 * outbox rows commit together or not at all.
 */
export async function withShopTransaction<T>(
  ctx: ShopContext,
  actor: Actor,
  work: (s: ShopSession) => Promise<T>,
): Promise<T> {
  let shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  const recordedAt = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const head = await lockShopHead(tx, ctx.shopId);
    // Keys cached before another instance erased the shop and a new install made a new key: the row's, now.
    if (!head.wrappedKey.equals(shopKeys.wrapped)) {
      ctx.keys.forgetShop(ctx.shopId);
      shopKeys = await ctx.keys.shop(tx, ctx.shopId);
    }
    const result = await work({
      tx,
      ctx,
      keys: ctx.keys,
      shopId: ctx.shopId,
      head,
      shopKeys,
      settings,
      actor,
      recordedAt,
    });
    await saveShopHead(tx, ctx.shopId, head);
    return result;
  });
}
