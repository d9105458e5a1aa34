import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel, createCoPurchaseModel, type CoPurchaseModel, type OrderBasket } from './model.js';
import { readBaskets, readItemCatalog, type CatalogProduct } from './parse.js';
import {
  estimateRepurchaseIntervals,
  recommendForCustomer,
  relatedProducts,
  type Recommendation,
} from './recommender.js';
import { groceriesPath } from '../../../../test/support/groceries.js';

const data = groceriesPath();
const DAY = 86_400_000;
const now = Date.UTC(2025, 5, 1);

let model: CoPurchaseModel;
let catalog: Map<string, CatalogProduct>;

beforeAll(async () => {
  model = await buildModel((await readBaskets(`${data}/groceries.csv`)).baskets, { trackOrders: false });
  catalog = new Map((await readItemCatalog(`${data}/groceries_items.csv`)).map((p) => [p.id, p]));
});

const ids = (recs: Recommendation[]) => recs.map((r) => r.productId);
const bought = (...products: string[]) => products.map((productId) => ({ productId, time: now - DAY }));

describe('per-customer recommendations on Groceries', () => {
  it('reasons are present and true: each names a purchase, carries the real statistics, and they add up to the score', () => {
    const purchases = bought('beef', 'onions', 'butter milk');
    const recs = recommendForCustomer(model, { purchases }, catalog, { now, k: 10, maxReasons: 1000 });
    expect(recs).toHaveLength(10);
    expect(recs.some((r) => r.source === 'neighbours')).toBe(true);
    for (const rec of recs) {
      expect(rec.reasons.length).toBeGreaterThan(0);
      const total = rec.reasons.reduce((sum, reason) => sum + reason.score, 0);
      expect(total).toBeCloseTo(rec.score, 12);
      for (const reason of rec.reasons) {
        if (reason.kind !== 'bought-with') continue;
        expect(purchases.map((p) => p.productId)).toContain(reason.because);
        expect(reason.stats).toEqual(model.pairStats(reason.because, rec.productId));
        expect(reason.statistic).toBe('uplift');
        expect(reason.value).toBeCloseTo(
          reason.stats.confidence - model.productCount(rec.productId) / model.basketCount,
          12,
        );
        expect(reason.stats.lift).toBeGreaterThan(1);
        expect(reason.stats.llr).toBeGreaterThanOrEqual(3.84);
      }
    }
    const capped = recommendForCustomer(model, { purchases }, catalog, { now, k: 10, maxReasons: 1 });
    expect(ids(capped)).toEqual(ids(recs));
    expect(capped.every((r) => r.reasons.filter((x) => x.kind === 'bought-with').length <= 1)).toBe(true);
    const scores = recs.map((r) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('what the customer owns is dropped', () => {
    const plain = ids(recommendForCustomer(model, { purchases: bought('beef') }, catalog, { now, k: 20 }));
    expect(plain).toContain('whole milk');
    const owning = ids(
      recommendForCustomer(model, { purchases: bought('beef', 'whole milk') }, catalog, { now, k: 20 }),
    );
    expect(owning).not.toContain('whole milk');
    expect(owning).not.toContain('beef');
  });

  it('a replenishable product comes back once its repurchase interval has passed, not before', () => {
    const milk = { ...catalog.get('whole milk')!, replenishable: true, repurchaseIntervalDays: 7 };
    const withMilk = new Map(catalog).set('whole milk', milk);
    const recent = [
      { productId: 'beef', time: now - DAY },
      { productId: 'whole milk', time: now - 3 * DAY },
    ];
    expect(ids(recommendForCustomer(model, { purchases: recent }, withMilk, { now, k: 20 }))).not.toContain(
      'whole milk',
    );
    const due = [
      { productId: 'beef', time: now - DAY },
      { productId: 'whole milk', time: now - 10 * DAY },
    ];
    expect(ids(recommendForCustomer(model, { purchases: due }, withMilk, { now, k: 20 }))).toContain('whole milk');
    // Not replenishable: never again.
    expect(ids(recommendForCustomer(model, { purchases: due }, catalog, { now, k: 20 }))).not.toContain('whole milk');
  });

  it('unavailable products and products missing from the catalogue are dropped', () => {
    const first = recommendForCustomer(model, { purchases: bought('beef') }, catalog, { now, k: 5 })[0]!.productId;
    const without = new Map(catalog).set(first, { ...catalog.get(first)!, available: false });
    expect(ids(recommendForCustomer(model, { purchases: bought('beef') }, without, { now, k: 20 }))).not.toContain(
      first,
    );
    const missing = new Map(catalog);
    missing.delete(first);
    expect(ids(recommendForCustomer(model, { purchases: bought('beef') }, missing, { now, k: 20 }))).not.toContain(
      first,
    );
  });

  it('what was sent in the last N days is dropped; what was sent before is allowed again', () => {
    const first = recommendForCustomer(model, { purchases: bought('beef') }, catalog, { now, k: 5 })[0]!.productId;
    const sentRecently = { purchases: bought('beef'), sent: [{ productId: first, time: now - 5 * DAY }] };
    expect(ids(recommendForCustomer(model, sentRecently, catalog, { now, k: 20, recentlySentDays: 14 }))).not.toContain(
      first,
    );
    expect(ids(recommendForCustomer(model, sentRecently, catalog, { now, k: 20, recentlySentDays: 3 }))[0]).toBe(first);
  });

  it('thin history - purchases the model does not know fall back to popular in their category, then popular overall', () => {
    const local = new Map(catalog).set('local honey', {
      id: 'local honey',
      title: 'Local honey',
      category: 'sausage',
      available: true,
    });
    const recs = recommendForCustomer(model, { purchases: bought('local honey') }, local, { now, k: 12 });
    const sausages = [...catalog.values()].filter((p) => p.category === 'sausage').length;
    expect(
      recs.slice(0, sausages).every((r) => r.source === 'popular-in-category' && r.product.category === 'sausage'),
    ).toBe(true);
    expect(recs[0]!.reasons).toEqual([
      {
        kind: 'popular-in-category',
        category: 'sausage',
        count: model.productCount(recs[0]!.productId),
        score: expect.any(Number),
      },
    ]);
    expect(recs[0]!.productId).toBe(
      model.popular().find((p) => catalog.get(p.productId)?.category === 'sausage')!.productId,
    );
    expect(recs.slice(sausages).every((r) => r.source === 'popular')).toBe(true);
    const none = recommendForCustomer(model, { purchases: [] }, catalog, { now, k: 3 });
    expect(ids(none)).toEqual(model.popular(3).map((p) => p.productId));
    expect(none.every((r) => r.reasons[0]!.kind === 'popular')).toBe(true);
  });

  it('related products are the top-k neighbours with their statistics', () => {
    const related = relatedProducts(model, 'beef', 5);
    expect(related).toHaveLength(5);
    expect(related.map((n) => n.productId)).toEqual(model.neighbours('beef', 5).map((n) => n.productId));
    expect(related[0]!.stats).toEqual(model.pairStats('beef', related[0]!.productId));
    expect(relatedProducts(model, 'no such product')).toEqual([]);
  });
});

describe('the cached neighbour lists follow every change of the model', () => {
  it('after each change (order added, subtracted, customer erased, delta applied, ingest) recommendations and related products equal those of a model built afresh', async () => {
    const baskets: OrderBasket[] = [];
    for await (const basket of (await readBaskets(`${data}/groceries.csv`)).baskets) baskets.push(basket);
    const history = { purchases: bought('beef', 'onions', 'butter milk') };
    const options = { now, k: 10, maxReasons: 1000 };
    const live = new Map(baskets.map((b) => [b.orderId, b]));
    const sameAsFresh = async (m: CoPurchaseModel, orders: Iterable<OrderBasket>) => {
      const fresh = await buildModel(orders);
      const served = recommendForCustomer(m, history, catalog, options);
      expect(served).toEqual(recommendForCustomer(fresh, history, catalog, options));
      for (const product of ['beef', 'chocolate', 'napkins'])
        expect(relatedProducts(m, product)).toEqual(relatedProducts(fresh, product));
      return served;
    };
    const m = await buildModel(baskets);
    const before = await sameAsFresh(m, live.values()); // the lists are cached from here on
    const beefBefore = relatedProducts(m, 'beef');

    // Beef bought with chocolate and napkins far more often: beef's neighbours and their pair counts change.
    const extra = Array.from({ length: 25 }, (_, i) => ({
      orderId: `extra${i}`,
      customerId: 'x',
      productIds: ['beef', 'chocolate', 'napkins'],
    }));
    const deltas = extra.map((order) => {
      live.set(order.orderId, order);
      return m.addOrder(order);
    });
    const changed = await sameAsFresh(m, live.values());
    expect(changed).not.toEqual(before);
    expect(relatedProducts(m, 'beef').map((n) => n.productId)).toContain('chocolate');
    expect(beefBefore.map((n) => n.productId)).not.toContain('chocolate');

    for (const order of extra.slice(0, 10)) {
      m.removeOrder(order.orderId);
      live.delete(order.orderId);
    }
    await sameAsFresh(m, live.values());
    m.eraseCustomer('x');
    for (const order of extra) live.delete(order.orderId);
    expect(await sameAsFresh(m, live.values())).toEqual(before);

    const copy = await buildModel(baskets);
    const copyBefore = recommendForCustomer(copy, history, catalog, options);
    for (const delta of deltas) copy.applyDelta(delta);
    expect(await sameAsFresh(copy, [...baskets, ...extra])).not.toEqual(copyBefore);

    for (const order of extra) m.ingest(order);
    await sameAsFresh(m, [...baskets, ...extra]);
  });
});

describe('recency and repurchase intervals', () => {
  const catalogOf = (products: string[]) =>
    new Map(products.map((id) => [id, { id, title: id, available: true, category: 'c' } satisfies CatalogProduct]));

  it('a recent purchase weighs more than an old one (half-life)', async () => {
    const baskets: OrderBasket[] = [];
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `a${i}`, productIds: ['tent', 'stakes'] });
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `b${i}`, productIds: ['pasta', 'sauce'] });
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `c${i}`, productIds: [`filler${i}`] });
    const m = await buildModel(baskets);
    const products = catalogOf(['tent', 'stakes', 'pasta', 'sauce']);
    const history = {
      purchases: [
        { productId: 'tent', time: now - 200 * DAY },
        { productId: 'pasta', time: now - 2 * DAY },
      ],
    };
    expect(ids(recommendForCustomer(m, history, products, { now, k: 2, halfLifeDays: 30 }))).toEqual([
      'sauce',
      'stakes',
    ]);
    const flipped = {
      purchases: [
        { productId: 'tent', time: now - 2 * DAY },
        { productId: 'pasta', time: now - 200 * DAY },
      ],
    };
    expect(ids(recommendForCustomer(m, flipped, products, { now, k: 2, halfLifeDays: 30 }))).toEqual([
      'stakes',
      'sauce',
    ]);
  });

  it('only the maxSeeds most recent purchases seed the ranking; everything owned is still excluded', async () => {
    const baskets: OrderBasket[] = [];
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `a${i}`, productIds: ['tent', 'stakes'] });
    for (let i = 0; i < 40; i++) baskets.push({ orderId: `b${i}`, productIds: ['pasta', 'sauce'] });
    const m = await buildModel(baskets);
    const products = catalogOf(['tent', 'stakes', 'pasta', 'sauce']);
    const history = {
      purchases: [
        { productId: 'tent', time: now - 20 * DAY },
        { productId: 'pasta', time: now - 2 * DAY },
      ],
    };
    const recs = recommendForCustomer(m, history, products, { now, k: 4, maxSeeds: 1 });
    expect(ids(recs)).toEqual(['sauce', 'stakes']);
    expect(recs[0]!.reasons[0]).toMatchObject({ kind: 'bought-with', because: 'pasta' });
    expect(recs[1]!.reasons.map((r) => r.kind)).toEqual(['popular']);
  });

  it('what is served is what the evaluation measures: the same blended ranking', async () => {
    const { blendRanking } = await import('./recommender.js');
    const basket = ['beef', 'onions', 'butter milk'];
    const served = recommendForCustomer(
      model,
      { purchases: basket.map((productId) => ({ productId, time: now })) },
      catalog,
      { now, k: 10 },
    );
    const inBasket = new Set(basket.map((p) => model.denseId(p)));
    const measured = blendRanking(
      model,
      basket.map((p) => [p, 1] as const),
      10,
      (id) => !inBasket.has(id),
      false,
    ).map((c) => model.label(c.id));
    expect(ids(served)).toEqual(measured);
  });

  it('the usual repurchase interval is the median gap between purchases of one customer', () => {
    const m = createCoPurchaseModel();
    let n = 0;
    for (const [customer, days] of [
      ['x', [0, 7, 14, 21]],
      ['y', [0, 9]],
    ] as const) {
      for (const day of days)
        m.addOrder({ orderId: `o${n++}`, customerId: customer, productIds: ['coffee', `other${n}`], time: day * DAY });
    }
    expect(estimateRepurchaseIntervals(m).get('coffee')).toBe(7);
    expect(estimateRepurchaseIntervals(m, { minRepeats: 5 }).has('coffee')).toBe(false);
  });

  it('bad options are refused', () => {
    const m = createCoPurchaseModel();
    expect(() => recommendForCustomer(m, { purchases: [] }, new Map(), { k: -1 })).toThrowError(/k must be/);
    expect(() => recommendForCustomer(m, { purchases: [] }, new Map(), { halfLifeDays: Number.NaN })).toThrowError(
      /halfLifeDays/,
    );
    expect(() => recommendForCustomer(m, { purchases: [] }, new Map(), { halfLifeDays: 0 })).toThrowError(
      /halfLifeDays must be above 0/,
    );
  });
});

