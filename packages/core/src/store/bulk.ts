import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Db } from './open.js';

/**
 * Inserts many rows with few bound parameters: the rows as ONE JSON array of positional arrays, expanded by
 * PostgreSQL's `jsonb_array_elements`, each element cast to its column's type. The same statement runs on
 * PGlite and PostgreSQL, needs no per-value placeholders (no 65 535-parameter ceiling) and skips the query
 * builder's per-value work, which dominated the ingest profile. A column with the same plain value in every
 * row (the shop, a batch's clock) is bound once instead of repeated in every row, and no row repeats the
 * column names: the JSON is about half the size an array of objects was, on the wire and for the server to
 * parse. Buffers travel as bytea hex (`\x…`), Dates as ISO strings.
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

/** A JSON value for one cell: Buffers as bytea hex, Dates as ISO strings, undefined as null. */
function cell(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  return value;
}

/** The one plain value (string, number, boolean, null, or a Date as ISO) a column has in every row; else undefined. */
function sharedValue(rows: ReadonlyArray<Record<string, unknown>>, prop: string, column: PgColumn): unknown {
  if (column.dataType === 'json') return undefined; // a JSON value is not bound as text
  const head = rows[0]![prop];
  const first = head instanceof Date ? head.toISOString() : (head ?? null);
  if (first !== null && typeof first === 'object') return undefined; // Buffers and objects travel per row
  const time = head instanceof Date ? head.getTime() : Number.NaN;
  for (let i = 1; i < rows.length; i++) {
    const v = rows[i]![prop];
    if (v instanceof Date ? v.getTime() !== time : (v ?? null) !== first) return undefined;
  }
  return first;
}

/** The statement `bulkInsert` runs, to run later or inside a larger one (a `with` of several); null for no rows. */
export function bulkInsertQuery<T extends PgTable>(
  table: T,
  rows: ReadonlyArray<T['$inferInsert']>,
  onConflict?: SQL,
): SQL | null {
  if (rows.length === 0) return null;
  const records = rows as ReadonlyArray<Record<string, unknown>>;
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const present = Object.keys(columns).filter((prop) => records.some((r) => r[prop] !== undefined));
  const varying: string[] = [];
  const select: SQL[] = [];
  for (const prop of present) {
    const column = columns[prop]!;
    const type = sql.raw(column.getSQLType());
    const shared = records.length > 1 ? sharedValue(records, prop, column) : undefined;
    if (shared !== undefined) {
      select.push(shared === null ? sql`null::${type}` : sql`${String(shared)}::${type}`);
      continue;
    }
    const at = sql.raw(String(varying.length));
    varying.push(prop);
    select.push(column.dataType === 'json' ? sql`r.v->${at}` : sql`(r.v->>${at})::${type}`);
  }
  const json = JSON.stringify(
    records.map((row) => {
      const out = new Array<unknown>(varying.length);
      for (let i = 0; i < varying.length; i++) out[i] = cell(row[varying[i]!]);
      return out;
    }),
  );
  const tableId = sql.raw(`"${getTableName(table)}"`);
  const list = sql.raw(present.map((prop) => `"${columns[prop]!.name}"`).join(', '));
  return sql`insert into ${tableId} (${list}) select ${sql.join(select, sql`, `)} from jsonb_array_elements(${json}::jsonb) as r(v) ${onConflict ?? sql``}`;
}
