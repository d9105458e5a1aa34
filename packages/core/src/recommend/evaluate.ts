import { TactfulError } from '../errors/tactful-error.js';
import { DEFAULT_EASE_ITEMS, fitEase, tuneEaseLambda, type EaseFit } from './ease.js';
import { CoPurchaseModel, compareStrings, type NeighbourOptions, type OrderBasket } from './model.js';
import { blendRanking, rankCandidates } from './recommender.js';
import { seededRandom } from '../random.js';

/**
 * The rankings compared: `tactful` (what Tactful serves: EASE on the most frequent products, the pair scores
 * for the rest), `pairs` (the previous ranking: pair scores summed per seed), `popularity`, `item-knn` (cosine
 * similarity summed over the seeds, every pair) and `ease-full` (EASE on every product, the reference).
 */
export const evaluatedModels = ['tactful', 'pairs', 'popularity', 'item-knn', 'ease-full'] as const;
export type EvaluatedModel = (typeof evaluatedModels)[number];

export interface EvaluationOptions {
  /** Cut-off of the ranked list; default 10. */
  k?: number | undefined;
  /** Seed of the hold-out split and of the hidden items; default 42. */
  seed?: number | undefined;
  /** Share of the baskets with at least two items held out; default 0.2. */
  holdout?: number | undefined;
  /** Neighbour options of the pair ranking (the score compared, thresholds). */
  neighbours?: Partial<NeighbourOptions> | undefined;
  /** Products fitted jointly by `tactful`; default DEFAULT_EASE_ITEMS. */
  easeItems?: number | undefined;
  /** The rankings to compute; default all (`ease-full` costs N³ on a large catalogue). */
  models?: readonly EvaluatedModel[] | undefined;
}

export interface EvaluationMetrics {
  /** Share of queries with a relevant product in the top k. */
  hitRate: number;
  /** Mean NDCG@k (leave-one-out: one relevant item, 1/log2(rank + 1) on a hit). */
  ndcg: number;
  /** Mean reciprocal rank of the first relevant product within the top k (0 when none is there): MRR@k. */
  mrr: number;
  /** Share of the catalogue (products in the training baskets) recommended to at least one query. */
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
  /** Products the `tactful` fit covers, the λ the validation split chose for it, and the fit's time. */
  ease: { items: number; lambda: number; fitMs: number; fullLambda: number | null };
  /** Every computed ranking's metrics. */
  models: Partial<Record<EvaluatedModel, EvaluationMetrics>>;
  tactful: EvaluationMetrics;
  popularity: EvaluationMetrics;
  /** tactful ÷ popularity, metric by metric. */
  ratio: EvaluationMetrics;
}

class MetricSum {
  hits = 0;
  ndcg = 0;
  mrr = 0;
  queries = 0;
  readonly recommended = new Set<number>();

  /** One query: `relevant` holds the products that count as a hit (one in leave-one-out). */
  record(list: readonly number[], relevant: ReadonlySet<number>): void {
    this.queries++;
    for (const id of list) this.recommended.add(id);
    if (relevant.size === 0) return;
    let dcg = 0;
    let first = 0;
    list.forEach((id, i) => {
      if (!relevant.has(id)) return;
      dcg += 1 / Math.log2(i + 2);
      if (first === 0) first = i + 1;
    });
    if (first === 0) return;
    let ideal = 0;
    for (let i = 0; i < Math.min(relevant.size, list.length); i++) ideal += 1 / Math.log2(i + 2);
    this.hits++;
    this.ndcg += dcg / ideal;
    this.mrr += 1 / first;
  }

  metrics(catalogue: number): EvaluationMetrics {
    const q = this.queries;
    return {
      hitRate: q === 0 ? 0 : this.hits / q,
      ndcg: q === 0 ? 0 : this.ndcg / q,
      mrr: q === 0 ? 0 : this.mrr / q,
      coverage: catalogue === 0 ? 0 : this.recommended.size / catalogue,
    };
  }
}

/** A ranking under test: seeds (dense id, weight) and what may not be recommended, to at most k dense ids. */
type Ranker = (seeds: ReadonlyArray<readonly [string, number]>, exclude: ReadonlySet<number>, k: number) => number[];

