import { and, count, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { auditLog } from '../store/schema.js';
import type { AuditQuery, AuditRow } from './log.js';

/** An audit entry as an admin page shows it: the stored row without its chain hashes. */
export type AuditRowView = Omit<AuditRow, 'shopId' | 'prevHash' | 'rowHash'>;

/** One page of the shop's audit log, newest first, with the number of entries the filter matches. */
export async function auditPage(
  db: Db,
  shopId: string,
  filter: AuditQuery,
  page: { limit: number; offset: number },
): Promise<{ rows: AuditRowView[]; total: number }> {
  const conditions: SQL[] = [eq(auditLog.shopId, shopId)];
  if (filter.action) conditions.push(eq(auditLog.action, filter.action));
  if (filter.subjectId) conditions.push(eq(auditLog.subjectId, filter.subjectId));
  if (filter.since) conditions.push(gte(auditLog.at, filter.since));
  if (filter.until) conditions.push(lte(auditLog.at, filter.until));
  const where = and(...conditions);
  const [total] = await db.select({ n: count() }).from(auditLog).where(where);
  const rows = await db
    .select({
      seq: auditLog.seq,
      at: auditLog.at,
      action: auditLog.action,
      actorType: auditLog.actorType,
      actorId: auditLog.actorId,
      subjectId: auditLog.subjectId,
      details: auditLog.details,
    })
    .from(auditLog)
    .where(where)
    .orderBy(desc(auditLog.seq))
    .limit(Math.max(0, Math.trunc(page.limit)))
    .offset(Math.max(0, Math.trunc(page.offset)));
  return {
    total: Number(total?.n ?? 0),
    rows: rows.map((r) => ({ ...r, seq: Number(r.seq), details: r.details as Record<string, unknown> })),
  };
}
