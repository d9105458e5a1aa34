import type { KeyRing } from '../store/keyring.js';
import { emailsOf } from '../profile/subjects.js';
import type { Db } from '../store/open.js';
import { readAudit, type AuditQuery, type AuditRow } from '../audit/log.js';

export type AuditExportFormat = 'csv' | 'jsonl';

export const auditCsvColumns = [
  'seq',
  'at',
  'action',
  'actor_type',
  'actor_id',
  'subject_id',
  'email',
  'details',
  'row_hash',
] as const;

/**
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. A value a spreadsheet would
 * run as a formula (it starts with = + - @, a tab or a CR — `=1+1@example.com` is a valid email address) gets a
 * leading apostrophe (OWASP CSV injection); the JSON Lines export keeps every value exactly.
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export interface ExportedAuditEntry {
  seq: number;
  at: string;
  action: string;
  actor: { type: string; id: string };
  subjectId: string | null;
  /** The subject's email while their key exists; null after erasure. */
  email: string | null;
  details: Record<string, unknown>;
  rowHash: string;
}

/**
 * Streams the shop's audit log as CSV or JSON Lines, filtered by subject and time range, a page at a time.
 * The email column is decrypted for subjects that still exist; erased subjects show only their id.
 */
export async function* exportAudit(
  db: Db,
  keys: KeyRing,
  shopId: string,
  format: AuditExportFormat,
  query: AuditQuery = {},
): AsyncGenerator<string> {
  if (format === 'csv') yield `${auditCsvColumns.join(',')}\r\n`;
  const page: AuditRow[] = [];
  const flush = async function* () {
    const ids = [...new Set(page.map((r) => r.subjectId).filter((id): id is string => id !== null))];
    const emails = await emailsOf(db, keys, shopId, ids);
    for (const row of page) {
      const entry: ExportedAuditEntry = {
        seq: row.seq,
        at: row.at.toISOString(),
        action: row.action,
        actor: { type: row.actorType, id: row.actorId },
        subjectId: row.subjectId,
        email: row.subjectId ? (emails.get(row.subjectId) ?? null) : null,
        details: row.details,
        rowHash: row.rowHash,
      };
      if (format === 'jsonl') yield `${JSON.stringify(entry)}\n`;
      else
        yield `${[
          String(entry.seq),
          entry.at,
          entry.action,
          entry.actor.type,
          entry.actor.id,
          entry.subjectId ?? '',
          entry.email ?? '',
          JSON.stringify(entry.details),
          entry.rowHash,
        ]
          .map(csvField)
          .join(',')}\r\n`;
    }
    page.length = 0;
  };
  for await (const row of readAudit(db, shopId, query)) {
    page.push(row);
    if (page.length >= 500) yield* flush();
  }
  yield* flush();
}
