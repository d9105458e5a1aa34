/**
 * A list of strings as ONE bound parameter: an array literal cast to text[], for `= any(...)` or `unnest(...)`.
 * The planner sees its values (an unnamed statement is planned with them), so it knows how many rows there are
 * and keeps index lookups even before a table has statistics; a JSON list expanded in SQL is estimated at 100
 * rows whatever it holds. (consent/batch-reads.ts has the same helper beside its bytea twin.)
 */
import { sql, type SQL } from 'drizzle-orm';

const quoted = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;

export const textArray = (values: readonly string[]): SQL => sql`${`{${values.map(quoted).join(',')}}`}::text[]`;
