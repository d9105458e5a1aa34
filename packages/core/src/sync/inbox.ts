/**
 * The inbox: webhook deliveries are stored durably (encrypted, deduplicated on the delivery id) before the
 * route answers, then processed here, claimed with `FOR UPDATE SKIP LOCKED` so several instances never
 * process the same delivery. A handler that fails leaves the row for a later attempt, with its error.
 *
 * A worker first claims whole shops: it locks the shops' head rows (`FOR UPDATE SKIP LOCKED`, the lock every
 * consent write takes first), then their deliveries. So two instances work on different shops at the same
 * time, one shop's deliveries are handled by one worker at a time and in the order received, and a batch
 * never deadlocks with another one (two workers handling deliveries of one shop in one long transaction
 * each took the shop head and the model's row in opposite orders).
 */
import { and, asc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { decrypt } from '../crypto/cipher.js';
import type { KeyRing } from '../store/keyring.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { InboundEvent, InboundMeta } from '../ports.js';
import type { Db } from '../store/open.js';
import { inbox, shops } from '../store/schema.js';
import { textArray } from '../store/text-array.js';

/**
 * Handles one delivery using `db`, a savepoint inside the claiming transaction: the handler's writes and the
 * delivery's "processed" mark commit together, and a failing handler rolls back only its own writes. A handler
 * may also handle many deliveries at once (`batch`).
 */
export type InboundHandler = ((
  event: InboundEvent,
  meta: InboundMeta & { shopId: string },
  db: Db,
) => Promise<void>) & { batch?: InboundBatch | undefined };

export interface InboundDelivery {
  event: InboundEvent;
  meta: InboundMeta & { shopId: string };
}

/**
 * Deliveries handled together, in one savepoint: the same end state as handling them one by one in arrival
 * order, in far fewer statements. A batch that throws is rolled back and its deliveries handled one at a time.
 */
export interface InboundBatch {
  /**
   * Whether a delivery may join a batch, and the people it names (any keys: an address, a system's id). A
   * `person` delivery (a customer, a consent fact) joins only when no delivery before it in the batch names one
   * of its people; an `order` always joins. Null: it is handled on its own, in its place.
   */
  join(event: InboundEvent): { phase: 'person' | 'order'; people: readonly string[] } | null;
  /** Handles deliveries of one shop and one system, in arrival order, all or nothing. */
  run(deliveries: readonly InboundDelivery[], db: Db): Promise<void>;
}

export interface InboxReport {
  processed: number;
  failed: number;
  /** Deliveries refused for good (e.g. a suppressed person without fresh opt-in): kept with their reason. */
  refused: number;
}

/** Errors that a retry cannot fix: the delivery is marked processed with the reason kept. */
const finalCodes = [
  'CONSENT.SUPPRESSED',
  'CONSENT.INVALID',
  'CONSENT.CONFLICT',
  'CONSENT.UNKNOWN_PURPOSE',
  'SUBJECT.NOT_FOUND',
  'PRIVACY.SHOP_INSTALLED',
];

/**
 * PostgreSQL's own error under a query error, if any. A data exception (SQLSTATE class 22: a NUL character in
 * text, a value out of range) fails the same way on every attempt, so the delivery is refused for good
 * instead of blocking the inbox for ten rounds.
 */
function databaseError(error: unknown): { code: string; message: string } | null {
  for (
    let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0;
    e && i < 5;
    e = e.cause as typeof e, i++
  ) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return { code: e.code, message: String(e.message) };
  }
  return null;
}

/** What is kept of a failure: the code and message, never a failed query's parameters (they may name a person). */
function reason(error: unknown): string {
  if (isTactfulError(error)) return `${error.code}: ${error.message}`;
  const db = databaseError(error);
  if (db) return `DATABASE.${db.code}: ${db.message}`;
  return error instanceof Error ? error.message : String(error);
}

export interface InboxOptions {
  /** How many deliveries one claim (one transaction) takes at most (default 100). */
  limit?: number | undefined;
  /** The engine's clock: when a delivery was processed. */
  now?: () => Date;
  maxAttempts?: number;
  /** Only this shop's deliveries (default: every shop's). */
  shopId?: string | undefined;
  /**
   * How long one claim may keep handling, in milliseconds of `clock`: once spent, the claim commits what it
   * handled and leaves the rest for the next claim, so other work (embedded PGlite runs one transaction at a
   * time: a webhook's acknowledgement) gets the database in between. At least one batch or delivery is handled
   * per claim. Default: no limit.
   */
  budgetMs?: number | undefined;
  /** What the budget is measured with (default: the process's monotonic clock, `performance.now`). */
  clock?: () => number;
  /** Handle deliveries in batches where the handler can (default true); false: one at a time. */
  batches?: boolean | undefined;
  /** The most deliveries one batch holds (default 500): smaller batches let the budget cut a claim finer. */
  batchSize?: number | undefined;
}

