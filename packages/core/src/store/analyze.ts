import { sql } from 'drizzle-orm';
import { rows, type Db } from './open.js';

/** A table is analysed again once it has grown by this share of its size at the last analysis. */
const GROWTH = 0.5;
/** …and by at least this many pages (8 KiB each), so small tables are not analysed on every write. */
const MIN_PAGES = 8;

/**
 * Gathers planner statistics for the tables a bulk write grew. PGlite never analyses a table (it runs no
 * autovacuum) and PostgreSQL's autovacuum can lag a bulk import: without statistics the planner guesses, and
 * joins over orders chose plans that took seconds at 10 000 customers. A table is analysed when it never was
 * or when its size on disk grew by half since (the page count ANALYZE records), so an import of n orders
 * analyses each table O(log n) times. The check reads the system catalogue only. Returns the tables analysed.
 */
export async function analyzeGrown(db: Db, tables: readonly string[]): Promise<string[]> {
  const found = await rows<{ name: string; pages: number; analysed: number; tuples: number }>(
    db,
    sql`select c.relname as name,
               (pg_relation_size(c.oid) / current_setting('block_size')::int)::float8 as pages,
               c.relpages::float8 as analysed, c.reltuples::float8 as tuples
        from pg_class c
        where c.oid in (select to_regclass(t) from jsonb_array_elements_text(${JSON.stringify(tables)}::jsonb) t)`,
  );
  const stale = found
    .filter((t) => {
      const pages = Number(t.pages);
      // reltuples is −1 until a table is first analysed (or vacuumed).
      if (Number(t.tuples) < 0) return pages > 0;
      return pages > Number(t.analysed) * (1 + GROWTH) + MIN_PAGES;
    })
    .map((t) => t.name)
    .sort();
  // Names come from the catalogue, quoted as identifiers.
  if (stale.length > 0)
    await db.execute(sql.raw(`analyze ${stale.map((n) => `"${n.replace(/"/g, '""')}"`).join(', ')}`));
  return stale;
}

/**
 * Runs `work` inside transaction `tx` with nested-loop joins off, then puts the setting back as it was: a caller's
 * transaction that `tx` is a savepoint of plans its later statements as before (a `SET LOCAL` would outlive the
 * savepoint). For a statement over all of a shop's rows: statistics that have not seen the shop yet (a new shop on
 * a database many shops share, or any shop right after its import) make the planner take it for one row and
 * choose a nested loop, which at the shop's real size repeats the inner side once per row.
 */
export async function withHashJoins<T>(tx: Db, work: () => Promise<T>): Promise<T> {
  const [before] = await rows<{ setting: string }>(tx, sql`select current_setting('enable_nestloop') as setting`);
  await tx.execute(sql`select set_config('enable_nestloop', 'off', true)`);
  const result = await work();
  await tx.execute(sql`select set_config('enable_nestloop', ${before!.setting}, true)`);
  return result;
}
