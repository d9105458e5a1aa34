import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateRecommendations, seededRandom } from './evaluate.js';
import type { OrderBasket } from './model.js';
import { readBaskets } from './parse.js';
import { groceriesPath } from '../../../../test/support/groceries.js';

const data = groceriesPath();
let groceries: OrderBasket[];

beforeAll(async () => {
  groceries = [];
  for await (const basket of (await readBaskets(`${data}/groceries.csv`)).baskets) groceries.push(basket);
});

describe('leave-one-out evaluation on Groceries', () => {
  it('Tactful is ahead of the popularity baseline on HitRate@10 and NDCG@10', async () => {
    const result = await evaluateRecommendations(groceries, { k: 10, seed: 42 });
    expect(result.baskets).toBe(9835);
    expect(result.eligible).toBe(9835 - 2159);
    expect(result.heldOut).toBe(Math.round(0.2 * result.eligible));
    expect(result.catalogueSize).toBeGreaterThan(160);
    expect(result.tactful.hitRate).toBeGreaterThan(result.popularity.hitRate);
    expect(result.tactful.ndcg).toBeGreaterThan(result.popularity.ndcg);
    expect(result.tactful.coverage).toBeGreaterThan(result.popularity.coverage);
    expect(result.ratio.hitRate).toBeCloseTo(result.tactful.hitRate / result.popularity.hitRate, 12);
    for (const metrics of [result.tactful, result.popularity]) {
      expect(metrics.mrr).toBeLessThanOrEqual(metrics.ndcg);
      expect(metrics.ndcg).toBeLessThanOrEqual(metrics.hitRate);
    }
  });

  it('the same seed gives the same figures; another seed another split', async () => {
    const a = await evaluateRecommendations(groceries, { seed: 7 });
    const b = await evaluateRecommendations(groceries, { seed: 7 });
    const c = await evaluateRecommendations(groceries, { seed: 8 });
    expect(b).toEqual(a);
    expect(c.tactful.hitRate).not.toBe(a.tactful.hitRate);
  });

  it('metrics on a tiny hand-checked case', async () => {
    // Train: a+b together often; hold-out basket {a, b}: hiding either must put the other first.
    const baskets: OrderBasket[] = [];
    for (let i = 0; i < 30; i++) baskets.push({ orderId: `t${i}`, productIds: ['a', 'b'] });
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `p${i}`, productIds: ['c'] });
    const result = await evaluateRecommendations(baskets, { k: 2, seed: 1, holdout: 0.5, neighbours: { minCount: 2 } });
    expect(result.heldOut).toBe(15);
    expect(result.tactful).toMatchObject({ hitRate: 1, ndcg: 1, mrr: 1 });
    // Popularity ranks c first, then the other of a/b: always a hit at rank 2.
    expect(result.popularity.hitRate).toBe(1);
    expect(result.popularity.mrr).toBe(0.5);
    expect(result.popularity.ndcg).toBeCloseTo(1 / Math.log2(3), 12);
  });

  it('bad k, seed or holdout are invalid input', async () => {
    await expect(evaluateRecommendations([], { k: 0 })).rejects.toThrowError(/k must be/);
    await expect(evaluateRecommendations([], { seed: 1.5 })).rejects.toThrowError(/seed/);
    await expect(evaluateRecommendations([], { holdout: 1 })).rejects.toThrowError(/holdout/);
  });

  it('the seeded generator is uniform enough and repeatable', () => {
    const r = seededRandom(3);
    const xs = Array.from({ length: 10_000 }, () => r());
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(xs.reduce((s, x) => s + x, 0) / xs.length).toBeCloseTo(0.5, 1);
    expect(seededRandom(3)()).toBe(xs[0]);
  });
});