/** Cosine item-kNN over every pair: score(q) = Σ over seeds s of w(s)·nSQ/√(nS·nQ), then popularity. */
function itemKnnRanker(model: CoPurchaseModel): Ranker {
  const size = model.productUniverse;
  const degree = new Int32Array(size + 1);
  model.forEachPair((a, b) => {
    degree[a + 1]!++;
    degree[b + 1]!++;
  });
  for (let i = 0; i < size; i++) degree[i + 1] = degree[i + 1]! + degree[i]!;
  const fill = degree.slice(0, size);
  const other = new Int32Array(degree[size]!);
  const sim = new Float64Array(degree[size]!);
  model.forEachPair((a, b, count) => {
    const s = count / Math.sqrt(model.countOf(a) * model.countOf(b));
    other[fill[a]!] = b;
    sim[fill[a]!++] = s;
    other[fill[b]!] = a;
    sim[fill[b]!++] = s;
  });
  const score = new Float64Array(size);
  const popular = model.popularDenseIds();
  return (seeds, exclude, k) => {
    const touched: number[] = [];
    for (const [productId, weight] of seeds) {
      const s = model.denseId(productId);
      if (s === undefined) continue;
      for (let e = degree[s]!; e < degree[s + 1]!; e++) {
        const q = other[e]!;
        if (score[q] === 0) touched.push(q);
        score[q] = score[q]! + weight * sim[e]!;
      }
    }
    touched.sort((x, y) => score[y]! - score[x]! || compareStrings(model.label(x), model.label(y)));
    const out: number[] = [];
    for (const q of touched) if (out.length < k && !exclude.has(q)) out.push(q);
    for (const q of touched) score[q] = 0;
    const taken = new Set(out);
    for (let i = 0; i < popular.length && out.length < k; i++) {
      const q = popular[i]!;
      if (!exclude.has(q) && !taken.has(q)) out.push(q);
    }
    return out;
  };
}

function popularityRanker(model: CoPurchaseModel): Ranker {
  const popular = model.popularDenseIds();
  return (_seeds, exclude, k) => {
    const out: number[] = [];
    for (let i = 0; i < popular.length && out.length < k; i++) if (!exclude.has(popular[i]!)) out.push(popular[i]!);
    return out;
  };
}

function fitRanker(model: CoPurchaseModel, fit: EaseFit | null): Ranker {
  return (seeds, exclude, k) => rankCandidates(model, fit, seeds, k, (id) => !exclude.has(id), false).map((c) => c.id);
}

function pairsRanker(model: CoPurchaseModel): Ranker {
  return (seeds, exclude, k) => blendRanking(model, seeds, k, (id) => !exclude.has(id), false).map((c) => c.id);
}

/**
 * Fits EASE on the training model with λ chosen on a validation split cut from the training baskets (never
 * the test): the penalty is tuned on at most `tuneItems` products, the fit covers `maxItems`.
 */
export function fitWithValidation(
  model: CoPurchaseModel,
  trainingBaskets: ReadonlyArray<ArrayLike<number>>,
  options: { maxItems: number; seed: number; tuneItems?: number | undefined },
): EaseFit {
  const tuneItems = Math.min(options.maxItems, options.tuneItems ?? 1000);
  const { lambda } = tuneEaseLambda(model, trainingBaskets, {
    maxItems: tuneItems,
    random: seededRandom(options.seed ^ 0x5eed),
  });
  return fitEase(model, { maxItems: options.maxItems, lambda });
}

function checkCommon(k: number, seed: number): void {
  if (!Number.isInteger(k) || k < 1)
    throw new TactfulError('INPUT.INVALID', `k must be a whole number of at least 1, got ${k}.`);
  if (!Number.isInteger(seed)) throw new TactfulError('INPUT.INVALID', `seed must be a whole number, got ${seed}.`);
}

function buildRankers(
  model: CoPurchaseModel,
  trainingBaskets: ReadonlyArray<ArrayLike<number>>,
  models: readonly EvaluatedModel[],
  easeItems: number,
  seed: number,
): { rankers: Array<[EvaluatedModel, Ranker]>; fit: EaseFit | null; full: EaseFit | null } {
  const want = new Set(models);
  const fit = want.has('tactful') ? fitWithValidation(model, trainingBaskets, { maxItems: easeItems, seed }) : null;
  const catalogue = model.popularDenseIds().length;
  const full = !want.has('ease-full')
    ? null
    : fit && fit.productIds.length === catalogue
      ? fit
      : fitWithValidation(model, trainingBaskets, { maxItems: Math.max(1, catalogue), seed });
  const rankers: Array<[EvaluatedModel, Ranker]> = [];
  for (const name of evaluatedModels) {
    if (!want.has(name)) continue;
    if (name === 'tactful') rankers.push([name, fitRanker(model, fit)]);
    if (name === 'pairs') rankers.push([name, pairsRanker(model)]);
    if (name === 'popularity') rankers.push([name, popularityRanker(model)]);
    if (name === 'item-knn') rankers.push([name, itemKnnRanker(model)]);
    if (name === 'ease-full') rankers.push([name, fitRanker(model, full)]);
  }
  return { rankers, fit, full };
}

