/**
 * The co-purchase model in the store: product and pair counts as rows, changed by deltas in the same
 * transaction as the order that caused them, so a restart needs no rebuild and two instances agree. An
 * instance keeps the model in memory and reloads it when the stored revision moved on.
 */
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { rows, type Db } from '../store/open.js';
import { bulkInsert } from '../store/bulk.js';
import { modelFit, modelPairs, modelProducts, modelState } from '../store/schema.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { EaseFit } from './ease.js';
import {
  compareStrings,
  modelFromSnapshot,
  type CoPurchaseModel,
  type ModelOptions,
  type OrderBasketRow,
  type PairCountRow,
  type ProductCountRow,
} from './model.js';

/** Count changes of one or more baskets added (+1) or removed (-1). */
export class CountDelta {
  basketCount = 0;
  readonly products = new Map<string, number>();
  readonly pairs = new Map<string, number>();

  add(productIds: readonly string[], sign: 1 | -1): void {
    const items = [...new Set(productIds)].sort(compareStrings);
    if (items.length === 0) return;
    this.basketCount += sign;
    for (let i = 0; i < items.length; i++) {
      this.products.set(items[i]!, (this.products.get(items[i]!) ?? 0) + sign);
      for (let j = i + 1; j < items.length; j++) {
        const key = `${items[i]}\u0000${items[j]}`;
        this.pairs.set(key, (this.pairs.get(key) ?? 0) + sign);
      }
    }
  }

  get empty(): boolean {
    return this.basketCount === 0 && [...this.products.values()].every((v) => v === 0);
  }

  /** The changed counts as rows (zeros left out), each pair with its products in order. */
  countRows(): { products: ProductCountRow[]; pairs: PairCountRow[] } {
    const products: ProductCountRow[] = [];
    for (const [productId, count] of this.products) if (count !== 0) products.push({ productId, count });
    const pairs: PairCountRow[] = [];
    for (const [key, count] of this.pairs) {
      if (count === 0) continue;
      const [productA, productB] = key.split('\u0000') as [string, string];
      pairs.push({ productA, productB, count });
    }
    return { products, pairs };
  }
}

/**
 * The revision a shop's model row starts at: the database's clock, in microseconds. A shop's revisions are never
 * used twice: after the shop's erasure (every row of it gone, `shop/redact`) and a new install and import, an
 * instance still holding a copy of the erased model would otherwise meet its revision numbers again, counted from
 * zero, and serve that copy as current, or move it on with the new shop's logged changes. (A day at least passes
 * between the two lives, 8.64e10 revisions; 2^53 microseconds is the year 2255.)
 */
const FIRST_REVISION = sql`(extract(epoch from clock_timestamp()) * 1000000)::bigint`;

/** Locks the shop's model row (creating it) so model changes of one shop apply one at a time; its revision. */
export async function lockModel(tx: Db, shopId: string): Promise<number> {
  await tx.insert(modelState).values({ shopId, revision: FIRST_REVISION }).onConflictDoNothing();
  const [row] = await tx
    .select({ revision: modelState.revision })
    .from(modelState)
    .where(eq(modelState.shopId, shopId))
    .for('update');
  return Number(row?.revision ?? 0);
}

/** Writes the count changes and moves the revision on by one (nothing when the delta is empty). */
export async function persistDelta(tx: Db, shopId: string, delta: CountDelta): Promise<void> {
  if (delta.empty) return;
  const counts = delta.countRows();
  const productRows = counts.products.map((row) => ({ shopId, ...row }));
  const pairRows = counts.pairs.map((row) => ({ shopId, ...row }));
  await bulkInsert(
    tx,
    modelProducts,
    productRows,
    sql`on conflict (shop_id, product_id) do update set count = model_products.count + excluded.count`,
  );
  await bulkInsert(
    tx,
    modelPairs,
    pairRows,
    sql`on conflict (shop_id, product_a, product_b) do update set count = model_pairs.count + excluded.count`,
  );
  await tx.delete(modelProducts).where(and(eq(modelProducts.shopId, shopId), sql`${modelProducts.count} <= 0`));
  await tx.delete(modelPairs).where(and(eq(modelPairs.shopId, shopId), sql`${modelPairs.count} <= 0`));
  await tx
    .update(modelState)
    .set({
      basketCount: sql`${modelState.basketCount} + ${delta.basketCount}`,
      revision: sql`${modelState.revision} + 1`,
    })
    .where(eq(modelState.shopId, shopId));
}

export async function modelRevision(db: Db, shopId: string): Promise<number> {
  const [row] = await db
    .select({ revision: modelState.revision })
    .from(modelState)
    .where(eq(modelState.shopId, shopId));
  return row?.revision ?? 0;
}

interface OrderRow {
  order_id: string;
  customer_ref: string | null;
  time: number;
}

/**
 * How much a stored model's load reads at a time: counted orders (with their lines) per page, and the pairs of
 * this many products (as the pair's first product) per page.
 */
export const LOAD_PAGE = { orders: 10_000, pairProducts: 1_000 } as const;

/**
 * Loads the stored model: counts from the model tables, tracked orders from the counted orders. Pairs and
 * orders are read in pages and added to the model as they come, so the load holds one page of rows at a time
 * besides the model itself, whatever the shop's history; `page` is for tests.
 */
