/**
 * The shop's model in memory, shared by the engine's recommendations and its order ingest. Another instance's
 * change (or a webhook's, handled inside a larger transaction) moves the stored revision and the next read
 * reloads the model; an ingest through this engine hands its change over once committed, and the copy follows
 * it in place: a reload costs a read of every pair and counted order (a tenth of a second at 10 000 orders, tens
 * of seconds at a million), a followed change only its own baskets.
 */
import type { ShopContext } from '../shop/context.js';
import { loadModel, modelRevision, type CountDelta } from './model-store.js';
import type { CoPurchaseModel, ModelDelta, ModelOptions, OrderBasketRow } from './model.js';

/** What one committed ingest did to the stored model: revision `from` became `to` by `delta`. */
export interface ModelChange {
  from: number;
  to: number;
  delta: ModelDelta;
}

/** The model delta of an ingest: its count changes, and the tracked orders it added or replaced. */
export function modelChangeOf(
  from: number,
  counts: CountDelta,
  ordersAdded: OrderBasketRow[],
  ordersRemoved: string[],
): ModelChange {
  const delta: ModelDelta = { basketCount: counts.basketCount, products: [], pairs: [], ordersAdded, ordersRemoved };
  for (const [productId, count] of counts.products) if (count !== 0) delta.products.push({ productId, count });
  for (const [key, count] of counts.pairs) {
    if (count === 0) continue;
    const [productA, productB] = key.split('\u0000') as [string, string];
    delta.pairs.push({ productA, productB, count });
  }
  // persistDelta moves the revision by one exactly when the counts changed.
  return { from, to: counts.empty ? from : from + 1, delta };
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
  return {
    async get() {
      const revision = await modelRevision(ctx.db, ctx.shopId);
      if (!cached || cached.revision !== revision) cached = await loadModel(ctx.db, ctx.shopId, options);
      return cached.model;
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
