import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { groceriesPath } from '../demo/groceries.js';

const groceries = groceriesPath('groceries.csv');
const dir = mkdtempSync(join(tmpdir(), 'tactful-evaluate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tactful evaluate', () => {
  it('Groceries - Tactful ahead of popularity on HitRate@10, side by side with the ratio', async () => {
    const r = await runCaptured(['evaluate', '--baskets', groceries, '--k', '10', '--seed', '42']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/9835 baskets, 7676 with ≥ 2 products, 1535 held out \(seed 42\)/);
    const hit = /HitRate@10\s+(\d\.\d{4})\s+(\d\.\d{4})\s+(\d\.\d{3})×/.exec(r.stdout);
    expect(hit).not.toBeNull();
    expect(Number(hit![1])).toBeGreaterThan(Number(hit![2]));
    expect(Number(hit![3])).toBeGreaterThan(1);
    expect(r.stdout).toMatch(/NDCG@10\s/);
    expect(r.stdout).toMatch(/MRR@10\s/);
    expect(r.stdout).toMatch(/coverage\s/);

    const json = JSON.parse((await runCaptured(['evaluate', '--baskets', groceries, '--json'])).stdout);
    for (const side of ['tactful', 'popularity'])
      expect(Object.keys(json[side]).sort()).toEqual(['coverage', 'hitRate', 'mrr', 'ndcg']);
    expect(json.tactful.hitRate).toBeGreaterThan(json.popularity.hitRate);
    expect(json.tactful.hitRate.toFixed(4)).toBe(hit![1]);
  });

  it('every ranking side by side, over several seeds, and the next-order protocol on dated customer orders', async () => {
    const r = await runCaptured(['evaluate', '--baskets', groceries, '--seed', '1,2']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/seeds 1, 2, means/);
    expect(r.stdout).toMatch(/metric\s+tactful\s+popularity\s+ratio\s+pairs\s+item-kNN\s+EASE \(all\)/);
    const hit = /HitRate@10\s+(\d\.\d{4})\s+(\d\.\d{4})\s+\S+\s+(\d\.\d{4})\s+(\d\.\d{4})\s+(\d\.\d{4})/.exec(
      r.stdout,
    )!;
    const [tactful, , pairs, knn, full] = hit.slice(1).map(Number);
    expect(tactful).toBeGreaterThan(pairs!);
    expect(tactful).toBeGreaterThan(knn!);
    expect(tactful).toBe(full);

    // Customers with dates (JSONL): tea people come back for lemon, coffee people for milk.
    const file = join(dir, 'history.jsonl');
    const lines: string[] = [];
    const day = 86_400_000;
    for (let c = 0; c < 60; c++) {
      const [first, second] = c % 2 === 0 ? ['tea', 'lemon'] : ['coffee', 'milk'];
      const line = (order: string, productId: string, t: number) =>
        lines.push(JSON.stringify({ orderId: order, customerId: `c${c}`, productId, time: t * day }));
      line(`${c}a`, first!, 1 + (c % 5));
      line(`${c}p`, 'bread', 2);
      if (c < 40) {
        line(`${c}b`, first!, 10);
        line(`${c}b`, second!, 10);
      } else {
        line(`${c}c`, second!, 30);
      }
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const next = await runCaptured([
      'evaluate',
      '--baskets',
      file,
      '--protocol',
      'next-order',
      '--cut',
      '1970-01-21',
      '--k',
      '1',
      '--json',
    ]);
    expect(next.stderr).toBe('');
    const json = JSON.parse(next.stdout);
    expect(json).toMatchObject({ protocol: 'next-order', customers: 20, cut: '1970-01-21T00:00:00.000Z' });
    expect(json.models.tactful.hitRate).toBe(1);
    const bad = await runCaptured(['evaluate', '--baskets', groceries, '--protocol', 'next-order']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/customer and a date/);
  });

  it('another score can be compared with --score', async () => {
    const json = JSON.parse(
      (await runCaptured(['evaluate', '--baskets', groceries, '--score', 'lift', '--json'])).stdout,
    );
    expect(json.neighbours.score).toBe('lift');
    expect(json.models.pairs.hitRate).toBeLessThan(json.popularity.hitRate); // lift favours rare products
  });

  it('bad input - exit 2 with a clear message', async () => {
    const single = join(dir, 'single.csv');
    writeFileSync(single, 'a\nb\n');
    const cases: Array<[string[], RegExp]> = [
      [['evaluate', '--baskets', join(dir, 'missing.csv')], /no such file/],
      [['evaluate', '--baskets', groceries, '--format', 'parquet'], /Unknown format "parquet"/],
      [['evaluate', '--baskets', groceries, '--k', 'ten'], /--k "ten" must be a positive whole number/],
      [['evaluate', '--baskets', groceries, '--k', '0'], /--k "0"/],
      [['evaluate', '--baskets', groceries, '--seed', '-3'], /--seed "-3"/],
      [['evaluate', '--baskets', groceries, '--score', 'magic'], /--score "magic" is not one of/],
      [['evaluate', '--baskets', groceries, '--models', 'tactful,magic'], /--models "magic" is not one of/],
      [['evaluate', '--baskets', groceries, '--protocol', 'tomorrow'], /--protocol "tomorrow" is not one of/],
      [['evaluate', '--baskets', groceries, '--seed', '1,x'], /--seed "1,x"/],
      [['evaluate', '--baskets', groceries, '--ease-items', '0'], /--ease-items "0"/],
      [['evaluate', '--baskets', single], /no basket with two or more products/],
    ];
    for (const [args, message] of cases) {
      const r = await runCaptured(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