export async function loadModel(
  db: Db,
  shopId: string,
  options: ModelOptions = {},
  page: { orders: number; pairProducts: number } = LOAD_PAGE,
): Promise<{ model: CoPurchaseModel; revision: number }> {
  const [state] = await db.select().from(modelState).where(eq(modelState.shopId, shopId));
  const productRows = await db
    .select({ productId: modelProducts.productId, count: modelProducts.count })
    .from(modelProducts)
    .where(eq(modelProducts.shopId, shopId))
    .orderBy(modelProducts.productId);
  const model = modelFromSnapshot(
    { version: 1, basketCount: state?.basketCount ?? 0, products: productRows, pairs: [], orders: [] },
    options,
  );
  const [pairTotal] = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from model_pairs where shop_id = ${shopId}`,
  );
  model.reservePairs(Number(pairTotal?.n ?? 0));
  // Pairs by their first product, the products in slices (in the database's order): each page is a range of
  // the primary key with nothing to sort (keyset pages over both products sorted what remained every page),
  // and consecutive ranges meet, so a pair whose first product has no count row is read too.
  for (let i = 0; i === 0 || i < productRows.length; i += page.pairProducts) {
    const from = i === 0 ? null : productRows[i]!.productId;
    const to = i + page.pairProducts < productRows.length ? productRows[i + page.pairProducts]!.productId : null;
    const lower = from === null ? sql`` : sql`and product_a >= ${from}`;
    const upper = to === null ? sql`` : sql`and product_a < ${to}`;
    model.restorePairs(
      await rows<PairCountRow>(
        db,
        sql`select product_a as "productA", product_b as "productB", count from model_pairs
            where shop_id = ${shopId} ${lower} ${upper}`,
      ),
    );
  }
  if (model.tracksOrders) {
    for (let after: string | null = null; ; ) {
      // One page of counted orders, then the lines of their id range in line order (an order never straddles
      // two pages, and a basket reads the same whatever the page size). Two range scans of the primary keys:
      // a join let the planner scan every line of the shop for each page.
      const orderPage: OrderRow[] = await rows<OrderRow>(
        db,
        sql`select order_id, customer_ref, floor(extract(epoch from created_at) * 1000)::float8 as time
            from orders where shop_id = ${shopId} and counted ${after === null ? sql`` : sql`and order_id > ${after}`}
            order by order_id limit ${page.orders}`,
      );
      if (orderPage.length === 0) break;
      const byId = new Map<string, OrderBasketRow>();
      for (const o of orderPage)
        byId.set(o.order_id, { orderId: o.order_id, customerId: o.customer_ref, productIds: [], time: Number(o.time) });
      const lines = await rows<{ order_id: string; product_id: string }>(
        db,
        sql`select order_id, product_id from order_lines
            where shop_id = ${shopId} and order_id >= ${orderPage[0]!.order_id} and order_id <= ${orderPage.at(-1)!.order_id}
              and quantity > 0
            order by order_id, line_no`,
      );
      // Lines of orders that do not count fall in the range too: only the page's orders take theirs.
      for (const line of lines) {
        const basket = byId.get(line.order_id);
        if (basket && !basket.productIds.includes(line.product_id)) basket.productIds.push(line.product_id);
      }
      // An order without lines is not tracked.
      model.restoreOrders([...byId.values()].filter((b) => b.productIds.length > 0));
      if (orderPage.length < page.orders) break;
      after = orderPage.at(-1)!.order_id;
    }
  }
  return { model, revision: state?.revision ?? 0 };
}

/** The stored fit's header: enough to tell whether the cached copy is the newest. */
export async function fitHeader(
  db: Db,
  shopId: string,
): Promise<{ revision: number; basketCount: number; fittedAt: Date } | null> {
  const [row] = await db
    .select({ revision: modelFit.revision, basketCount: modelFit.basketCount, fittedAt: modelFit.fittedAt })
    .from(modelFit)
    .where(eq(modelFit.shopId, shopId));
  return row ?? null;
}

export async function loadFit(db: Db, shopId: string): Promise<EaseFit | null> {
  const [row] = await db.select().from(modelFit).where(eq(modelFit.shopId, shopId));
  if (!row) return null;
  const bytes = row.weights;
  // Copied into an aligned buffer: a driver's Buffer may start at any offset of a shared pool.
  const weights = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(weights.buffer).set(bytes);
  const d = row.productIds.length + 1;
  if (row.productIds.length > 0 && weights.length !== d * d)
    throw new TactfulError(
      'RECOMMEND.INVALID_SNAPSHOT',
      `Stored fit of shop ${shopId} holds ${weights.length} weights for ${row.productIds.length} products; refit it.`,
    );
  return {
    productIds: row.productIds,
    weights,
    lambda: row.lambda,
    basketCount: row.basketCount,
    revision: row.revision,
    fittedAt: row.fittedAt.getTime(),
    fitMs: row.fitMs,
  };
}

export async function saveFit(db: Db, shopId: string, fit: EaseFit): Promise<void> {
  const row = {
    shopId,
    revision: fit.revision,
    basketCount: fit.basketCount,
    lambda: fit.lambda,
    productIds: fit.productIds,
    weights: Buffer.from(fit.weights.buffer, fit.weights.byteOffset, fit.weights.byteLength),
    fittedAt: new Date(fit.fittedAt),
    fitMs: fit.fitMs,
  };
  // The update takes the inserted row's values (`excluded`), so the weights (16 MB at 2 000 products) are sent once.
  const { shopId: _key, ...columns } = getTableColumns(modelFit);
  const set = Object.fromEntries(
    Object.entries(columns).map(([field, column]) => [field, sql.raw(`excluded."${column.name}"`)]),
  );
  await db.insert(modelFit).values(row).onConflictDoUpdate({ target: modelFit.shopId, set });
}

/** Forgets the shop's fit (its orders were erased): the next request fits anew from the remaining counts. */
export async function dropFit(tx: Db, shopId: string): Promise<void> {
  await tx.delete(modelFit).where(eq(modelFit.shopId, shopId));
}
