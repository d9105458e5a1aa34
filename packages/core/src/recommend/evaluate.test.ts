import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateNextOrder, evaluateRecommendations } from './evaluate.js';
import { seededRandom } from '../random.js';
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

  it('the jointly fitted ranking beats the pair ranking and item-kNN, and matches EASE on every product', async () => {
    const result = await evaluateRecommendations(groceries, { k: 10, seed: 42 });
    const m = result.models;
    for (const other of [m.pairs!, m['item-knn']!, m.popularity!]) {
      expect(m.tactful!.hitRate).toBeGreaterThan(other.hitRate);
      expect(m.tactful!.ndcg).toBeGreaterThan(other.ndcg);
    }
    // 168 products in training: the fit covers them all, so it is EASE on every product.
    expect(result.ease.items).toBe(result.catalogueSize);
    expect(m.tactful).toEqual(m['ease-full']);
    // The previous ranking, reproduced exactly as `pairs` (the figures the CLI printed before).
    expect(m.pairs!.hitRate.toFixed(4)).toBe('0.3870');
    expect(m.pairs!.ndcg.toFixed(4)).toBe('0.2096');
    expect(result.ease.lambda).toBeGreaterThan(0);
  });

  it('a fit on fewer products than the catalogue ranks the rest on their pair scores', async () => {
    const result = await evaluateRecommendations(groceries, {
      seed: 42,
      easeItems: 40,
      models: ['tactful', 'pairs', 'ease-full'],
    });
    expect(result.ease.items).toBe(40);
    expect(result.models['item-knn']).toBeUndefined();
    // Products outside the 40 still get recommended (coverage beyond the fitted set), and the blend stays ahead
    // of the pair ranking alone.
    expect(result.models.tactful!.coverage * result.catalogueSize).toBeGreaterThan(40);
    expect(result.models.tactful!.hitRate).toBeGreaterThan(result.models.pairs!.hitRate);
  });

  it('next order after a cut date: customers scored on products new to them', async () => {
    // Two kinds of customers: tea people (tea, then lemon later) and coffee people (coffee, then milk later).
    const day = 86_400_000;
    const orders: OrderBasket[] = [];
    for (let c = 0; c < 60; c++) {
      const tea = c % 2 === 0;
      const customerId = `c${c}`;
      orders.push({ orderId: `${c}a`, customerId, time: day * (1 + (c % 5)), productIds: [tea ? 'tea' : 'coffee'] });
      if (c < 40)
        orders.push({
          orderId: `${c}b`,
          customerId,
          time: day * (10 + (c % 5)),
          productIds: tea ? ['tea', 'lemon'] : ['coffee', 'milk'],
        });
      orders.push({ orderId: `${c}p`, customerId: `p${c}`, time: day * 2, productIds: ['bread'] });
      orders.push({ orderId: `${c}q`, customerId: `p${c}`, time: day * 2, productIds: ['bread', 'butter'] });
      if (c >= 40)
        orders.push({
          orderId: `${c}c`,
          customerId,
          time: day * 30,
          productIds: tea ? ['lemon', 'tea'] : ['milk', 'coffee'],
        });
    }
    const result = await evaluateNextOrder(orders, { k: 1, cut: day * 20 });
    expect(result.customers).toBe(20);
    expect(result.cut).toBe(new Date(day * 20).toISOString());
    // Popularity offers bread to everyone; the fitted ranking offers lemon to tea people, milk to coffee people
    // (bread's base rate, 0.48, still beats confidence(tea→lemon), 0.4, in the pair ranking).
    expect(result.models.popularity!.hitRate).toBe(0);
    expect(result.models.tactful!.hitRate).toBe(1);
    expect(result.models.tactful!.ndcg).toBe(1);
    expect(result.models.pairs!.hitRate).toBe(0);
    await expect(evaluateNextOrder([{ orderId: 'x', productIds: ['a'] }])).rejects.toThrowError(/customer and a date/);
  });

  it('the same seed gives the same figures; another seed another split', async () => {
    const a = await evaluateRecommendations(groceries, { seed: 7 });
    const b = await evaluateRecommendations(groceries, { seed: 7 });
    const c = await evaluateRecommendations(groceries, { seed: 8 });
    // Everything but the fit's wall-clock time.
    expect({ ...b, ease: { ...b.ease, fitMs: 0 } }).toEqual({ ...a, ease: { ...a.ease, fitMs: 0 } });
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
