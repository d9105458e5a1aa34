import { and, asc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { auditLog } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { canonical, chainHashOfText, GENESIS, verifyPaged, type ChainVerification } from './chain.js';
import { shops } from '../store/schema.js';
import { bulkInsert } from '../store/bulk.js';

/** What happened, in the vocabulary of the audit log. */
export const auditActions = [
  'subject.registered',
  'subject.email_changed',
  'subject.email_change_refused',
  'subject.identity_conflict',
  'subject.merged',
  'consent.recorded',
  'consent.opt_in_requested',
  'consent.opt_in_confirmed',
  'consent.unsubscribed',
  'consent.refused',
  'purpose.defined',
  'purpose.version_recorded',
  'profile.changed',
  'profile.purged',
  'data.exported',
  'subject.viewed',
  'subject.erased',
  'shop.erased',
  'sync.delivered',
  'sync.dead_lettered',
  'campaign.sent',
  'campaign.test_sent',
  'flow.sent',
  'flow.changed',
  'admin.action',
  'settings.changed',
  'merchandising.changed',
  'connection.changed',
  'segment.saved',
  'segment.deleted',
] as const;
export type AuditAction = (typeof auditActions)[number];

export interface Actor {
  type: 'system' | 'customer' | 'admin' | 'cli' | 'api' | 'webhook';
  id: string;
}

export interface AuditEntryInput {
  action: AuditAction;
  actor: Actor;
  subjectId?: string | null;
  /** Non-personal details only: purpose, state, counts, request ids. Never an email, a name or an IP. */
  details?: Record<string, unknown>;
  at: Date;
}

export interface AuditRow {
  shopId: string;
  seq: number;
  at: Date;
  action: string;
  actorType: string;
  actorId: string;
  subjectId: string | null;
  details: Record<string, unknown>;
  prevHash: string;
  rowHash: string;
}

export function auditContent(row: Omit<AuditRow, 'prevHash' | 'rowHash'>): unknown {
  return {
    shopId: row.shopId,
    seq: row.seq,
    at: row.at,
    action: row.action,
    actorType: row.actorType,
    actorId: row.actorId,
    subjectId: row.subjectId,
    details: row.details,
  };
}

/**
 * `canonical(auditContent(row))`, built for the entry's fixed shape (every entry of a consent batch is hashed):
 * the keys in their sorted order without sorting them each time. Any field left undefined, which `canonical`
 * leaves out, takes the general path.
 */
export function canonicalAuditContent(row: Omit<AuditRow, 'prevHash' | 'rowHash'>): string {
  const { shopId, seq, at, action, actorType, actorId, subjectId, details } = row;
  if ([shopId, seq, at, action, actorType, actorId, subjectId, details].includes(undefined as never))
    return canonical(auditContent(row));
  const c = canonical;
  return `{"action":${c(action)},"actorId":${c(actorId)},"actorType":${c(actorType)},"at":${c(at)},"details":${c(details)},"seq":${c(seq)},"shopId":${c(shopId)},"subjectId":${c(subjectId)}}`;
}

/** Builds the next chained entry and advances the head; the caller inserts it in the same transaction. */
export function nextAuditRow(shopId: string, head: ShopHead, entry: AuditEntryInput): AuditRow {
  const base = {
    shopId,
    seq: head.auditSeq + 1,
    at: entry.at,
    action: entry.action,
    actorType: entry.actor.type,
    actorId: entry.actor.id,
    subjectId: entry.subjectId ?? null,
    details: entry.details ?? {},
  };
  const prevHash = head.auditSeq === 0 ? GENESIS : head.auditHead;
  const row: AuditRow = { ...base, prevHash, rowHash: chainHashOfText(prevHash, canonicalAuditContent(base)) };
  head.auditSeq = row.seq;
  head.auditHead = row.rowHash;
  head.dirty = true;
  return row;
}

export async function insertAuditRows(tx: Db, rows: AuditRow[]): Promise<void> {
  await bulkInsert(tx, auditLog, rows);
}

/** Appends one entry inside the caller's transaction, which holds the shop head lock. */
export async function appendAudit(tx: Db, shopId: string, head: ShopHead, entry: AuditEntryInput): Promise<AuditRow> {
  const row = nextAuditRow(shopId, head, entry);
  await insertAuditRows(tx, [row]);
  return row;
}

export interface AuditQuery {
  subjectId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  action?: string | undefined;
}

/** Reads the shop's audit entries in order, a page at a time, so an export streams. */
export async function* readAudit(
  db: Db,
  shopId: string,
  query: AuditQuery = {},
  pageSize = 1000,
): AsyncGenerator<AuditRow> {
  let after = 0;
  for (;;) {
    const conditions: SQL[] = [eq(auditLog.shopId, shopId), gte(auditLog.seq, after + 1)];
    if (query.subjectId) conditions.push(eq(auditLog.subjectId, query.subjectId));
    if (query.since) conditions.push(gte(auditLog.at, query.since));
    if (query.until) conditions.push(lte(auditLog.at, query.until));
    if (query.action) conditions.push(eq(auditLog.action, query.action));
    const page = (await db
      .select()
      .from(auditLog)
      .where(and(...conditions))
      .orderBy(asc(auditLog.seq))
      .limit(pageSize)) as AuditRow[];
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = page[page.length - 1]!.seq;
  }
}

/** Walks the shop's audit log and finds the first edited, inserted, deleted or cut entry. */
export async function verifyAudit(db: Db, shopId: string, pageSize = 5000): Promise<ChainVerification> {
  const [shop] = await db
    .select({ seq: shops.auditSeq, hash: shops.auditHead })
    .from(shops)
    .where(eq(shops.shopId, shopId));
  return verifyPaged(
    async (after) =>
      (await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.shopId, shopId), gte(auditLog.seq, after + 1)))
        .orderBy(asc(auditLog.seq))
        .limit(pageSize)) as AuditRow[],
    (row) => auditContent(row),
    { seq: shop?.seq ?? 0, hash: shop?.hash ?? '' },
    pageSize,
  );
}