describe('blended ranking', () => {
  it('equals a brute-force scoring of every product (fast-check)', async () => {
    const fc = (await import('fast-check')).default;
    const { blendRanking } = await import('./recommender.js');
    const product = fc.integer({ min: 0, max: 11 }).map((i) => `p${i}`);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(product, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 80 }),
        fc.array(fc.tuple(product, fc.double({ min: 0.01, max: 1, noNaN: true })), { maxLength: 5 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 4 }),
        async (baskets, seedList, k, K) => {
          const m = await buildModel(
            baskets.map((productIds, i) => ({ orderId: String(i), productIds })),
            { neighbours: { k: K, minCount: 1, minLlr: 0 } },
          );
          const seeds = [...new Map(seedList).entries()];
          const excluded = new Set(seeds.slice(0, 1).map(([p]) => p));
          const got = blendRanking(m, seeds, k, (id) => !excluded.has(m.label(id)), false).map(
            (c) => [m.label(c.id), c.score] as const,
          );
          // Brute force: every product with a positive count.
          const n = m.basketCount;
          let total = 0;
          const score = new Map<string, number>();
          for (const [p, w] of seeds) {
            if (m.productCount(p) === 0) continue;
            total += w;
            for (const nb of m.neighbours(p)) score.set(nb.productId, (score.get(nb.productId) ?? 0) + w * nb.score);
          }
          if (total === 0) {
            expect(got).toEqual([]);
            return;
          }
          const all = m
            .productIds()
            .filter((q) => !excluded.has(q))
            .map((q) => [q, (score.get(q) ?? 0) + total * (m.productCount(q) / n)] as const)
            .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
            .slice(0, k);
          // Same scores position by position, each item's own score right, no duplicates: equal up to ties.
          expect(got).toHaveLength(all.length);
          got.forEach(([q, s], i) => {
            expect(s).toBeCloseTo(all[i]![1], 9);
            expect(s).toBeCloseTo((score.get(q) ?? 0) + total * (m.productCount(q) / n), 9);
            expect(excluded.has(q)).toBe(false);
          });
          expect(new Set(got.map(([q]) => q)).size).toBe(got.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
