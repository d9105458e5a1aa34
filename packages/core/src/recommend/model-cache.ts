/**
 * The shop's model in memory, shared by the engine's recommendations and its order ingest. Reading the whole
 * stored model costs a read of every pair and counted order (a tenth of a second at 10 000 orders, tens of seconds
 * at a million), so a copy catches up instead where it can: an ingest through this engine hands its change over
 * once committed and the copy follows it in place; a copy a few revisions behind (changes of another instance, or
 * webhooks applied inside the inbox's transaction) applies the changes logged in `model_changes`. It reads the
 * whole model again only when a change is missing there (too large to log, or cleared by an erasure).
 */
import { and, eq, lte, sql } from 'drizzle-orm';
import type { ShopContext } from '../shop/context.js';
import { rows, type Db } from '../store/open.js';
import { textArray } from '../store/text-array.js';
import { modelChanges } from '../store/schema.js';
import { loadModel, modelRevision, type CountDelta } from './model-store.js';
import type { CoPurchaseModel, ModelDelta, ModelOptions, OrderBasketRow } from './model.js';

/** What one committed ingest did to the stored model: revision `from` became `to` by `delta`. */
export interface ModelChange {
  from: number;
  to: number;
  delta: ModelDelta;
}

/** The changes kept in `model_changes`: a copy further behind reads the whole model again. */
export const KEPT_CHANGES = 200;
/** A change with more count rows than this (products and pairs) is not logged. */
export const MAX_LOGGED_ROWS = 20_000;

/** The model delta of an ingest on the stored revision `from`: its counts and tracked orders. */
export function modelChangeOf(
  from: number,
  counts: CountDelta,
  ordersAdded: OrderBasketRow[],
  ordersRemoved: string[],
): ModelChange {
  const delta: ModelDelta = { basketCount: counts.basketCount, ...counts.countRows(), ordersAdded, ordersRemoved };
  // persistDelta moves the revision by one exactly when the counts changed.
  return { from, to: counts.empty ? from : from + 1, delta };
}

/** The counts of a change, as logged: no order, customer or person. */
type LoggedCounts = Pick<ModelDelta, 'basketCount' | 'products' | 'pairs'>;

/** Logs a change's counts in its writer's transaction (unless it is too large), and forgets the oldest. */
export async function logModelChange(tx: Db, shopId: string, change: ModelChange): Promise<void> {
  if (change.to === change.from) return;
  const { basketCount, products, pairs } = change.delta;
  if (products.length + pairs.length <= MAX_LOGGED_ROWS) {
    const delta: LoggedCounts = { basketCount, products, pairs };
    await tx.insert(modelChanges).values({ shopId, revision: change.to, delta });
  }
  await tx
    .delete(modelChanges)
    .where(and(eq(modelChanges.shopId, shopId), lte(modelChanges.revision, change.to - KEPT_CHANGES)));
}

/** Clears the shop's logged changes (an erasure deleted orders): copies behind read the model again. */
export async function clearModelChanges(tx: Db, shopId: string): Promise<void> {
  await tx.delete(modelChanges).where(eq(modelChanges.shopId, shopId));
}

/**
 * The change from revision `from` to the stored one, read in one snapshot: the logged counts of each revision
 * in between, and the orders written since (each replaces its tracked version). Null when a revision's counts
 * are not in the log, or the stored model is not ahead within what the log keeps.
 */
