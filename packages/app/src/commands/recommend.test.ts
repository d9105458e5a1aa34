import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured as runIn } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';
import { groceriesPath } from '../demo/groceries.js';

const ordersExport = fileURLToPath(
  new URL('../../../shopify-adapter/test-data/orders_export_sample.csv', import.meta.url),
);
const { db, shop, env, dir, remove } = commandTestStore('import-test');
const base = ['--db', db, '--shop', shop];
const runCaptured = (argv: string[]) => runIn(argv, env);
afterAll(remove);

describe('tactful import orders and tactful recommend', () => {
  it('imports the Shopify orders export, idempotently', async () => {
    const first = await runCaptured([...base, 'import', 'orders', ordersExport, '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ format: 'shopify-csv', added: summary.orders, updated: 0 });
    expect(summary.orders).toBeGreaterThan(0);
    const again = JSON.parse((await runCaptured([...base, 'import', 'orders', ordersExport, '--json'])).stdout);
    expect(again).toMatchObject({ added: 0, updated: 0, ignored: summary.orders, modelBaskets: 0 });
  });

  it('imports Groceries with its catalogue and lists related products with statistics', async () => {
    const r = await runCaptured([
      ...base,
      'import',
      'orders',
      groceriesPath('groceries.csv'),
      '--catalog',
      groceriesPath('groceries_items.csv'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 9835 orders .* 169 catalogue entries/);
    const related = await runCaptured([...base, 'recommend', '--product', 'whole milk', '--k', '3', '--json']);
    expect(related.code).toBe(0);
    const json = JSON.parse(related.stdout);
    expect(json.related).toHaveLength(3);
    expect(json.related[0].product.category).toBeTruthy();
    expect(json.related[0].stats.count).toBeGreaterThan(100);
    const refit = await runCaptured([...base, 'recommend', '--refit']);
    expect(refit.code).toBe(0);
    expect(refit.stdout).toMatch(/^refitted: EASE on 1[6-9]\d products from \d+ orders, λ \d+\.\d, in \d+\.\d\d s/);
  });

  it('a customer without personalization consent is refused (exit 1); with it, each item says why', async () => {
    const refused = await runCaptured([...base, 'recommend', '--customer', 'ayumu.hirano@example.com']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/has not granted personalization/);
    await runCaptured([
      ...base,
      'consent',
      'record',
      '--email',
      'ayumu.hirano@example.com',
      '--purpose',
      'personalization',
      '--state',
      'granted',
      '--source',
      'cli',
      '--event-id',
      'p1',
      '--method',
      'form',
    ]);
    const ok = await runCaptured([...base, 'recommend', '--customer', 'ayumu.hirano@example.com', '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const result = JSON.parse(ok.stdout);
    expect(result.purchases).toBeGreaterThan(0);
    expect(result.recommendations.length).toBeGreaterThan(0);
    expect(result.recommendations.every((r: { reasons: unknown[] }) => r.reasons.length > 0)).toBe(true);
  });

  it('bad input - exit 2 with one line', async () => {
    const cases: string[][] = [
      ['import', 'orders', join(dir, 'missing.csv')],
      ['import', 'orders', groceriesPath('groceries.csv'), '--format', 'xml'],
      ['recommend'],
      ['recommend', '--customer', 'a@example.com', '--product', 'x'],
      ['recommend', '--product', 'whole milk', '--k', 'ten'],
      ['recommend', '--product', 'no such thing'],
      ['recommend', '--customer', 'ghost@example.com'],
    ];
    for (const args of cases) {
      const r = await runCaptured([...base, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });
});
