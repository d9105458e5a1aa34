import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { groceriesPath } from '../demo/groceries.js';

const groceries = groceriesPath('groceries.csv');
const dir = mkdtempSync(join(tmpdir(), 'tactful-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tactful rules', () => {
  it('Groceries - the pair rules arules finds, as a table and as JSON', async () => {
    const r = await runCaptured(['rules', '--baskets', groceries]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+ rules from 9835 baskets \(basket-csv\), support ≥ 0.01, confidence ≥ 0.3, by lift/);
    expect(r.stdout).toMatch(/lhs\s+rhs\s+support\s+confidence\s+coverage\s+lift\s+count\s+llr/);
    expect(r.stdout).toMatch(
      /\{hard cheese\}\s+\{whole milk\}\s+0\.010066\s+0\.410788\s+0\.024504\s+1\.6077\s+99\s+\d+\.\d\d/,
    );

    const json = JSON.parse(
      (await runCaptured(['rules', '--baskets', groceries, '--json', '--min-support', '0.05', '--min-confidence', '0']))
        .stdout,
    );
    expect(json).toMatchObject({
      format: 'basket-csv',
      baskets: 9835,
      products: 169,
      minSupport: 0.05,
      minConfidence: 0,
    });
    // Pairs with support ≥ 5 % on Groceries: other vegetables & whole milk, whole milk & rolls/buns, whole milk & yogurt, both ways.
    expect(json.rules).toHaveLength(6);
    const milkVeg = json.rules.find(
      (x: { lhs: string; rhs: string }) => x.lhs === 'other vegetables' && x.rhs === 'whole milk',
    );
    expect(milkVeg).toMatchObject({ count: 736 });
    expect(Object.keys(milkVeg).sort()).toEqual([
      'confidence',
      'count',
      'coverage',
      'lhs',
      'lift',
      'llr',
      'rhs',
      'support',
    ]);
  });

  it('a jsonl file with the format given', async () => {
    const file = join(dir, 'lines.txt');
    const lines = [];
    for (let i = 0; i < 10; i++)
      lines.push({ orderId: `o${i}`, productId: 'tea' }, { orderId: `o${i}`, productId: i < 8 ? 'lemon' : 'milk' });
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
    const r = await runCaptured(['rules', '--baskets', file, '--format', 'jsonl', '--json', '--min-support', '0.5']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.rules.map((x: { lhs: string; rhs: string; count: number }) => [x.lhs, x.rhs, x.count])).toEqual([
      ['lemon', 'tea', 8],
      ['tea', 'lemon', 8],
    ]);
  });

  it('a rule set too large for a spread argument list prints as a table and as JSON', async () => {
    // 1 000 baskets of 30 of 400 products: nearly every one of the 79 800 pairs meets, so about 159 000 rules at
    // support 1/1000, more than the ~120 000 arguments a function call may take on V8's stack.
    const file = join(dir, 'wide.dat');
    let state = 7;
    const random = () => {
      state = (Math.imul(state, 48271) >>> 0) % 2147483647;
      return state / 2147483647;
    };
    const lines: string[] = [];
    for (let b = 0; b < 1000; b++) {
      const items = new Set<number>();
      while (items.size < 30) items.add(Math.floor(random() * 400));
      lines.push([...items].join(' '));
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
    const args = ['rules', '--baskets', file, '--format', 'fimi', '--min-support', '0.001', '--min-confidence', '0'];
    const r = await runCaptured(args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const count = Number(/^(\d+) rules/.exec(r.stdout)![1]);
    expect(count).toBeGreaterThan(130_000);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(count + 3);
    const json = JSON.parse((await runCaptured([...args, '--json'])).stdout);
    expect(json.rules).toHaveLength(count);
    expect(json).toMatchObject({ baskets: 1000, products: 400, minSupport: 0.001 });
  });

  it('bad input - exit 2 with a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['rules', '--baskets', join(dir, 'missing.csv')], /no such file/],
      [['rules', '--baskets', groceries, '--format', 'xml'], /Unknown format "xml"/],
      [['rules', '--baskets', groceries, '--min-support', '0'], /--min-support "0" must be a number above 0 up to 1/],
      [['rules', '--baskets', groceries, '--min-support', '1.5'], /--min-support "1.5"/],
      [['rules', '--baskets', groceries, '--min-support', 'lots'], /--min-support "lots"/],
      [['rules', '--baskets', groceries, '--min-confidence', '-0.1'], /--min-confidence "-0.1"/],
      [['rules'], /--baskets/],
    ];
    for (const [args, message] of cases) {
      const r = await runCaptured(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });
});