async function changeSince(db: Db, shopId: string, from: number): Promise<ModelChange | null> {
  return db.transaction(
    async (tx) => {
      const to = await modelRevision(tx, shopId);
      if (to <= from || to - from > KEPT_CHANGES) return null;
      const logged = await rows<{ revision: string | number; delta: LoggedCounts }>(
        tx,
        sql`select revision, delta from model_changes
            where shop_id = ${shopId} and revision > ${from} and revision <= ${to} order by revision`,
      );
      if (logged.length !== to - from || logged.some((c, i) => Number(c.revision) !== from + 1 + i)) return null;
      const products = new Map<string, number>();
      const pairs = new Map<string, { productA: string; productB: string; count: number }>();
      let basketCount = 0;
      for (const { delta } of logged) {
        basketCount += delta.basketCount;
        for (const p of delta.products) products.set(p.productId, (products.get(p.productId) ?? 0) + p.count);
        for (const p of delta.pairs) {
          const key = `${p.productA}\u0000${p.productB}`;
          const sum = pairs.get(key);
          if (sum) sum.count += p.count;
          else pairs.set(key, { ...p });
        }
      }
      // The orders as loadModel reads them: counted ones with their lines' products, in line order.
      const written = await rows<{ order_id: string; customer_ref: string | null; time: number; counted: boolean }>(
        tx,
        sql`select order_id, customer_ref, floor(extract(epoch from created_at) * 1000)::float8 as time, counted
            from orders where shop_id = ${shopId} and model_revision > ${from} and model_revision <= ${to}`,
      );
      const baskets = new Map<string, OrderBasketRow>();
      for (const o of written)
        if (o.counted)
          baskets.set(o.order_id, {
            orderId: o.order_id,
            customerId: o.customer_ref,
            productIds: [],
            time: Number(o.time),
          });
      if (baskets.size > 0) {
        const lines = await rows<{ order_id: string; product_id: string }>(
          tx,
          sql`select order_id, product_id from order_lines
              where shop_id = ${shopId} and order_id = any(${textArray([...baskets.keys()])}) and quantity > 0
              order by order_id, line_no`,
        );
        for (const line of lines) {
          const basket = baskets.get(line.order_id)!;
          if (!basket.productIds.includes(line.product_id)) basket.productIds.push(line.product_id);
        }
      }
      return {
        from,
        to,
        delta: {
          basketCount,
          products: [...products].flatMap(([productId, count]) => (count === 0 ? [] : [{ productId, count }])),
          pairs: [...pairs.values()].filter((p) => p.count !== 0),
          ordersRemoved: written.map((o) => o.order_id),
          ordersAdded: [...baskets.values()].filter((b) => b.productIds.length > 0),
        },
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

export interface ModelCache {
  /** The model at the stored revision (reloaded when the revision moved on without this copy). */
  get(): Promise<CoPurchaseModel>;
  /** A committed change of this engine: applied in place when the copy is at its `from` revision. */
  follow(change: ModelChange): void;
}

const caches = new WeakMap<ShopContext, ModelCache>();

/** The one model cache of an engine (its context): recommendations read it, its order ingest updates it. */
export function sharedModelCache(ctx: ShopContext, options: ModelOptions = {}): ModelCache {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = modelCache(ctx, options);
    caches.set(ctx, cache);
  }
  return cache;
}

function modelCache(ctx: ShopContext, options: ModelOptions): ModelCache {
  let cached: { model: CoPurchaseModel; revision: number } | null = null;
  /** Brings the copy to the stored revision from the log; false when it cannot (then the model is read again). */
  const catchUp = async (): Promise<boolean> => {
    const copy = cached;
    if (!copy) return false;
    const change = await changeSince(ctx.db, ctx.shopId, copy.revision);
    if (!change) return false;
    // Another read caught up (or a change was followed) meanwhile: the copy is not this one's to move.
    if (cached !== copy) return cached !== null && cached.revision >= change.to;
    try {
      copy.model.applyDelta(change.delta);
    } catch {
      cached = null;
      return false;
    }
    cached = { model: copy.model, revision: change.to };
    return true;
  };
  return {
    async get() {
      const revision = await modelRevision(ctx.db, ctx.shopId);
      if (cached && cached.revision === revision) return cached.model;
      if (!(await catchUp())) cached = await loadModel(ctx.db, ctx.shopId, options);
      return cached!.model;
    },
    follow(change) {
      if (!cached || cached.revision !== change.from) return;
      const tracked = change.delta.ordersAdded.length > 0 || change.delta.ordersRemoved.length > 0;
      // Tracked orders changed without the counts (an order replaced by the same basket): the stored revision
      // stays, so the copy is dropped and read again rather than followed.
      if (change.to === change.from) {
        if (tracked) cached = null;
        return;
      }
      try {
        cached.model.applyDelta(change.delta);
        cached = { model: cached.model, revision: change.to };
      } catch {
        cached = null;
      }
    },
  };
}
