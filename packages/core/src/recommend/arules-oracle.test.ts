import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from './model.js';
import { csvRecords } from './csv.js';
import { readBaskets } from './parse.js';
import { groceriesPath } from '../../../../test/support/groceries.js';

const data = groceriesPath();

interface OracleRule {
  lhs: string;
  rhs: string;
  support: number;
  confidence: number;
  coverage: number;
  lift: number;
  count: number;
}

async function oracleRules(): Promise<{ all: number; pairs: OracleRule[] }> {
  const text = readFileSync(`${data}/groceries_rules_arules_s0.01_c0.3.csv`, 'utf8');
  const records: string[][] = [];
  for await (const record of csvRecords([text])) records.push(record);
  const [header, ...rows] = records.filter((r) => !(r.length === 1 && r[0] === ''));
  expect(header).toEqual(['lhs', 'rhs', 'support', 'confidence', 'coverage', 'lift', 'count']);
  const single = /^\{([^,]+)\}$/;
  const pairs: OracleRule[] = [];
  for (const row of rows) {
    const lhs = single.exec(row[0]!);
    const rhs = single.exec(row[1]!);
    if (!lhs || !rhs) continue;
    pairs.push({
      lhs: lhs[1]!,
      rhs: rhs[1]!,
      support: Number(row[2]),
      confidence: Number(row[3]),
      coverage: Number(row[4]),
      lift: Number(row[5]),
      count: Number(row[6]),
    });
  }
  return { all: rows.length, pairs };
}

describe('pair statistics against arules (Groceries, support 0.01, confidence 0.3)', () => {
  it('every rule with one item on each side matches: count exactly, support/confidence/coverage/lift to 1e-9', async () => {
    const { all, pairs } = await oracleRules();
    expect(all).toBe(125);
    expect(pairs.length).toBeGreaterThan(50);
    const { baskets } = await readBaskets(`${data}/groceries.csv`, 'basket-csv');
    const model = await buildModel(baskets, { trackOrders: false });
    expect(model.basketCount).toBe(9835);
    for (const rule of pairs) {
      const stats = model.pairStats(rule.lhs, rule.rhs);
      expect(stats, `${rule.lhs} => ${rule.rhs}`).not.toBeNull();
      expect(stats!.count, `${rule.lhs} => ${rule.rhs}`).toBe(rule.count);
      expect(Math.abs(stats!.support - rule.support)).toBeLessThan(1e-9);
      expect(Math.abs(stats!.confidence - rule.confidence)).toBeLessThan(1e-9);
      expect(Math.abs(stats!.coverage - rule.coverage)).toBeLessThan(1e-9);
      expect(Math.abs(stats!.lift - rule.lift)).toBeLessThan(1e-9);
      expect(stats!.llr).toBeGreaterThan(0);
    }
    // And the same thresholds find exactly arules' pair rules, no more and no fewer.
    const ours = model
      .rules({ minSupport: 0.01, minConfidence: 0.3 })
      .map((r) => `${r.lhs} => ${r.rhs}`)
      .sort();
    expect(ours).toEqual(pairs.map((r) => `${r.lhs} => ${r.rhs}`).sort());
  });
});
