import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groceriesPath } from '../../../../test/support/groceries.js';
import { buildModel, type OrderBasket } from './model.js';
import { readBaskets } from './parse.js';
import { mineRules } from './rules.js';

async function groceries(): Promise<OrderBasket[]> {
  const out: OrderBasket[] = [];
  for await (const basket of (await readBaskets(groceriesPath('groceries.csv'))).baskets) out.push(basket);
  return out;
}

describe('mineRules - apriori pruning, the same rules as counting every pair', () => {
  it('on Groceries, at every threshold: the same rules, statistics and order; fewer pairs counted as support rises', async () => {
    const baskets = await groceries();
    const model = await buildModel(baskets, { trackOrders: false });
    let counted = Number.POSITIVE_INFINITY;
    for (const [minSupport, minConfidence] of [
      [0, 0],
      [0.001, 0.1],
      [0.01, 0.3],
      [0.05, 0],
      [0.3, 0],
    ] as const) {
      const mined = await mineRules(baskets, { minSupport, minConfidence });
      expect(mined.rules).toEqual(model.rules({ minSupport, minConfidence }));
      expect(mined).toMatchObject({ basketCount: model.basketCount, productCount: model.productIds().length });
      expect(mined.pairsCounted).toBeLessThanOrEqual(counted);
      counted = mined.pairsCounted;
    }
    // arules' thresholds of the oracle: 125 rules over all, of which the pair rules; only frequent products paired.
    const oracle = await mineRules(baskets, { minSupport: 0.01, minConfidence: 0.3 });
    expect(oracle.frequentProducts).toBeLessThan(model.productIds().length);
    expect(oracle.pairsCounted).toBeLessThan((oracle.frequentProducts * (oracle.frequentProducts - 1)) / 2 + 1);
  });

  it('equals the full count on any baskets and thresholds (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', ''), { maxLength: 6 }), { maxLength: 40 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        async (lists, minSupport, minConfidence) => {
          const baskets = lists.map((productIds, i) => ({ orderId: `o${i % 7}`, productIds }));
          const model = await buildModel(baskets, { trackOrders: false });
          const mined = await mineRules(baskets, { minSupport, minConfidence });
          expect(mined.rules).toEqual(model.rules({ minSupport, minConfidence }));
          expect(mined.basketCount).toBe(model.basketCount);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('thresholds outside [0, 1] are refused', async () => {
    await expect(mineRules([], { minSupport: 2 })).rejects.toMatchObject({ code: 'RECOMMEND.INVALID_OPTIONS' });
    await expect(mineRules([], { minConfidence: -0.1 })).rejects.toMatchObject({ code: 'RECOMMEND.INVALID_OPTIONS' });
    await expect(mineRules([], { minSupport: Number.NaN })).rejects.toMatchObject({
      code: 'RECOMMEND.INVALID_OPTIONS',
    });
  });
});
