import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Db } from '../store/open.js';
import { schema } from '../store/schema.js';

/**
 * Deletes every row of a shop from every table (Shopify's `shop/redact`, 48 hours after uninstall): the
 * shop's key goes with its `shops` row, so whatever a backup still holds of it can no longer be decrypted.
 * Every table carries `shop_id`; a table added without it fails the test that walks the schema.
 */
export async function eraseShop(tx: Db, shopId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const tables = Object.values(schema) as PgTable[];
  for (const table of tables) {
    const name = getTableName(table);
    if (name === 'shops') continue;
    if (!('shopId' in getTableColumns(table))) throw new Error(`table ${name} has no shop_id`);
    const result = (await tx.execute(
      sql`delete from ${sql.raw(`"${name}"`)} where shop_id = ${shopId}`,
    )) as unknown as { rowCount?: number; affectedRows?: number };
    counts[name] = Number(result.rowCount ?? result.affectedRows ?? 0);
  }
  const result = (await tx.execute(sql`delete from shops where shop_id = ${shopId}`)) as unknown as {
    rowCount?: number;
    affectedRows?: number;
  };
  counts.shops = Number(result.rowCount ?? result.affectedRows ?? 0);
  return counts;
}
