import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './open.js';

/**
 * Inserts many rows with ONE bound parameter: the rows as a JSON array, expanded by PostgreSQL's
 * `jsonb_populate_recordset`. The same statement runs on PGlite and PostgreSQL, needs no per-value
 * placeholders (no 65 535-parameter ceiling) and skips the query builder's per-value work, which dominated
 * the ingest profile. Buffers travel as bytea hex (`\x…`), Dates as ISO strings.
 */
export async function bulkInsert<T extends PgTable>(
  tx: Db,
  table: T,
  rows: ReadonlyArray<T['$inferInsert']>,
  onConflict?: SQL,
): Promise<void> {
  const query = bulkInsertQuery(table, rows, onConflict);
  if (query) await tx.execute(query);
}

/** The statement `bulkInsert` runs, to run later or inside a larger one (a `with` of several); null for no rows. */
export function bulkInsertQuery<T extends PgTable>(
  table: T,
  rows: ReadonlyArray<T['$inferInsert']>,
  onConflict?: SQL,
): SQL | null {
  if (rows.length === 0) return null;
  const columns = getTableColumns(table);
  const present = Object.keys(columns).filter((prop) =>
    rows.some((r) => (r as Record<string, unknown>)[prop] !== undefined),
  );
  const names = present.map((prop) => columns[prop]!.name);
  const json = JSON.stringify(
    rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < present.length; i++) {
        const value = (row as Record<string, unknown>)[present[i]!];
        out[names[i]!] = Buffer.isBuffer(value)
          ? `\\x${value.toString('hex')}`
          : value instanceof Date
            ? value.toISOString()
            : value;
      }
      return out;
    }),
  );
  const tableName = getTableName(table);
  const list = sql.raw(names.map((n) => `"${n}"`).join(', '));
  const tableId = sql.raw(`"${tableName}"`);
  return sql`insert into ${tableId} (${list}) select ${list} from jsonb_populate_recordset(null::${tableId}, ${json}::jsonb) ${onConflict ?? sql``}`;
}
