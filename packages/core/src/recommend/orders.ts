/**
 * Order history: upserted from imports, webhooks and bulk operations, idempotent on the order id and
 * insensitive to arrival order (an older version of an order never overwrites a newer one). Every change to
 * what an order contributes to the co-purchase model — new, cancelled, refunded, lines changed — is applied
 * as a count delta in the same transaction.
 */
import { webUrl } from '../profile/web-url.js';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { KeyRing } from '../store/keyring.js';
import type { OrderRecord, ProductRecord } from '../ports.js';
import { CountDelta, dropFit, lockModel, persistDelta } from './model-store.js';
import { clearModelChanges, logModelChange, modelChangeOf, type ModelChange } from './model-cache.js';
import type { OrderBasketRow } from './model.js';
import { analyzeGrown } from '../store/analyze.js';
import { bulkInsert, bulkInsertQuery } from '../store/bulk.js';
import { bumpCatalogue } from './catalogue-revision.js';
import { rows, type Db } from '../store/open.js';
import { orderLines, orders, products } from '../store/schema.js';
import { subjectsByIndexes } from '../profile/subjects.js';
import { holdersOf, identifierIndex } from '../identity/identifiers.js';
import { refreshOrderSummaries } from '../profile/order-summaries.js';

export interface OrderIngestResult {
  added: number;
  updated: number;
  /** Older than what is stored, or identical: ignored. */
  ignored: number;
  /** Baskets the model counts now minus before. */
  modelBaskets: number;
}

/** What an ingest wrote, for work that must commit with it (a flow scheduling its steps): one entry per order. */
export type OrdersWritten = (
  tx: Db,
  written: ReadonlyArray<{ orderId: string; subjectId: string | null; createdAt: Date; counted: boolean }>,
) => Promise<void>;

export interface OrderContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  /** The engine's clock: what a product first seen in an order and an order summary are stamped with. */
  now: () => Date;
}

/** A stable, pseudonymous reference to the customer of an order: the email's blind index, else the platform id. */
export function customerRefOf(
  indexHex: string | null,
  source: string,
  customerId: string | null | undefined,
): string | null {
  if (indexHex) return `e:${indexHex}`;
  if (customerId) return `${source}:${customerId}`;
  return null;
}

function counts(record: OrderRecord): boolean {
  return !record.cancelledAt && !record.refunded && record.lines.some((l) => l.quantity > 0);
}

