import { TactfulError } from '../errors/tactful-error.js';
import { CoPurchaseModel, type NeighbourOptions, type OrderBasket } from './model.js';
import { blendRanking } from './recommender.js';

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same split on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface EvaluationOptions {
  /** Cut-off of the ranked list; default 10. */
  k?: number | undefined;
  /** Seed of the hold-out split and of the hidden items; default 42. */
  seed?: number | undefined;
  /** Share of the baskets with at least two items held out; default 0.2. */
  holdout?: number | undefined;
  /** Neighbour options of the model under test (the score compared, thresholds). */
  neighbours?: Partial<NeighbourOptions> | undefined;
}

export interface EvaluationMetrics {
  /** Share of held-out baskets whose hidden item is in the top k. */
  hitRate: number;
  /** Mean NDCG@k with the one hidden item as the only relevant one: 1/log2(rank + 1) on a hit, else 0. */
  ndcg: number;
  /** Mean reciprocal rank of the hidden item within the top k (0 when it is not there): MRR@k. */
  mrr: number;
  /** Share of the catalogue (products in the training baskets) recommended to at least one basket. */
  coverage: number;
}

export interface EvaluationResult {
  k: number;
  seed: number;
  baskets: number;
  /** Baskets with at least two distinct items. */
  eligible: number;
  heldOut: number;
  catalogueSize: number;
  neighbours: NeighbourOptions;
  tactful: EvaluationMetrics;
  popularity: EvaluationMetrics;
  /** tactful ÷ popularity, metric by metric. */
  ratio: EvaluationMetrics;
}

class MetricSum {
  hits = 0;
  ndcg = 0;
  mrr = 0;
  readonly recommended = new Set<number>();

  record(list: readonly number[], hidden: number | undefined): void {
    for (const id of list) this.recommended.add(id);
    if (hidden === undefined) return;
    const rank = list.indexOf(hidden) + 1;
    if (rank === 0) return;
    this.hits++;
    this.ndcg += 1 / Math.log2(rank + 1);
    this.mrr += 1 / rank;
  }

  metrics(queries: number, catalogue: number): EvaluationMetrics {
    return {
      hitRate: queries === 0 ? 0 : this.hits / queries,
      ndcg: queries === 0 ? 0 : this.ndcg / queries,
      mrr: queries === 0 ? 0 : this.mrr / queries,
      coverage: catalogue === 0 ? 0 : this.recommended.size / catalogue,
    };
  }
}

/**
 * Leave-one-out evaluation: a seeded random share (default 20 %) of the baskets with at least two items is
 * held out, one item hidden from each; the model is built on all other baskets; for each held-out basket the
 * remaining items ask for k recommendations, from Tactful (neighbour scores summed over the items, then
 * popular fill) and from the popularity baseline (the k most popular products not in the basket).
 */
export async function evaluateRecommendations(
  source: AsyncIterable<OrderBasket> | Iterable<OrderBasket>,
  options: EvaluationOptions = {},
): Promise<EvaluationResult> {
  const k = options.k ?? 10;
  const seed = options.seed ?? 42;
  const holdout = options.holdout ?? 0.2;
  if (!Number.isInteger(k) || k < 1)
    throw new TactfulError('INPUT.INVALID', `k must be a whole number of at least 1, got ${k}.`);
  if (!Number.isInteger(seed)) throw new TactfulError('INPUT.INVALID', `seed must be a whole number, got ${seed}.`);
  if (!(holdout > 0 && holdout < 1))
    throw new TactfulError('INPUT.INVALID', `holdout must be between 0 and 1, got ${holdout}.`);

  const baskets: string[][] = [];
  for await (const order of source) {
    const items = [...new Set(order.productIds.filter((p) => p !== ''))];
    if (items.length > 0) baskets.push(items);
  }
  const eligible: number[] = [];
  baskets.forEach((items, i) => {
    if (items.length >= 2) eligible.push(i);
  });
  const random = seededRandom(seed);
  for (let i = eligible.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [eligible[i], eligible[j]] = [eligible[j]!, eligible[i]!];
  }
  const heldOutCount = Math.round(eligible.length * holdout);
  const heldOut = eligible.slice(0, heldOutCount).sort((a, b) => a - b);
  const heldOutSet = new Set(heldOut);
  const queries = heldOut.map((index) => {
    const items = baskets[index]!;
    const hide = Math.floor(random() * items.length);
    return { hidden: items[hide]!, rest: items.filter((_, i) => i !== hide) };
  });

  const model = new CoPurchaseModel({ neighbours: options.neighbours, trackOrders: false });
  baskets.forEach((items, i) => {
    if (!heldOutSet.has(i)) model.ingest({ orderId: String(i), productIds: items });
  });
  const popular = model.popularDenseIds();
  const catalogue = popular.length;

  const tactful = new MetricSum();
  const baseline = new MetricSum();
  for (const query of queries) {
    const hidden = model.denseId(query.hidden);
    const inBasket = new Set<number>();
    for (const item of query.rest) {
      const id = model.denseId(item);
      if (id !== undefined) inBasket.add(id);
    }

    const popularList: number[] = [];
    for (let i = 0; i < popular.length && popularList.length < k; i++)
      if (!inBasket.has(popular[i]!)) popularList.push(popular[i]!);
    baseline.record(popularList, hidden);

    const seeds = query.rest.map((item) => [item, 1] as const);
    const list = blendRanking(model, seeds, k, (id) => !inBasket.has(id), false).map((c) => c.id);
    tactful.record(list, hidden);
  }

  const t = tactful.metrics(queries.length, catalogue);
  const p = baseline.metrics(queries.length, catalogue);
  const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);
  return {
    k,
    seed,
    baskets: baskets.length,
    eligible: eligible.length,
    heldOut: queries.length,
    catalogueSize: catalogue,
    neighbours: { ...model.neighbourOptions },
    tactful: t,
    popularity: p,
    ratio: {
      hitRate: ratio(t.hitRate, p.hitRate),
      ndcg: ratio(t.ndcg, p.ndcg),
      mrr: ratio(t.mrr, p.mrr),
      coverage: ratio(t.coverage, p.coverage),
    },
  };
}
