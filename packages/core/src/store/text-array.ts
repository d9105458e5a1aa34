/**
 * A list of strings (or byte strings) as ONE bound parameter: an array literal cast to text[] (bytea[]), for
 * `= any(...)` or `unnest(...)`. The planner sees its values (an unnamed statement is planned with them), so it
 * knows how many rows there are and keeps index lookups even before a table has statistics; a JSON list expanded
 * in SQL is estimated at 100 rows whatever it holds.
 */
import { sql, type SQL } from 'drizzle-orm';

const quoted = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;

/** The array literal of these strings, for a cast to any array type (`::timestamptz[]`). */
export const arrayLiteral = (values: readonly string[]): string => `{${values.map(quoted).join(',')}}`;

export const textArray = (values: readonly string[]): SQL => sql`${arrayLiteral(values)}::text[]`;

export const byteaArray = (values: readonly Buffer[]): SQL =>
  sql`${`{${values.map((b) => `"\\\\x${b.toString('hex')}"`).join(',')}}`}::bytea[]`;