export async function ingestOrders(
  ctx: OrderContext,
  records: readonly OrderRecord[],
  source: string,
  onWritten?: OrdersWritten,
  onModelChange?: (change: ModelChange) => void,
): Promise<OrderIngestResult> {
  const result: OrderIngestResult = { added: 0, updated: 0, ignored: 0, modelBaskets: 0 };
  if (records.length === 0) return result;
  // The last version of each order in the batch wins (by updatedAt, then position).
  const latest = new Map<string, OrderRecord>();
  for (const r of records) {
    const prev = latest.get(r.id);
    if (!prev || r.updatedAt.getTime() >= prev.updatedAt.getTime()) {
      if (prev) result.ignored += 1;
      latest.set(r.id, r);
    } else result.ignored += 1;
  }
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  // What the stored model's tracked orders gain and lose (as loadModel reads them back): logged with the counts.
  const tracked = { added: [] as OrderBasketRow[], removed: [] as string[] };
  let change: ModelChange | undefined;
  const written = await ctx.db.transaction(async (tx) => {
    const revision = await lockModel(tx, ctx.shopId);
    const ids = [...latest.keys()];
    const existing = new Map<string, { updatedAt: Date; counted: boolean; products: string[] }>();
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      for (const row of await tx
        .select({ orderId: orders.orderId, updatedAt: orders.updatedAt, counted: orders.counted })
        .from(orders)
        .where(and(eq(orders.shopId, ctx.shopId), inArray(orders.orderId, chunk)))) {
        existing.set(row.orderId, { updatedAt: row.updatedAt, counted: row.counted, products: [] });
      }
      for (const line of await tx
        .select({ orderId: orderLines.orderId, productId: orderLines.productId })
        .from(orderLines)
        .where(and(eq(orderLines.shopId, ctx.shopId), inArray(orderLines.orderId, chunk)))) {
        existing.get(line.orderId)?.products.push(line.productId);
      }
    }
    const emails = [
      ...new Set([...latest.values()].map((r) => r.email?.trim().toLowerCase()).filter((e): e is string => Boolean(e))),
    ];
    const indexOf = new Map(emails.map((e) => [e, ctx.keys.emailIndex(shopKeys, e)]));
    const subjectOf = new Map(
      (await subjectsByIndexes(tx, ctx.shopId, [...indexOf.values()]))
        .filter((s) => s.wrappedKey !== null)
        .map((s) => [s.emailIndex.toString('hex'), s.subjectId]),
    );
    // An order without a known address (a guest at another address, none at all) still belongs to the person
    // who holds the customer's id in the source system.
    const lookup = { keys: ctx.keys, shopKeys, shopId: ctx.shopId };
    const customerIds = [...new Set([...latest.values()].flatMap((r) => (r.customerId ? [r.customerId] : [])))];
    const idIndex = new Map(customerIds.map((id) => [id, identifierIndex(lookup, source, id).toString('hex')]));
    const idHolders = await holdersOf(
      tx,
      ctx.shopId,
      [...idIndex.values()].map((hex) => Buffer.from(hex, 'hex')),
    );
    const holderOf = (customerId: string | null | undefined): string | null => {
      const holder = customerId ? idHolders.get(idIndex.get(customerId)!) : undefined;
      return holder?.current ? holder.subjectId : null;
    };

    const delta = new CountDelta();
    const orderRows: Array<typeof orders.$inferInsert> = [];
    const lineRows: Array<typeof orderLines.$inferInsert> = [];
    const productRows = new Map<string, typeof products.$inferInsert>();
    const replaced: string[] = [];
    const now = ctx.now();
    for (const record of latest.values()) {
      const before = existing.get(record.id);
      if (before && before.updatedAt.getTime() > record.updatedAt.getTime()) {
        result.ignored += 1;
        continue;
      }
      const counted = counts(record);
      const productIds = record.lines.filter((l) => l.quantity > 0).map((l) => l.productId);
      if (before) {
        const same =
          before.counted === counted &&
          before.products.slice().sort().join('\u0000') === [...new Set(productIds)].sort().join('\u0000');
        if (same && before.updatedAt.getTime() === record.updatedAt.getTime()) {
          result.ignored += 1;
          continue;
        }
        if (before.counted) {
          delta.add(before.products, -1);
          tracked.removed.push(record.id);
        }
        replaced.push(record.id);
        result.updated += 1;
      } else result.added += 1;
      if (counted) delta.add(productIds, 1);
      const email = record.email?.trim().toLowerCase();
      const indexHex = email ? indexOf.get(email)!.toString('hex') : null;
      orderRows.push({
        shopId: ctx.shopId,
        orderId: record.id,
        name: record.name ?? null,
        subjectId: holderOf(record.customerId) ?? (indexHex ? (subjectOf.get(indexHex) ?? null) : null),
        customerRef: customerRefOf(indexHex, source, record.customerId),
        createdAt: record.createdAt,
        updatedAt: record.updatedAt,
        cancelledAt: record.cancelledAt ?? null,
        refunded: record.refunded ?? false,
        currency: record.currency ?? null,
        totalPrice: record.totalPrice ?? null,
        counted,
        source,
      });
      // A counted order has a line with a quantity; only those lines are its basket (as in the counts).
      if (counted)
        tracked.added.push({
          orderId: record.id,
          customerId: orderRows.at(-1)!.customerRef ?? null,
          productIds: [...new Set(productIds)],
          time: record.createdAt.getTime(),
        });
      record.lines.forEach((line, lineNo) => {
        lineRows.push({
          shopId: ctx.shopId,
          orderId: record.id,
          lineNo,
          productId: line.productId,
          quantity: line.quantity,
          price: line.price ?? null,
        });
        if (!productRows.has(line.productId)) {
          productRows.set(line.productId, {
            shopId: ctx.shopId,
            productId: line.productId,
            title: line.title || line.productId,
            price: line.price ?? null,
            updatedAt: now,
          });
        }
      });
    }
    // The revision this ingest makes (persistDelta moves it on when the counts change): a copy of the model
    // catching up reads the orders written since its own.
    change = modelChangeOf(revision, delta, tracked.added, tracked.removed);
    for (const row of orderRows) row.modelRevision = change.to;
    for (let i = 0; i < replaced.length; i += 1000) {
      await tx
        .delete(orderLines)
        .where(and(eq(orderLines.shopId, ctx.shopId), inArray(orderLines.orderId, replaced.slice(i, i + 1000))));
    }
    await bulkInsert(
      tx,
      orders,
      orderRows,
      sql`on conflict (shop_id, order_id) do update set name = excluded.name, subject_id = excluded.subject_id, customer_ref = excluded.customer_ref, created_at = excluded.created_at, updated_at = excluded.updated_at, cancelled_at = excluded.cancelled_at, refunded = excluded.refunded, currency = excluded.currency, total_price = excluded.total_price, counted = excluded.counted, source = excluded.source, model_revision = excluded.model_revision`,
    );
    for (let i = 0; i < lineRows.length; i += 5000) await bulkInsert(tx, orderLines, lineRows.slice(i, i + 5000));
    // Products first seen in an order get a placeholder row; the catalogue sync fills in the rest.
    const placeholders = bulkInsertQuery(
      products,
      [...productRows.values()],
      sql`on conflict (shop_id, product_id) do nothing returning product_id`,
    );
    if (placeholders && (await rows(tx, placeholders)).length > 0) await bumpCatalogue(tx, ctx.shopId, now);
    await persistDelta(tx, ctx.shopId, delta);
    await logModelChange(tx, ctx.shopId, change);
    // A profile's order summary (count, spend, last order) is derived from these orders: refresh it in the same
    // transaction, so a profile never shows an order the store does not hold, or misses one it does.
    await refreshOrderSummaries(
      tx,
      ctx.shopId,
      [...new Set(orderRows.map((o) => o.subjectId).filter((id): id is string => Boolean(id)))],
      now,
    );
    await onWritten?.(
      tx,
      orderRows.map((o) => ({
        orderId: o.orderId,
        subjectId: o.subjectId ?? null,
        createdAt: o.createdAt,
        counted: o.counted ?? false,
      })),
    );
    result.modelBaskets = delta.basketCount;
    return result;
  });
  // Committed: an in-memory copy of the model may follow the change instead of reading the whole model again.
  if (change) onModelChange?.(change);
  // An import comes in batches: the tables it grew get statistics as they grow, not only once it ends.
  if (written.added > 0) await analyzeGrown(ctx.db, ORDER_TABLES);
  return written;
}

