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

  it('another score can be compared with --score', async () => {
    const json = JSON.parse(
      (await runCaptured(['evaluate', '--baskets', groceries, '--score', 'lift', '--json'])).stdout,
    );
    expect(json.neighbours.score).toBe('lift');
    expect(json.tactful.hitRate).toBeLessThan(json.popularity.hitRate); // lift favours rare products
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
