import { describe, expect, it } from 'vitest';
import { easeIndex, easeWeights, fitEase, gramMatrix, invertSpd, tuneEaseLambda } from './ease.js';
import { seededRandom } from '../random.js';
import { CoPurchaseModel } from './model.js';
import { easeReasons, rankCandidates, recommendForCustomer } from './recommender.js';
import type { CatalogProduct } from './parse.js';

function randomSpd(n: number, seed: number): Float64Array {
  const random = seededRandom(seed);
  const m = Float64Array.from({ length: n * n }, () => random() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? n : 0;
      for (let k = 0; k < n; k++) s += m[i * n + k]! * m[j * n + k]!;
      a[i * n + j] = s;
    }
  return a;
}

function model(baskets: string[][]): CoPurchaseModel {
  const m = new CoPurchaseModel({ trackOrders: false });
  baskets.forEach((productIds, i) => m.ingest({ orderId: String(i), productIds }));
  return m;
}

describe('EASE', () => {
  it('invertSpd gives A⁻¹ (A·A⁻¹ = I), symmetric', () => {
    for (const n of [1, 2, 7, 40]) {
      const a = randomSpd(n, n);
      const inverse = Float64Array.from(a);
      invertSpd(inverse, n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let k = 0; k < n; k++) s += a[i * n + k]! * inverse[k * n + j]!;
          expect(s).toBeCloseTo(i === j ? 1 : 0, 10);
          expect(inverse[i * n + j]).toBe(inverse[j * n + i]);
        }
    }
  });

  it('invertSpd refuses a matrix that is not positive definite', () => {
    expect(() => invertSpd(Float64Array.from([1, 2, 2, 1]), 2)).toThrowError(/not positive definite/);
  });

  it('the Gram matrix holds the pair table exactly, and an intercept row of item counts', () => {
    const m = model([['a', 'b'], ['a', 'b', 'c'], ['c'], ['a']]);
    const items = m.popularDenseIds(); // a (3), b (2), c (2)
    const g = gramMatrix(m, items);
    const label = Array.from(items, (id) => m.label(id));
    expect(label).toEqual(['a', 'b', 'c']);
    expect(Array.from(g)).toEqual([3, 2, 1, 3, 2, 2, 1, 2, 1, 1, 2, 2, 3, 2, 2, 4]);
  });

  it('B = −P/diag(P) off the diagonal, 0 on it, and B solves the ridge regression', () => {
    const n = 5;
    const g = randomSpd(n, 9);
    const lambda = 0.7;
    const b = easeWeights(Float64Array.from(g), n, lambda);
    // Closed form of min ‖X − XB‖² + λ‖B‖² s.t. diag(B) = 0: (G + λI)·B = G − diag(μ) column by column,
    // i.e. off-diagonal rows of (G + λI)B equal G.
    for (let j = 0; j < n; j++) {
      expect(b[j * n + j]).toBe(0);
      for (let i = 0; i < n; i++) {
        if (i === j) continue;
        let s = 0;
        for (let k = 0; k < n; k++) s += (g[i * n + k]! + (i === k ? lambda : 0)) * b[k * n + j]!;
        expect(s).toBeCloseTo(g[i * n + j]!, 4);
      }
    }
  });

  it('a fit ranks what is bought together, restricted to the most frequent products', () => {
    const baskets: string[][] = [];
    for (let i = 0; i < 40; i++) baskets.push(['tea', 'lemon']);
    for (let i = 0; i < 30; i++) baskets.push(['coffee', 'milk']);
    for (let i = 0; i < 50; i++) baskets.push(['bread']);
    baskets.push(['rare', 'tea'], ['rare', 'tea']);
    const m = model(baskets);
    const fit = fitEase(m, { maxItems: 5, lambda: 1, now: () => 7 });
    expect(fit.productIds).toEqual(['bread', 'tea', 'lemon', 'coffee', 'milk']);
    expect(fit.weights).toHaveLength(36);
    expect(fit).toMatchObject({ basketCount: 122, lambda: 1, fittedAt: 7 });
    const ranked = rankCandidates(m, fit, [['tea', 1]], 2, (id) => m.label(id) !== 'tea', true);
    expect(ranked.map((c) => m.label(c.id))[0]).toBe('lemon');
    // "rare" is outside the fit: it is ranked on its pair scores, never dropped.
    const all = rankCandidates(m, fit, [['tea', 1]], 6, (id) => m.label(id) !== 'tea', false).map((c) => m.label(c.id));
    expect(all).toContain('rare');
    // A seed outside the fit alone: the pair ranking.
    const fromRare = rankCandidates(m, fit, [['rare', 1]], 1, (id) => m.label(id) !== 'rare', true);
    expect(m.label(fromRare[0]!.id)).toBe('tea');
    expect(fromRare[0]!.ease).toBeUndefined();
    expect(easeIndex(fit, m).position[m.denseId('rare')!]).toBe(-1);
  });

  it('purchases outside the fit still vote for the fitted products, with their pair scores, and are named as the reason', () => {
    const baskets: string[][] = [];
    for (let i = 0; i < 40; i++) baskets.push(['bread', 'butter']);
    for (let i = 0; i < 30; i++) baskets.push(['bread']);
    for (let i = 0; i < 30; i++) baskets.push(['jam']);
    for (let i = 0; i < 12; i++) baskets.push(['scones', 'jam']);
    for (let i = 0; i < 12; i++) baskets.push(['cream']);
    const m = model(baskets);
    // The fit covers the three most frequent products; scones (bought with jam every time) lie outside it.
    const fit = fitEase(m, { maxItems: 3, lambda: 1 });
    expect(fit.productIds).toEqual(['bread', 'jam', 'butter']);
    const owned = new Set(['bread', 'scones']);
    const ranked = rankCandidates(
      m,
      fit,
      [
        ['bread', 1],
        ['scones', 1],
      ],
      2,
      (id) => !owned.has(m.label(id)),
      true,
    );
    // Bread alone points at butter; scones at jam, more strongly: jam comes first, and both halves are in its score.
    expect(ranked.map((c) => m.label(c.id))).toEqual(['jam', 'butter']);
    const jam = ranked[0]!;
    const sum =
      jam.base +
      (jam.ease ?? []).reduce((total, [, value, weight]) => total + value * weight, 0) +
      jam.from.reduce((total, [, value, weight]) => total + value * weight, 0);
    expect(jam.score).toBeCloseTo(sum, 12);
    expect(jam.from.map(([source]) => m.label(source))).toEqual(['scones']);
    const catalogue = new Map<string, CatalogProduct>(
      ['bread', 'butter', 'jam', 'scones', 'cream'].map((id) => [
        id,
        { id, title: id, category: null, available: true },
      ]),
    );
    const purchases = [
      { productId: 'bread', time: 0 },
      { productId: 'scones', time: 0 },
    ];
    const recs = recommendForCustomer(m, { purchases }, catalogue, { now: 0, fit, k: 2 });
    expect(recs[0]).toMatchObject({ productId: 'jam', source: 'neighbours' });
    expect(recs[0]!.reasons[0]).toMatchObject({ kind: 'bought-with', because: 'scones', statistic: 'uplift' });
  });

  it('λ is chosen on a validation split from the grid, by NDCG', () => {
    const random = seededRandom(4);
    const baskets: string[][] = [];
    for (let i = 0; i < 600; i++) {
      const aisle = Math.floor(random() * 5);
      const basket = new Set<string>();
      while (basket.size < 3) basket.add(`p${aisle * 6 + Math.floor(random() * 6)}`);
      baskets.push([...basket]);
    }
    const m = model(baskets);
    const dense = baskets.map((b) => b.map((p) => m.denseId(p)!));
    const tuned = tuneEaseLambda(m, dense, { random: seededRandom(1), grid: [1, 10, 100, 100_000] });
    expect(tuned.scores.map((s) => s.lambda)).toEqual([1, 10, 100, 100_000]);
    const best = Math.max(...tuned.scores.map((s) => s.ndcg));
    expect(tuned.scores.find((s) => s.lambda === tuned.lambda)!.ndcg).toBe(best);
    // Products of the same aisle are what the validation baskets hide: any sensible λ finds them.
    expect(best).toBeGreaterThan(0.3);
  });

  it('reasons name the largest contributors whose pair holds in the data (count ≥ 2, lift > 1)', () => {
    const baskets: string[][] = [];
    for (let i = 0; i < 30; i++) baskets.push(['tea', 'lemon', 'honey']);
    for (let i = 0; i < 10; i++) baskets.push(['tea', 'lemon']);
    for (let i = 0; i < 60; i++) baskets.push(['bread']);
    baskets.push(['bread', 'lemon']); // bread→lemon: one shared basket, lift < 1
    const m = model(baskets);
    const fit = fitEase(m, { lambda: 1 });
    const catalogue = new Map<string, CatalogProduct>(
      ['tea', 'lemon', 'honey', 'bread'].map((id) => [id, { id, title: id, category: null, available: true }]),
    );
    const recs = recommendForCustomer(
      m,
      {
        purchases: [
          { productId: 'tea', time: 0 },
          { productId: 'bread', time: 0 },
        ],
      },
      catalogue,
      { now: 0, fit, k: 2 },
    );
    const lemon = recs.find((r) => r.productId === 'lemon')!;
    expect(lemon.source).toBe('neighbours');
    for (const reason of lemon.reasons) {
      if (reason.kind !== 'bought-with') continue;
      expect(reason.statistic).toBe('ease');
      expect(reason.stats.lift).toBeGreaterThan(1);
      expect(reason.stats.count).toBeGreaterThanOrEqual(2);
      expect(reason.because).not.toBe('bread');
    }
    expect(lemon.reasons[0]).toMatchObject({ kind: 'bought-with', because: 'tea' });
    // A contribution whose pair does not hold is never stated.
    const candidate = { id: m.denseId('lemon')!, score: 1, base: 0, from: [], ease: [[m.denseId('bread')!, 5, 1]] };
    expect(easeReasons(m, candidate as never, 'lemon', 5)).toEqual([]);
  });
});