/** The tables an order ingest grows. */
const ORDER_TABLES = ['orders', 'order_lines', 'products', 'model_products', 'model_pairs', 'profiles'];

/** Creates or updates catalogue entries (title, URL, image, price, category, availability). */
export async function upsertProducts(
  ctx: OrderContext,
  records: readonly ProductRecord[],
  extra: { replenishDays?: ReadonlyMap<string, number> } = {},
): Promise<number> {
  const now = ctx.now();
  const entries = records.map((p) => ({
    shopId: ctx.shopId,
    productId: p.id,
    title: p.title,
    handle: p.handle ?? null,
    // Only web addresses are kept: these end up in href and src attributes of emails and pages.
    url: webUrl(p.url),
    imageUrl: webUrl(p.imageUrl),
    price: p.price ?? null,
    category: p.category ?? null,
    available: p.available,
    status: p.status ?? 'active',
    replenishDays: extra.replenishDays?.get(p.id) ?? null,
    updatedAt: p.updatedAt ?? now,
  }));
  if (entries.length === 0) return 0;
  await ctx.db.transaction(async (tx) => {
    await bulkInsert(
      tx,
      products,
      entries,
      sql`on conflict (shop_id, product_id) do update set title = excluded.title, handle = excluded.handle, url = excluded.url, image_url = excluded.image_url, price = excluded.price, category = excluded.category, available = excluded.available, status = excluded.status, replenish_days = coalesce(excluded.replenish_days, products.replenish_days), updated_at = excluded.updated_at`,
    );
    await bumpCatalogue(tx, ctx.shopId, now);
  });
  return entries.length;
}

/**
 * Deletes orders and their lines and subtracts what the counted ones contributed to the model, in the
 * caller's transaction (erasure, customers/redact). Returns how many orders were deleted.
 */
export async function deleteOrders(tx: Db, shopId: string, orderIds: readonly string[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  await lockModel(tx, shopId);
  const delta = new CountDelta();
  let deleted = 0;
  for (let i = 0; i < orderIds.length; i += 1000) {
    const chunk = orderIds.slice(i, i + 1000);
    const found = await tx
      .select({ orderId: orders.orderId, counted: orders.counted })
      .from(orders)
      .where(and(eq(orders.shopId, shopId), inArray(orders.orderId, chunk)));
    const lines = await tx
      .select({ orderId: orderLines.orderId, productId: orderLines.productId, quantity: orderLines.quantity })
      .from(orderLines)
      .where(and(eq(orderLines.shopId, shopId), inArray(orderLines.orderId, chunk)));
    const byOrder = new Map<string, string[]>();
    for (const l of lines) if (l.quantity > 0) byOrder.set(l.orderId, [...(byOrder.get(l.orderId) ?? []), l.productId]);
    for (const o of found) if (o.counted) delta.add(byOrder.get(o.orderId) ?? [], -1);
    await tx.delete(orderLines).where(and(eq(orderLines.shopId, shopId), inArray(orderLines.orderId, chunk)));
    await tx.delete(orders).where(and(eq(orders.shopId, shopId), inArray(orders.orderId, chunk)));
    deleted += found.length;
  }
  await persistDelta(tx, shopId, delta);
  // The logged changes name orders and customers: none is kept past an erasure (copies read the model again).
  await clearModelChanges(tx, shopId);
  // The fitted model learned from these orders too: it goes with them, and the next request fits anew.
  if (deleted > 0) await dropFit(tx, shopId);
  return deleted;
}
