import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { analyzeGrown } from './analyze.js';
import { rawStore } from './open.js';

describeEachStore('statistics for grown tables', (getStore) => {
  it('analyze - a table is analysed when it never was and again once it grew by half, not on every write', async () => {
    const raw = rawStore(getStore());
    const table = `analyze_probe_${randomBytes(4).toString('hex')}`;
    const tuples = async () =>
      Number(
        (await raw.query<{ n: number }>('select reltuples::float8 as n from pg_class where relname = $1', [table]))[0]!
          .n,
      );
    await raw.query(`create table ${table} (id int primary key, note text)`);
    try {
      expect(await analyzeGrown(raw.db, [table])).toEqual([]); // empty: nothing to learn
      await raw.query(`insert into ${table} select g, repeat('x', 100) from generate_series(1, 2000) g`);
      expect(await tuples()).toBe(-1);
      expect(await analyzeGrown(raw.db, [table, 'no_such_table'])).toEqual([table]);
      expect(await tuples()).toBe(2000);
      await raw.query(`insert into ${table} select g, repeat('x', 100) from generate_series(2001, 2200) g`);
      expect(await analyzeGrown(raw.db, [table])).toEqual([]); // a tenth more: the statistics still hold
      await raw.query(`insert into ${table} select g, repeat('x', 100) from generate_series(2201, 6000) g`);
      expect(await analyzeGrown(raw.db, [table])).toEqual([table]);
      expect(await tuples()).toBe(6000);
    } finally {
      await raw.query(`drop table ${table}`);
    }
  });

  it('analyze - an order import leaves the order tables with statistics', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('analyze') });
    const at = new Date('2026-03-01T10:00:00Z');
    await t.orders.ingest(
      Array.from({ length: 300 }, (_, i) => ({
        id: `o${i}`,
        email: `c${i % 40}@example.com`,
        createdAt: at,
        updatedAt: at,
        lines: [
          { productId: `p${i % 17}`, title: 'P', quantity: 1 },
          { productId: `p${(i * 7) % 23}`, title: 'Q', quantity: 1 },
        ],
      })),
      'import',
    );
    const stats = await rawStore(store).query<{ relname: string; n: number }>(
      `select relname, reltuples::float8 as n from pg_class where relname in ('orders', 'order_lines', 'products')`,
    );
    expect(stats).toHaveLength(3);
    for (const s of stats) expect(Number(s.n), s.relname).toBeGreaterThan(0);
  });
});