type ClaimedRow = typeof inbox.$inferSelect;
interface Item {
  row: ClaimedRow;
  delivery: InboundDelivery | null;
  /** Why the stored delivery could not be read (it is handled alone and fails with it). */
  unreadable: unknown;
}

const MAX_BATCH = 500;

function decodeEvent(text: string): InboundEvent {
  return JSON.parse(text, (key, value) =>
    typeof value === 'string' && /At$|^occurredAt$|^updatedAt$|^createdAt$/.test(key) && /^\d{4}-\d\d-\d\dT/.test(value)
      ? new Date(value)
      : value,
  ) as InboundEvent;
}

/**
 * Cuts one shop's claimed deliveries (in arrival order) into what is handled together: runs of deliveries the
 * handler can batch, of one system, where no customer or consent delivery follows another delivery naming the
 * same person; every other delivery alone, in its place.
 */
function plan(items: readonly Item[], batch: InboundBatch | undefined, batchSize: number): Item[][] {
  const units: Item[][] = [];
  let open: { items: Item[]; system: string; people: Set<string> } | null = null;
  for (const item of items) {
    const joins = batch && item.delivery ? batch.join(item.delivery.event) : null;
    if (!joins) {
      if (open) units.push(open.items);
      open = null;
      units.push([item]);
      continue;
    }
    if (
      !open ||
      open.system !== item.row.system ||
      open.items.length >= batchSize ||
      (joins.phase === 'person' && joins.people.some((p) => open?.people.has(p)))
    ) {
      if (open) units.push(open.items);
      open = { items: [], system: item.row.system, people: new Set() };
    }
    open.items.push(item);
    for (const p of joins.people) open.people.add(p);
  }
  if (open) units.push(open.items);
  return units;
}