const ratioOf = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);

/**
 * Leave-one-out evaluation: a seeded random share (default 20 %) of the baskets with at least two items is
 * held out, one item hidden from each; the models are built on all other baskets; for each held-out basket the
 * remaining items (weight 1 each) ask every ranking for k products not in the basket.
 */
export async function evaluateRecommendations(
  source: AsyncIterable<OrderBasket> | Iterable<OrderBasket>,
  options: EvaluationOptions = {},
): Promise<EvaluationResult> {
  const k = options.k ?? 10;
  const seed = options.seed ?? 42;
  const holdout = options.holdout ?? 0.2;
  checkCommon(k, seed);
  if (!(holdout > 0 && holdout < 1))
    throw new TactfulError('INPUT.INVALID', `holdout must be between 0 and 1, got ${holdout}.`);
  const models = withRequired(options.models ?? evaluatedModels);

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
    const t = eligible[i]!;
    eligible[i] = eligible[j]!;
    eligible[j] = t;
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
  const training: number[][] = [];
  baskets.forEach((items, i) => {
    if (heldOutSet.has(i)) return;
    model.ingest({ orderId: String(i), productIds: items });
    training.push(items.map((p) => model.denseId(p)!));
  });
  const catalogue = model.popularDenseIds().length;
  const { rankers, fit, full } = buildRankers(model, training, models, options.easeItems ?? DEFAULT_EASE_ITEMS, seed);

  const sums = new Map(rankers.map(([name]) => [name, new MetricSum()]));
  for (const query of queries) {
    const hidden = model.denseId(query.hidden);
    const relevant = new Set(hidden === undefined ? [] : [hidden]);
    const inBasket = new Set<number>();
    for (const item of query.rest) {
      const id = model.denseId(item);
      if (id !== undefined) inBasket.add(id);
    }
    const seeds = query.rest.map((item) => [item, 1] as const);
    for (const [name, rank] of rankers) sums.get(name)!.record(rank(seeds, inBasket, k), relevant);
  }
  const metrics: Partial<Record<EvaluatedModel, EvaluationMetrics>> = {};
  for (const [name, sum] of sums) metrics[name] = sum.metrics(catalogue);
  const t = metrics.tactful!;
  const p = metrics.popularity!;
  return {
    k,
    seed,
    baskets: baskets.length,
    eligible: eligible.length,
    heldOut: queries.length,
    catalogueSize: catalogue,
    neighbours: { ...model.neighbourOptions },
    ease: {
      items: fit?.productIds.length ?? 0,
      lambda: fit?.lambda ?? 0,
      fitMs: fit?.fitMs ?? 0,
      fullLambda: full?.lambda ?? null,
    },
    models: metrics,
    tactful: t,
    popularity: p,
    ratio: {
      hitRate: ratioOf(t.hitRate, p.hitRate),
      ndcg: ratioOf(t.ndcg, p.ndcg),
      mrr: ratioOf(t.mrr, p.mrr),
      coverage: ratioOf(t.coverage, p.coverage),
    },
  };
}

/** `tactful` and `popularity` are always computed: the ratio column compares them. */
function withRequired(models: readonly EvaluatedModel[]): EvaluatedModel[] {
  const set = new Set<EvaluatedModel>(['tactful', 'popularity', ...models]);
  return evaluatedModels.filter((m) => set.has(m));
}

export interface NextOrderOptions {
  k?: number | undefined;
  /** Orders before this instant train the models; each customer's first order at or after it is scored. */
  cut?: Date | number | undefined;
  /** Without `cut`: the instant before which this share of the orders lies; default 0.8. */
  trainShare?: number | undefined;
  /** A purchase this many days before the cut counts half (the customer's history as seeds); default 90. */
  halfLifeDays?: number | undefined;
  /** Seed of the validation split that tunes λ (the test is the future, never seen). */
  seed?: number | undefined;
  neighbours?: Partial<NeighbourOptions> | undefined;
  easeItems?: number | undefined;
  models?: readonly EvaluatedModel[] | undefined;
}

export interface NextOrderResult {
  k: number;
  cut: string;
  trainOrders: number;
  /** Customers with an order before the cut and one after it holding a product new to them. */
  customers: number;
  catalogueSize: number;
  halfLifeDays: number;
  ease: { items: number; lambda: number; fitMs: number; fullLambda: number | null };
  models: Partial<Record<EvaluatedModel, EvaluationMetrics>>;
}

