import { and, asc, eq, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { decrypt, encrypt } from '../crypto/cipher.js';
import type { KeyRing, ShopKeys } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { outbox } from '../store/schema.js';
import { bulkInsertQuery } from '../store/bulk.js';

/**
 * The outbox: every change another system must learn of is written in the same transaction as the change
 * itself, so a crash can never lose it. Payloads may name a person, so they are encrypted under the shop key
 * and cleared once delivered.
 */
export interface OutboxItem<P = Record<string, unknown>> {
  shopId: string;
  id: number;
  target: string;
  kind: string;
  subjectId: string | null;
  payload: P;
  attempts: number;
}

export interface EnqueueInput {
  target: string;
  kind: string;
  subjectId?: string | null;
  payload: Record<string, unknown>;
}

export async function enqueue(tx: Db, keys: KeyRing, shopId: string, items: EnqueueInput[], now: Date): Promise<void> {
  if (items.length === 0) return;
  const query = enqueueQuery(await keys.shop(tx, shopId), shopId, items, now);
  if (query) await tx.execute(query);
}

/**
 * The insert `enqueue` runs, for a caller that writes it together with its other rows in one statement. The
 * rows get their ids in the order of `items`: a person's changes to one target are delivered in that order.
 */
export function enqueueQuery(shopKeys: ShopKeys, shopId: string, items: EnqueueInput[], now: Date): SQL | null {
  return bulkInsertQuery(
    outbox,
    items.map((item) => ({
      shopId,
      target: item.target,
      kind: item.kind,
      subjectId: item.subjectId ?? null,
      payloadEnc: encrypt(
        shopKeys.shopKey,
        JSON.stringify(item.payload),
        `outbox:${shopId}:${item.target}:${item.kind}`,
      ),
      nextAttemptAt: now,
      createdAt: now,
    })),
  );
}

/**
 * Claims up to `limit` due rows with `FOR UPDATE SKIP LOCKED`: two instances never claim the same row. A
 * claimed row gets a lease (its next attempt moves to `now + leaseMs`); if the instance dies before it
 * records the outcome, the row is due again when the lease runs out, and is delivered then.
 *
 * A person's changes reach each system one at a time, in the order they were made: a row is not claimed while
 * an earlier row for the same person and target is still pending (in flight under another lease, or waiting
 * out a retry). Otherwise a withdrawal retried after a rate limit would land after the address change that
 * followed it, on the old address, and leave the person subscribed at the new one.
 */
export async function claimDue(
  db: Db,
  keys: KeyRing,
  options: { limit: number; now: Date; leaseMs: number; targets?: string[]; shopId?: string },
): Promise<OutboxItem[]> {
  const claimed = await db.transaction(async (tx) => {
    const conditions = [eq(outbox.status, 'pending'), lte(outbox.nextAttemptAt, options.now)];
    if (options.targets) conditions.push(inArray(outbox.target, options.targets));
    if (options.shopId) conditions.push(eq(outbox.shopId, options.shopId));
    // A person's changes go out one at a time, in order: a row is due only when it is the person's first pending
    // row for its system. Asked as "is this row the smallest pending id of its person and system", the check is
    // an index probe per row (outbox_pending_subject) whatever the planner knows; asked as NOT EXISTS, a planner
    // without statistics (PGlite never gathers them) joined every pending row with every other: 6 000 pending rows
    // took 92 s a claim. A row that names no person waits for nobody.
    const earlier = alias(outbox, 'earlier');
    conditions.push(
      or(
        isNull(outbox.subjectId),
        eq(
          outbox.id,
          tx
            .select({ first: sql`min(${earlier.id})` })
            .from(earlier)
            .where(
              and(
                eq(earlier.shopId, outbox.shopId),
                eq(earlier.target, outbox.target),
                eq(earlier.subjectId, outbox.subjectId),
                eq(earlier.status, 'pending'),
              ),
            ),
        ),
      )!,
    );
    const due = await tx
      .select({ shopId: outbox.shopId, id: outbox.id })
      .from(outbox)
      .where(and(...conditions))
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.id))
      .limit(options.limit)
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    const leaseUntil = new Date(options.now.getTime() + options.leaseMs);
    const out = [];
    for (const [shopId, ids] of groupBy(due, (r) => r.shopId)) {
      const rows = await tx
        .update(outbox)
        .set({ nextAttemptAt: leaseUntil, attempts: sql`${outbox.attempts} + 1` })
        .where(
          and(
            eq(outbox.shopId, shopId),
            inArray(
              outbox.id,
              ids.map((r) => r.id),
            ),
          ),
        )
        .returning();
      for (const row of rows) out.push(row);
    }
    return out;
  });
  const items: OutboxItem[] = [];
  for (const row of claimed.sort((a, b) => a.id - b.id)) {
    try {
      const shopKeys = await keys.shop(db, row.shopId);
      const payload = row.payloadEnc
        ? (JSON.parse(
            decrypt(shopKeys.shopKey, row.payloadEnc, `outbox:${row.shopId}:${row.target}:${row.kind}`).toString(
              'utf8',
            ),
          ) as Record<string, unknown>)
        : {};
      items.push({
        shopId: row.shopId,
        id: row.id,
        target: row.target,
        kind: row.kind,
        subjectId: row.subjectId,
        payload,
        attempts: row.attempts,
      });
    } catch (error) {
      // A row this instance cannot read (another master secret) must not block the others.
      await markDead(db, row, `cannot read the payload: ${(error as Error).message}`);
    }
  }
  return items;
}

export async function markDelivered(db: Db, item: Pick<OutboxItem, 'shopId' | 'id'>, now: Date): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'done', deliveredAt: now, payloadEnc: null, lastError: null })
    .where(and(eq(outbox.shopId, item.shopId), eq(outbox.id, item.id)));
}

export async function markRetry(
  db: Db,
  item: Pick<OutboxItem, 'shopId' | 'id'>,
  at: Date,
  error: string,
): Promise<void> {
  await db
    .update(outbox)
    .set({ nextAttemptAt: at, lastError: error })
    .where(and(eq(outbox.shopId, item.shopId), eq(outbox.id, item.id)));
}

export async function markDead(db: Db, item: Pick<OutboxItem, 'shopId' | 'id'>, error: string): Promise<void> {
  await db
    .update(outbox)
    .set({ status: 'dead', lastError: error })
    .where(and(eq(outbox.shopId, item.shopId), eq(outbox.id, item.id)));
}

export interface OutboxCounts {
  pending: number;
  done: number;
  dead: number;
}

export async function outboxCounts(db: Db, shopId?: string): Promise<OutboxCounts> {
  const found = await db
    .select({ status: outbox.status, n: sql<number>`count(*)::int` })
    .from(outbox)
    .where(shopId ? eq(outbox.shopId, shopId) : undefined)
    .groupBy(outbox.status);
  const counts: OutboxCounts = { pending: 0, done: 0, dead: 0 };
  for (const row of found) if (row.status in counts) counts[row.status as keyof OutboxCounts] = Number(row.n);
  return counts;
}

function groupBy<T, K>(items: T[], key: (item: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