/** Processes stored deliveries, claim after claim, until none is waiting or a claim leaves one failed. */
export async function processInbox(
  db: Db,
  keys: KeyRing,
  handle: InboundHandler,
  options: InboxOptions = {},
): Promise<InboxReport> {
  const report: InboxReport = { processed: 0, failed: 0, refused: 0 };
  for (;;) {
    const claim = await processInboxClaim(db, keys, handle, options);
    report.processed += claim.processed;
    report.failed += claim.failed;
    report.refused += claim.refused;
    if (claim.claimed === 0 || report.failed > 0) return report;
    // A turn of the event loop between claims: requests received meanwhile are read and their deliveries stored
    // first. Embedded PGlite runs on this thread, and its statements settle without one, so claim after claim
    // would otherwise hold every webhook's acknowledgement until the whole backlog was processed.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/**
 * One claim, in one transaction: locks the waiting shops and up to `limit` of their deliveries, handles them
 * (in batches where the handler can, within `budgetMs`) and marks them. `claimed` counts the rows locked;
 * those not handled within the budget are left as they were.
 */
export async function processInboxClaim(
  db: Db,
  keys: KeyRing,
  handle: InboundHandler,
  options: InboxOptions = {},
): Promise<InboxReport & { claimed: number }> {
  const now = options.now ?? (() => new Date());
  const clock = options.clock ?? (() => performance.now());
  const budgetMs = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const report: InboxReport & { claimed: number } = { processed: 0, failed: 0, refused: 0, claimed: 0 };
  const maxAttempts = options.maxAttempts ?? 10;
  const batch = options.batches === false ? undefined : handle.batch;
  await db.transaction(async (tx) => {
    const conditions = [isNull(inbox.processedAt), lte(inbox.attempts, maxAttempts - 1)];
    if (options.shopId) conditions.push(eq(inbox.shopId, options.shopId));
    // The shops whose oldest waiting delivery is oldest come first, so no shop waits behind busier ones.
    const waiting = await tx
      .select({ shopId: inbox.shopId })
      .from(inbox)
      .where(and(...conditions))
      .groupBy(inbox.shopId)
      .orderBy(sql`min(${inbox.receivedAt})`)
      .limit(100);
    if (waiting.length === 0) return;
    const held = await tx
      .select({ shopId: shops.shopId })
      .from(shops)
      .where(
        inArray(
          shops.shopId,
          waiting.map((w) => w.shopId),
        ),
      )
      .orderBy(asc(shops.shopId))
      .for('update', { skipLocked: true });
    if (held.length === 0) return;
    conditions.push(
      inArray(
        inbox.shopId,
        held.map((h) => h.shopId),
      ),
    );
    const started = clock();
    const rows = await tx
      .select()
      .from(inbox)
      .where(and(...conditions))
      .orderBy(asc(inbox.receivedAt))
      .limit(options.limit ?? 100)
      .for('update', { skipLocked: true });
    report.claimed = rows.length;
    // Each shop's deliveries in arrival order; shops one after another.
    const byShop = new Map<string, Item[]>();
    for (const row of rows) {
      let item: Item;
      try {
        const shopKeys = await keys.shop(tx, row.shopId);
        const text = decrypt(
          shopKeys.shopKey,
          row.payloadEnc!,
          `inbox:${row.shopId}:${row.system}:${row.deliveryId}`,
        ).toString('utf8');
        const meta = {
          shopId: row.shopId,
          system: row.system,
          deliveryId: row.deliveryId,
          receivedAt: row.receivedAt,
          topic: row.topic,
        };
        item = { row, delivery: { event: decodeEvent(text), meta }, unreadable: null };
      } catch (e) {
        item = { row, delivery: null, unreadable: e ?? new Error('unreadable delivery') };
      }
      const list = byShop.get(row.shopId);
      if (list) list.push(item);
      else byShop.set(row.shopId, [item]);
    }
    const results: Array<{ row: ClaimedRow; error: unknown }> = [];
    const one = async (item: Item) => {
      let error: unknown = item.unreadable;
      if (item.delivery) {
        const { event, meta } = item.delivery;
        try {
          await tx.transaction((savepoint) => handle(event, meta, savepoint as unknown as Db));
        } catch (e) {
          error = e ?? new Error('the handler failed');
        }
      }
      results.push({ row: item.row, error });
    };
    let handled = 0;
    units: for (const items of byShop.values()) {
      for (const unit of plan(items, batch, Math.max(1, options.batchSize ?? MAX_BATCH))) {
        if (handled > 0 && clock() - started >= budgetMs) break units;
        handled += 1;
        if (unit.length === 1 || !batch) {
          for (const item of unit) await one(item);
          continue;
        }
        try {
          await tx.transaction((savepoint) =>
            batch.run(
              unit.map((item) => item.delivery!),
              savepoint as unknown as Db,
            ),
          );
          for (const item of unit) results.push({ row: item.row, error: null });
        } catch {
          // Rolled back: one at a time, so a delivery that cannot be handled fails (or is refused) alone.
          for (const item of unit) await one(item);
        }
      }
    }
    const at = now();
    const done = new Map<string, { shopId: string; system: string; ids: string[] }>();
    for (const { row, error } of results) {
      if (!error) {
        const k = `${row.shopId}\u0000${row.system}`;
        const group = done.get(k) ?? { shopId: row.shopId, system: row.system, ids: [] };
        group.ids.push(row.deliveryId);
        done.set(k, group);
        report.processed += 1;
        continue;
      }
      const where = and(
        eq(inbox.shopId, row.shopId),
        eq(inbox.system, row.system),
        eq(inbox.deliveryId, row.deliveryId),
      );
      const final =
        (isTactfulError(error) && finalCodes.includes(error.code)) || databaseError(error)?.code.startsWith('22');
      if (final) {
        // The payload may name a person: it is cleared once processed.
        await tx
          .update(inbox)
          .set({ processedAt: at, payloadEnc: null, lastError: reason(error), attempts: sql`${inbox.attempts} + 1` })
          .where(where);
        report.refused += 1;
      } else {
        await tx
          .update(inbox)
          .set({ attempts: sql`${inbox.attempts} + 1`, lastError: reason(error) })
          .where(where);
        report.failed += 1;
      }
    }
    // Every delivery handled without error, marked with one statement per shop and system.
    for (const { shopId, system, ids } of done.values()) {
      for (let i = 0; i < ids.length; i += 1000) {
        await tx
          .update(inbox)
          .set({ processedAt: at, payloadEnc: null, lastError: null, attempts: sql`${inbox.attempts} + 1` })
          .where(
            // The ids as one array parameter: a thousand bound values cost the query builder more than the update.
            and(
              eq(inbox.shopId, shopId),
              eq(inbox.system, system),
              sql`${inbox.deliveryId} = any(${textArray(ids.slice(i, i + 1000))})`,
            ),
          );
      }
    }
  });
  return report;
}
