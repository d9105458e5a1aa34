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

/**
 * Handles one delivery using `db`, a savepoint inside the claiming transaction: the handler's writes and the
 * delivery's "processed" mark commit together, and a failing handler rolls back only its own writes.
 */
export type InboundHandler = (event: InboundEvent, meta: InboundMeta & { shopId: string }, db: Db) => Promise<void>;

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

export async function processInbox(
  db: Db,
  keys: KeyRing,
  handle: InboundHandler,
  options: { limit?: number; now?: () => Date; maxAttempts?: number; shopId?: string } = {},
): Promise<InboxReport> {
  const now = options.now ?? (() => new Date());
  const report: InboxReport = { processed: 0, failed: 0, refused: 0 };
  const maxAttempts = options.maxAttempts ?? 10;
  for (;;) {
    const batch = await db.transaction(async (tx) => {
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
      if (waiting.length === 0) return 0;
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
      if (held.length === 0) return 0;
      conditions.push(
        inArray(
          inbox.shopId,
          held.map((h) => h.shopId),
        ),
      );
      const rows = await tx
        .select()
        .from(inbox)
        .where(and(...conditions))
        .orderBy(asc(inbox.receivedAt))
        .limit(options.limit ?? 100)
        .for('update', { skipLocked: true });
      const results: Array<{ row: (typeof rows)[number]; error: unknown }> = [];
      for (const row of rows) {
        let error: unknown = null;
        try {
          const shopKeys = await keys.shop(tx, row.shopId);
          const event = JSON.parse(
            decrypt(shopKeys.shopKey, row.payloadEnc!, `inbox:${row.shopId}:${row.system}:${row.deliveryId}`).toString(
              'utf8',
            ),
            (key, value) =>
              typeof value === 'string' &&
              /At$|^occurredAt$|^updatedAt$|^createdAt$/.test(key) &&
              /^\d{4}-\d\d-\d\dT/.test(value)
                ? new Date(value)
                : value,
          ) as InboundEvent;
          await tx.transaction((savepoint) =>
            handle(
              event,
              {
                shopId: row.shopId,
                system: row.system,
                deliveryId: row.deliveryId,
                receivedAt: row.receivedAt,
                topic: row.topic,
              },
              savepoint as unknown as Db,
            ),
          );
        } catch (e) {
          error = e;
        }
        results.push({ row, error });
      }
      for (const { row, error } of results) {
        const where = and(
          eq(inbox.shopId, row.shopId),
          eq(inbox.system, row.system),
          eq(inbox.deliveryId, row.deliveryId),
        );
        const final =
          error &&
          ((isTactfulError(error) && finalCodes.includes(error.code)) || databaseError(error)?.code.startsWith('22'));
        if (!error || final) {
          // The payload may name a person: it is cleared once processed.
          await tx
            .update(inbox)
            .set({
              processedAt: now(),
              payloadEnc: null,
              lastError: final ? reason(error) : null,
              attempts: sql`${inbox.attempts} + 1`,
            })
            .where(where);
          if (final) report.refused += 1;
          else report.processed += 1;
        } else {
          await tx
            .update(inbox)
            .set({ attempts: sql`${inbox.attempts} + 1`, lastError: reason(error) })
            .where(where);
          report.failed += 1;
        }
      }
      return rows.length;
    });
    if (batch === 0 || report.failed > 0) return report;
  }
}
