/**
 * The catalogue kept in memory is trusted while the shop's catalogue revision stays the same, so every write to
 * `products` must bump it: a module that writes the table without calling `bumpCatalogue` fails here.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shippedSources } from '../../../../test/support/source-files.js';

const src = fileURLToPath(new URL('../', import.meta.url));

/** A write to the products table: through the query builder, the bulk helpers or SQL text. */
const writesProducts = [
  /\.(?:insert|update|delete)\(\s*products\s*\)/,
  /\bbulkInsert\(\s*[\w.]+,\s*products\b/,
  /\bbulkInsertQuery\(\s*products\b/,
  /\b(?:insert\s+into|update|delete\s+from)\s+"?products"?[\s(]/i,
];

describe('the catalogue revision', () => {
  it('the rule sees each way of writing the table', () => {
    const hit = (text: string) => writesProducts.some((re) => re.test(text));
    expect(hit('await tx.update(products).set({ title })')).toBe(true);
    expect(hit('await bulkInsert(tx, products, rows, sql`on conflict do nothing`)')).toBe(true);
    expect(hit('const q = bulkInsertQuery(\n  products,\n  rows)')).toBe(true);
    expect(hit('sql`delete from products where shop_id = $1`')).toBe(true);
    expect(hit('sql`UPDATE "products" SET title = $2`')).toBe(true);
    expect(hit('sql`select product_id from products where shop_id = $1`')).toBe(false);
    expect(hit('replenish_days = coalesce(excluded.replenish_days, products.replenish_days)')).toBe(false);
    expect(hit('await bulkInsert(tx, modelProducts, rows)')).toBe(false);
  });

  it('every module that writes products bumps it', () => {
    const writers: string[] = [];
    const forgetful: string[] = [];
    for (const file of shippedSources(src)) {
      const text = readFileSync(file, 'utf8');
      if (!writesProducts.some((re) => re.test(text))) continue;
      writers.push(relative(src, file));
      if (!/\bbumpCatalogue\(/.test(text)) forgetful.push(relative(src, file));
    }
    // The product upsert and the order ingest's placeholders at least: a scan that finds nothing proves nothing.
    expect(writers).toContain(join('recommend', 'orders.ts'));
    expect(forgetful).toEqual([]);
  });
});