/**
 * What email is for: orders before a cut date train the models; each customer who ordered before it and after
 * it gets k products ranked from their whole history before the cut (every product they bought, weighted by
 * recency), nothing they bought before; a hit is a product of their next order after the cut that is new to
 * them. NDCG@k counts every such product as relevant.
 */
export async function evaluateNextOrder(
  source: AsyncIterable<OrderBasket> | Iterable<OrderBasket>,
  options: NextOrderOptions = {},
): Promise<NextOrderResult> {
  const k = options.k ?? 10;
  const seed = options.seed ?? 42;
  checkCommon(k, seed);
  const halfLifeDays = options.halfLifeDays ?? 90;
  if (!(halfLifeDays > 0))
    throw new TactfulError('INPUT.INVALID', `halfLifeDays must be above 0, got ${halfLifeDays}.`);
  const orders: Array<{ customerId: string; time: number; items: string[] }> = [];
  let withoutCustomer = 0;
  for await (const order of source) {
    const items = [...new Set(order.productIds.filter((p) => p !== ''))];
    if (items.length === 0) continue;
    if (!order.customerId || order.time === null || order.time === undefined || !Number.isFinite(order.time)) {
      withoutCustomer++;
      continue;
    }
    orders.push({ customerId: order.customerId, time: order.time, items });
  }
  if (orders.length === 0)
    throw new TactfulError(
      'INPUT.INVALID',
      `No order carries both a customer and a date (${withoutCustomer} without): the next-order protocol needs order histories (Shopify export CSV or JSONL with customerId and time).`,
    );
  orders.sort((a, b) => a.time - b.time);
  const share = options.trainShare ?? 0.8;
  if (!(share > 0 && share < 1))
    throw new TactfulError('INPUT.INVALID', `trainShare must be between 0 and 1, got ${share}.`);
  const cut =
    options.cut === undefined
      ? orders[Math.min(orders.length - 1, Math.floor(orders.length * share))]!.time
      : typeof options.cut === 'number'
        ? options.cut
        : options.cut.getTime();
  const model = new CoPurchaseModel({ neighbours: options.neighbours, trackOrders: false });
  const training: number[][] = [];
  const history = new Map<string, Map<string, number>>();
  const next = new Map<string, string[]>();
  for (const order of orders) {
    if (order.time < cut) {
      model.ingest({ orderId: String(training.length), productIds: order.items });
      training.push(order.items.map((p) => model.denseId(p)!));
      let bought = history.get(order.customerId);
      if (!bought) history.set(order.customerId, (bought = new Map()));
      for (const p of order.items) bought.set(p, order.time);
    } else if (!next.has(order.customerId)) next.set(order.customerId, order.items);
  }
  if (training.length === 0)
    throw new TactfulError(
      'INPUT.INVALID',
      `No order before the cut ${new Date(cut).toISOString()}: choose a later cut.`,
    );
  const models = withRequired(options.models ?? evaluatedModels);
  const catalogue = model.popularDenseIds().length;
  const { rankers, fit, full } = buildRankers(model, training, models, options.easeItems ?? DEFAULT_EASE_ITEMS, seed);
  const sums = new Map(rankers.map(([name]) => [name, new MetricSum()]));
  const halfLife = halfLifeDays * 86_400_000;
  let customers = 0;
  const ids = [...next.keys()].filter((c) => history.has(c)).sort(compareStrings);
  for (const customerId of ids) {
    const bought = history.get(customerId)!;
    const relevant = new Set<number>();
    for (const p of next.get(customerId)!) {
      const id = model.denseId(p);
      if (!bought.has(p) && id !== undefined) relevant.add(id);
    }
    if (relevant.size === 0) continue;
    customers++;
    const exclude = new Set<number>();
    const seeds: Array<[string, number]> = [];
    for (const [p, time] of bought) {
      exclude.add(model.denseId(p)!);
      seeds.push([p, 0.5 ** ((cut - time) / halfLife)]);
    }
    for (const [name, rank] of rankers) sums.get(name)!.record(rank(seeds, exclude, k), relevant);
  }
  const metrics: Partial<Record<EvaluatedModel, EvaluationMetrics>> = {};
  for (const [name, sum] of sums) metrics[name] = sum.metrics(catalogue);
  return {
    k,
    cut: new Date(cut).toISOString(),
    trainOrders: training.length,
    customers,
    catalogueSize: catalogue,
    halfLifeDays,
    ease: {
      items: fit?.productIds.length ?? 0,
      lambda: fit?.lambda ?? 0,
      fitMs: fit?.fitMs ?? 0,
      fullLambda: full?.lambda ?? null,
    },
    models: metrics,
  };
}
