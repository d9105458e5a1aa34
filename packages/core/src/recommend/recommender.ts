import { TactfulError } from '../errors/tactful-error.js';
import { compareStrings, type CoPurchaseModel, type Neighbour, type NeighbourTable } from './model.js';
import type { CatalogProduct } from './parse.js';
import { easeIndex, type EaseFit } from './ease.js';
import { pairStats, scoreBaseline, type PairStats, type ScoreName } from './stats.js';

const DAY_MS = 86_400_000;

/** A product the customer bought, and when (epoch ms or Date). */
export interface PurchaseRecord {
  productId: string;
  time: number | Date;
}

/** A product already recommended to the customer (an email sent, a page shown), and when. */
export interface SentRecord {
  productId: string;
  time: number | Date;
}

export interface CustomerHistory {
  purchases: readonly PurchaseRecord[];
  sent?: readonly SentRecord[] | undefined;
  /**
   * Categories the customer told us they like (declared interests, strongest first). For a thin history
   * (fewer than `thinHistorySeeds` purchases the model knows) they come before popularity.
   */
  interests?: readonly string[] | undefined;
  /**
   * Products that are never a basis, a reason or a recommendation: purchases the customer excluded ("not
   * this"). They still count as owned.
   */
  blockedProducts?: ReadonlySet<string> | undefined;
  /**
   * Categories (compared case-insensitively) that are never a basis, a reason or a recommendation: categories
   * the customer excluded, and sensitive categories they did not opt in to.
   */
  blockedCategories?: ReadonlySet<string> | undefined;
  /**
   * Products the shop favours, first first: each leads the list when it may be offered to this customer (in
   * the catalogue and available, not blocked, not owned, not sent lately). They never bypass those rules.
   */
  pinned?: readonly string[] | undefined;
}

export interface RecommendOptions {
  /** How many recommendations; default 10. */
  k?: number | undefined;
  /** "Now" for recency and intervals; default Date.now(). */
  now?: number | Date | undefined;
  /** A purchase this many days old counts half as much as one made today; default 90. */
  halfLifeDays?: number | undefined;
  /** Do not recommend what the customer was sent in the last N days; default 30. */
  recentlySentDays?: number | undefined;
  /** Repurchase interval for replenishable products that declare none and have no estimate; default 30. */
  defaultRepurchaseIntervalDays?: number | undefined;
  /** Estimated usual repurchase intervals in days (see `estimateRepurchaseIntervals`). */
  repurchaseIntervals?: ReadonlyMap<string, number> | undefined;
  /**
   * Use the N most recently bought products (highest recency weight) as seeds; default 200. Bounds the work
   * for customers with thousands of products; older purchases weigh little (see halfLifeDays). Everything
   * they own is still excluded.
   */
  maxSeeds?: number | undefined;
  /** Keep the strongest N reasons of each recommendation; default 5. All of them add up to its score. */
  maxReasons?: number | undefined;
  /** Below this many purchases known to the model, declared interests come before popularity; default 3. */
  thinHistorySeeds?: number | undefined;
  /**
   * The jointly fitted model (EASE) of the same shop: it ranks the products it covers, the pair scores the
   * rest. Without it the pair scores rank everything.
   */
  fit?: EaseFit | null | undefined;
}

/** Why a product is recommended; emails and pages render it ("because you bought X"). */
export type RecommendationReason =
  | {
      kind: 'bought-with';
      /** The product the customer bought that this one is a neighbour of. */
      because: string;
      /**
       * The statistic the ranking used, and its value for because→this product: a pair score, or `ease`, the
       * weight B[because][this product] of the jointly fitted model.
       */
      statistic: ScoreName | 'ease';
      value: number;
      /** This reason's share of the recommendation's score: value × recency weight of `because`. */
      score: number;
      /** All statistics of the rule because→this product. */
      stats: PairStats;
    }
  | { kind: 'popular-in-category'; category: string; count: number; score: number }
  /** Popular in a category the customer told us they like: "because you told us you like X". */
  | { kind: 'declared-interest'; category: string; count: number; score: number }
  | { kind: 'popular'; count: number; score: number }
  /** Favoured by the shop (merchandising): it leads the list. */
  | { kind: 'pinned'; score: number };

export interface Recommendation {
  productId: string;
  product: CatalogProduct;
  /** Ranking score of the recommendation's source: the sum of its reasons' scores for `bought-with`. */
  score: number;
  source: 'neighbours' | 'popular-in-category' | 'declared-interest' | 'popular' | 'pinned';
  /** Strongest first. */
  reasons: RecommendationReason[];
}

function ms(time: number | Date): number {
  return typeof time === 'number' ? time : time.getTime();
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `${name} must be a non-negative number, got ${value}.`);
  return value;
}

/** A candidate of the blended ranking: dense id, total score, base-rate part, and its neighbour contributions. */
export interface RankedCandidate {
  id: number;
  score: number;
  /** The base-rate part of `score`: (Σ seed weights) × baseline of the product. */
  base: number;
  /** Neighbour contributions as [source dense id, pair score, seed weight]. */
  from: Array<[number, number, number]>;
  /**
   * Ranked by the fitted model: its contributions as [seed dense id, B[seed][product], seed weight × the covered
   * share of the seed weight]; then `from` holds the pair contributions of the seeds the fit does not cover.
   */
  ease?: Array<[number, number, number]>;
}

/** Per-fit working arrays of the EASE ranking (scores and base-rate parts over the fitted products, their order). */
const easeScratch = new WeakMap<EaseFit, { score: Float64Array; base: Float64Array; order: Int32Array }>();

/**
 * The ranking Tactful serves and the evaluation measures (`tactful`). Each seed votes with the model that knows
 * it, and a product's score is the weight-average of the votes, an estimate of P(q | the purchases):
 *   - a product the fit covers scores  c·(B[∘][q] + Σ covered seeds s of w(s)·B[s][q])
 *                                      + (1/W)·Σ other seeds p of w(p)·P̂(q | p),
 *     c = covered seed weight / W, W = Σ w, P̂ the pair score plus its baseline (as in `blendRanking`);
 *   - a product outside the fit scores its pair ranking divided by W, a weighted mean of P̂(q | p);
 * and the two lists are merged. Without a fit, or when no seed is covered by it, the pair ranking alone. In a
 * catalogue much larger than the fit most purchases lie outside it: without their votes the fitted products were
 * ranked on a few seeds only (docs/recommendations.md, "A catalogue far larger than the fit").
 */
export function rankCandidates(
  model: CoPurchaseModel,
  fit: EaseFit | null | undefined,
  seeds: ReadonlyArray<readonly [productId: string, weight: number]>,
  k: number,
  accept: (id: number) => boolean,
  keepReasons: boolean,
): RankedCandidate[] {
  if (!fit || fit.productIds.length === 0 || k <= 0) return blendRanking(model, seeds, k, accept, keepReasons);
  const { dense, position } = easeIndex(fit, model);
  const n = fit.productIds.length;
  const covered: Array<[number, number, number]> = [];
  let totalWeight = 0;
  for (const [productId, weight] of seeds) {
    if (!(weight > 0)) continue;
    const id = model.denseId(productId);
    if (id === undefined || model.countOf(id) === 0) continue;
    totalWeight += weight;
    const at = position[id]!;
    if (at >= 0) covered.push([id, at, weight]);
  }
  if (covered.length === 0) return blendRanking(model, seeds, k, accept, keepReasons);
  let scratch = easeScratch.get(fit);
  if (!scratch)
    easeScratch.set(
      fit,
      (scratch = { score: new Float64Array(n), base: new Float64Array(n), order: new Int32Array(n) }),
    );
  const { score, base, order } = scratch;
  const weights = fit.weights;
  const d = n + 1;
  let coveredWeight = 0;
  for (const [, , weight] of covered) coveredWeight += weight;
  const share = coveredWeight / totalWeight;
  // The intercept once (the base rate), then each covered seed's row.
  for (let j = 0; j < n; j++) score[j] = weights[n * d + j]!;
  for (const [, at, weight] of covered) {
    const row = at * d;
    for (let j = 0; j < n; j++) score[j] = score[j]! + weight * weights[row + j]!;
  }
  for (let j = 0; j < n; j++) {
    score[j] = share * score[j]!;
    base[j] = share * weights[n * d + j]!;
  }
  // The votes of the seeds the fit does not cover: their baseline share, then their pair scores.
  const pairVotes = new Map<number, Array<[number, number, number]>>();
  if (share < 1) {
    const scoreName = model.neighbourOptions.score;
    const outsideShare = 1 - share;
    for (let j = 0; j < n; j++) {
      const id = dense[j]!;
      if (id < 0) continue;
      const vote = outsideShare * scoreBaseline(scoreName, model.countOf(id), model.basketCount);
      score[j] = score[j]! + vote;
      base[j] = base[j]! + vote;
    }
    const table = model.neighbourTable();
    for (const [productId, weight] of seeds) {
      if (!(weight > 0)) continue;
      const source = model.denseId(productId);
      if (source === undefined || model.countOf(source) === 0 || position[source]! >= 0) continue;
      const w = weight / totalWeight;
      const end = source * table.k + table.lengths[source]!;
      for (let slot = source * table.k; slot < end; slot++) {
        const at = position[table.ids[slot]!]!;
        if (at < 0) continue;
        const value = table.scores[slot]!;
        score[at] = score[at]! + w * value;
        if (!keepReasons) continue;
        const votes = pairVotes.get(at);
        if (votes) votes.push([source, value, w]);
        else pairVotes.set(at, [[source, value, w]]);
      }
    }
  }
  for (let j = 0; j < n; j++) order[j] = j;
  // Ties by product id, so the list does not depend on the fit's internal order.
  order.sort((x, y) => score[y]! - score[x]! || compareStrings(fit.productIds[x]!, fit.productIds[y]!));
  const fitted: RankedCandidate[] = [];
  for (let r = 0; r < n && fitted.length < k; r++) {
    const j = order[r]!;
    const id = dense[j]!;
    if (id < 0 || model.countOf(id) === 0 || !accept(id)) continue;
    const ease: Array<[number, number, number]> = keepReasons
      ? covered.map(([seed, at, weight]) => [seed, weights[at * d + j]!, share * weight])
      : [];
    fitted.push({ id, score: score[j]!, base: base[j]!, from: pairVotes.get(j) ?? [], ease });
  }
  // The products the fit does not cover, on their pair ranking, on the same scale.
  const outside = blendRanking(model, seeds, k, (id) => position[id]! < 0 && accept(id), keepReasons);
  const out: RankedCandidate[] = [];
  let a = 0;
  let b = 0;
  while (out.length < k && (a < fitted.length || b < outside.length)) {
    const x = fitted[a];
    const y = outside[b];
    const yScore = y ? y.score / totalWeight : -Infinity;
    if (x && (x.score >= yScore || !y)) {
      out.push(x);
      a++;
    } else if (y) {
      const from = y.from.map(([source, value, weight]): [number, number, number] => [
        source,
        value,
        weight / totalWeight,
      ]);
      out.push({ id: y.id, score: yScore, base: y.base / totalWeight, from });
      b++;
    }
  }
  return out;
}

/**
 * The ranking Tactful serves and the evaluation measures. Every product q scores
 *   Σ over seeds p of weight(p) · score(p→q)  +  (Σ weight) · baseline(q)
 * where score(p→q) counts only when q is one of p's top-K neighbours. With the default `uplift` score the
 * baseline is q's base rate, so the score is a weighted sum of P(q | p): the confidence where the pair is a
 * significant positive association, the base rate where it is not. Neighbour candidates and the popularity
 * list are merged lazily; `accept` filters (owned, unavailable, ...); at most k are returned, best first.
 */
export function blendRanking(
  model: CoPurchaseModel,
  seeds: ReadonlyArray<readonly [productId: string, weight: number]>,
  k: number,
  accept: (id: number) => boolean,
  keepReasons: boolean,
): RankedCandidate[] {
  const scoreName = model.neighbourOptions.score;
  const n = model.basketCount;
  const scratch = scratchFor(model);
  const epoch = ++scratch.epoch;
  const { stamp, score, head } = scratch;
  // Fetched at the first purchase the model knows: a ranking on unknown purchases computes no neighbours.
  let table: Readonly<NeighbourTable> | null = null;
  let touched = 0;
  let contributions = 0;
  let totalWeight = 0;
  for (const [productId, weight] of seeds) {
    if (!(weight > 0)) continue;
    const source = model.denseId(productId);
    if (source === undefined || model.countOf(source) === 0) continue;
    totalWeight += weight;
    table ??= model.neighbourTable();
    // The neighbours of `source`, best first, read in place (no callback per neighbour).
    const end = source * table.k + table.lengths[source]!;
    for (let slot = source * table.k; slot < end; slot++) {
      const neighbour = table.ids[slot]!;
      const pairScoreValue = table.scores[slot]!;
      if (stamp[neighbour] !== epoch) {
        stamp[neighbour] = epoch;
        score[neighbour] = 0;
        head[neighbour] = -1;
        if (touched === scratch.touched.length) scratch.touched = grow(scratch.touched);
        scratch.touched[touched++] = neighbour;
      }
      score[neighbour] = score[neighbour]! + weight * pairScoreValue;
      if (keepReasons) {
        if (contributions === scratch.cSource.length) growContributions(scratch);
        scratch.cSource[contributions] = source;
        scratch.cValue[contributions] = pairScoreValue;
        scratch.cWeight[contributions] = weight;
        scratch.cNext[contributions] = head[neighbour]!;
        head[neighbour] = contributions++;
      }
    }
  }
  const out: RankedCandidate[] = [];
  if (k <= 0 || totalWeight === 0) return out;
  const baseOf = (id: number) => totalWeight * scoreBaseline(scoreName, model.countOf(id), n);
  // Totals, then a max-heap over the touched ids: only as many pops as the list needs.
  const heap = scratch.touched;
  for (let i = 0; i < touched; i++) {
    const id = heap[i]!;
    score[id] = score[id]! + baseOf(id);
  }
  const better = (a: number, b: number) =>
    score[a]! > score[b]! || (score[a] === score[b] && model.label(a) < model.label(b));
  const siftDown = (from: number, size: number) => {
    let i = from;
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && better(heap[r]!, heap[l]!) ? r : l;
      if (!better(heap[c]!, item)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = item;
  };
  let size = touched;
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i, size);
  const popular = model.popularDenseIds();
  const take = (id: number): RankedCandidate => {
    const from: Array<[number, number, number]> = [];
    for (let c = keepReasons ? head[id]! : -1; c !== -1; c = scratch.cNext[c]!)
      from.push([scratch.cSource[c]!, scratch.cValue[c]!, scratch.cWeight[c]!]);
    return { id, score: score[id]!, base: baseOf(id), from };
  };
  let j = 0;
  while (out.length < k) {
    while (j < popular.length && stamp[popular[j]!] === epoch) j++;
    const next = size > 0 ? heap[0]! : -1;
    const pop = j < popular.length ? popular[j]! : -1;
    if (next === -1 && pop === -1) break;
    const popScore = pop === -1 ? -Infinity : baseOf(pop);
    if (
      next !== -1 &&
      (score[next]! > popScore || (score[next] === popScore && model.label(next) < model.label(pop)))
    ) {
      heap[0] = heap[--size]!;
      siftDown(0, size);
      if (accept(next)) out.push(take(next));
    } else {
      j++;
      if (accept(pop)) out.push({ id: pop, score: popScore, base: popScore, from: [] });
    }
  }
  return out;
}

/** Per-model working arrays of the ranking, indexed by dense product id; reset by epoch, never reallocated per call. */
interface Scratch {
  epoch: number;
  stamp: Int32Array;
  score: Float64Array;
  head: Int32Array;
  touched: Int32Array;
  cSource: Int32Array;
  cValue: Float64Array;
  cWeight: Float64Array;
  cNext: Int32Array;
}
const scratches = new WeakMap<CoPurchaseModel, Scratch>();

function scratchFor(model: CoPurchaseModel): Scratch {
  const size = Math.max(16, model.productUniverse);
  let scratch = scratches.get(model);
  if (!scratch || scratch.stamp.length < size) {
    scratch = {
      epoch: 0,
      stamp: new Int32Array(size * 2),
      score: new Float64Array(size * 2),
      head: new Int32Array(size * 2),
      touched: scratch?.touched ?? new Int32Array(1024),
      cSource: scratch?.cSource ?? new Int32Array(1024),
      cValue: scratch?.cValue ?? new Float64Array(1024),
      cWeight: scratch?.cWeight ?? new Float64Array(1024),
      cNext: scratch?.cNext ?? new Int32Array(1024),
    };
    scratches.set(model, scratch);
  }
  return scratch;
}

function grow<T extends Int32Array | Float64Array>(array: T): T {
  const next = new (array.constructor as new (length: number) => T)(array.length * 2);
  next.set(array);
  return next;
}

function growContributions(scratch: Scratch): void {
  scratch.cSource = grow(scratch.cSource);
  scratch.cValue = grow(scratch.cValue);
  scratch.cWeight = grow(scratch.cWeight);
  scratch.cNext = grow(scratch.cNext);
}

interface CategoryIndex {
  revision: number;
  byCategory: Map<string, Int32Array>;
}
const categoryIndexes = new WeakMap<CoPurchaseModel, WeakMap<ReadonlyMap<string, CatalogProduct>, CategoryIndex>>();

/** Products of each category by popularity, cached per model revision and catalogue. */
function categoryIndex(model: CoPurchaseModel, products: ReadonlyMap<string, CatalogProduct>): Map<string, Int32Array> {
  let perCatalog = categoryIndexes.get(model);
  if (!perCatalog) categoryIndexes.set(model, (perCatalog = new WeakMap()));
  const cached = perCatalog.get(products);
  if (cached && cached.revision === model.revision) return cached.byCategory;
  const lists = new Map<string, number[]>();
  for (const id of model.popularDenseIds()) {
    const category = products.get(model.label(id))?.category;
    if (!category) continue;
    let list = lists.get(category);
    if (!list) lists.set(category, (list = []));
    list.push(id);
  }
  const byCategory = new Map([...lists].map(([category, list]) => [category, Int32Array.from(list)]));
  perCatalog.set(products, { revision: model.revision, byCategory });
  return byCategory;
}

/**
 * Recommendations for one customer: the neighbours of everything they bought, each purchase weighted by
 * recency (half-life), minus what they own (unless replenishable and due again), what is unavailable or
 * not in the catalogue, and what they were sent recently; then popular-in-category, then popular overall.
 * Every item carries its reasons.
 */
export function recommendForCustomer(
  model: CoPurchaseModel,
  history: CustomerHistory,
  products: ReadonlyMap<string, CatalogProduct>,
  options: RecommendOptions = {},
): Recommendation[] {
  const k = options.k ?? 10;
  if (!Number.isInteger(k) || k < 0)
    throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `k must be a non-negative integer, got ${k}.`);
  const now = ms(options.now ?? Date.now());
  const halfLife = positive('halfLifeDays', options.halfLifeDays ?? 90) * DAY_MS;
  if (halfLife === 0) throw new TactfulError('RECOMMEND.INVALID_OPTIONS', 'halfLifeDays must be above 0.');
  const sentWindow = positive('recentlySentDays', options.recentlySentDays ?? 30) * DAY_MS;
  const thinHistorySeeds = positive('thinHistorySeeds', options.thinHistorySeeds ?? 3);
  const blockedCategories = new Set<string>();
  for (const category of history.blockedCategories ?? []) blockedCategories.add(categoryKey(category));
  const blockedProducts = history.blockedProducts ?? new Set<string>();
  /** Never a basis, a reason or a recommendation (see CustomerHistory). */
  const blocked = (productId: string): boolean => {
    if (blockedProducts.has(productId)) return true;
    // Most customers block no category: no catalogue look-up and no key per product then.
    if (blockedCategories.size === 0) return false;
    const category = products.get(productId)?.category;
    return category !== null && category !== undefined && blockedCategories.has(categoryKey(category));
  };
  const defaultInterval = positive('defaultRepurchaseIntervalDays', options.defaultRepurchaseIntervalDays ?? 30);
  const maxReasons = positive('maxReasons', options.maxReasons ?? 5);

  // Last purchase of each product.
  const lastBought = new Map<string, number>();
  for (const purchase of history.purchases) {
    const t = ms(purchase.time);
    const prev = lastBought.get(purchase.productId);
    if (prev === undefined || t > prev) lastBought.set(purchase.productId, t);
  }
  const recentlySent = new Set<string>();
  for (const sent of history.sent ?? []) if (now - ms(sent.time) < sentWindow) recentlySent.add(sent.productId);

  const eligible = (productId: string): CatalogProduct | null => {
    const product = products.get(productId);
    if (!product?.available) return null;
    if (recentlySent.has(productId) || blocked(productId)) return null;
    const bought = lastBought.get(productId);
    if (bought !== undefined) {
      if (!product.replenishable) return null;
      const interval = product.repurchaseIntervalDays ?? options.repurchaseIntervals?.get(productId) ?? defaultInterval;
      if (now - bought < interval * DAY_MS) return null;
    }
    return product;
  };

  const maxSeeds = positive('maxSeeds', options.maxSeeds ?? 200);
  let seeds: Array<[string, number]> = [];
  // forEach rather than for…of: no [key, value] pair allocated per purchased product.
  lastBought.forEach((t, productId) => {
    if (!blocked(productId)) seeds.push([productId, 0.5 ** (Math.max(0, now - t) / halfLife)]);
  });
  if (seeds.length > maxSeeds) {
    // The cut-off weight by a numeric sort; ties at the cut-off broken by product id.
    const weights = Float64Array.from(seeds, (seed) => seed[1]).sort();
    const cutoff = weights[weights.length - maxSeeds]!;
    const above = seeds.filter((seed) => seed[1] > cutoff);
    const tied = seeds.filter((seed) => seed[1] === cutoff).sort((x, y) => compareStrings(x[0], y[0]));
    seeds = above.concat(tied.slice(0, maxSeeds - above.length));
  }
  seeds.sort((x, y) => y[1] - x[1] || compareStrings(x[0], y[0]));

  const out: Recommendation[] = [];
  const chosen = new Set<string>();
  if (k === 0) return out;

  // The shop's favourites lead, each only where it may be offered at all.
  for (const productId of history.pinned ?? []) {
    if (out.length >= k) break;
    if (chosen.has(productId)) continue;
    const product = eligible(productId);
    if (!product) continue;
    out.push({ productId, product, score: 1, source: 'pinned', reasons: [{ kind: 'pinned', score: 1 }] });
    chosen.add(productId);
  }
  if (out.length >= k) return out;

  // The blended ranking (what the evaluation measures): neighbours of the purchases, popular products by base rate.
  const statistic = model.neighbourOptions.score;
  const eligibleById = (id: number) => {
    const productId = model.label(id);
    return !chosen.has(productId) && eligible(productId) !== null;
  };
  // Declared interests (blocked categories left out), matched to the catalogue's own spelling of the category.
  const catalogueCategories = new Map<string, string>();
  // A scan of the whole catalogue, so only for a customer who declared interests (the bench's p50 was 1.5 ms
  // with it on every call over 20 000 products).
  if ((history.interests ?? []).length > 0)
    for (const product of products.values())
      if (product.category) catalogueCategories.set(categoryKey(product.category), product.category);
  const interests: string[] = [];
  if (catalogueCategories.size > 0)
    for (const key of new Set((history.interests ?? []).map(categoryKey))) {
      const category = catalogueCategories.get(key);
      if (!blockedCategories.has(key) && category !== undefined) interests.push(category);
    }
  // The purchases the model knows are counted only when there are interests to weigh them against.
  let thin = false;
  if (interests.length > 0) {
    let knownSeeds = 0;
    for (const [productId] of seeds) if (model.productCount(productId) > 0) knownSeeds++;
    thin = knownSeeds < thinHistorySeeds;
  }
  for (const candidate of rankCandidates(model, options.fit, seeds, k - out.length, eligibleById, true)) {
    const productId = model.label(candidate.id);
    if (candidate.ease) {
      const reasons = easeReasons(model, candidate, productId, maxReasons);
      // A thin history with declared interests: only what the purchases point at; the interests come next.
      if (thin && reasons.length === 0) continue;
      if (reasons.length === 0)
        reasons.push({ kind: 'popular', count: model.countOf(candidate.id), score: candidate.score });
      out.push({
        productId,
        product: eligible(productId)!,
        score: candidate.score,
        source: reasons[0]!.kind === 'bought-with' ? 'neighbours' : 'popular',
        reasons,
      });
      chosen.add(productId);
      continue;
    }
    // A thin history with declared interests: only real neighbours here; popularity comes after the interests.
    if (thin && candidate.from.length === 0) continue;
    const product = eligible(productId)!;
    const reasons: RecommendationReason[] = strongestContributions(model, candidate.from, maxReasons).map(
      ([source, value, weight]): RecommendationReason => ({
        kind: 'bought-with',
        because: model.label(source),
        statistic,
        value,
        score: value * weight,
        stats: pairStatsOf(model, source, candidate.id)!,
      }),
    );
    if (candidate.base > 0 || reasons.length === 0)
      reasons.push({ kind: 'popular', count: model.countOf(candidate.id), score: candidate.base });
    sortByScore(reasons);
    out.push({
      productId,
      product,
      score: candidate.score,
      source: candidate.from.length > 0 ? 'neighbours' : 'popular',
      reasons,
    });
    chosen.add(productId);
  }

  /**
   * Adds a product on its popularity (within `category`, or overall when null; `declared` when the category is
   * one the customer told us they like), if it may be offered.
   */
  const offerPopular = (id: number, category: string | null, declared = false): void => {
    const productId = model.label(id);
    if (chosen.has(productId)) return;
    const product = eligible(productId);
    if (!product) return;
    const count = model.productCount(productId);
    const score = count / model.basketCount;
    out.push(
      category === null
        ? { productId, product, score, source: 'popular', reasons: [{ kind: 'popular', count, score }] }
        : declared
          ? {
              productId,
              product,
              score,
              source: 'declared-interest',
              reasons: [{ kind: 'declared-interest', category, count, score }],
            }
          : {
              productId,
              product,
              score,
              source: 'popular-in-category',
              reasons: [{ kind: 'popular-in-category', category, count, score }],
            },
    );
    chosen.add(productId);
  };

  // Declared interests, for a thin history: popular in each category the customer told us they like.
  if (thin && out.length < k) {
    const index = categoryIndex(model, products);
    for (const category of interests) {
      for (const id of index.get(category) ?? []) {
        if (out.length >= k) break;
        offerPopular(id, category, true);
      }
      if (out.length >= k) break;
    }
  }

  // Thin history: none of the purchases is known to the model. Popular in their categories, then overall.
  if (out.length < k) {
    // Popular in the categories the customer buys from, the more (recently) bought category first.
    const categoryWeight = new Map<string, number>();
    for (const [productId, weight] of seeds) {
      const category = products.get(productId)?.category;
      if (category) categoryWeight.set(category, (categoryWeight.get(category) ?? 0) + weight);
    }
    const categories = [...categoryWeight].sort((x, y) => y[1] - x[1] || compareStrings(x[0], y[0]));
    const index = categories.length > 0 ? categoryIndex(model, products) : new Map<string, Int32Array>();
    for (const [category] of categories) {
      for (const id of index.get(category) ?? []) {
        if (out.length >= k) break;
        offerPopular(id, category);
      }
      if (out.length >= k) break;
    }
  }

  if (out.length < k) {
    for (const id of model.popularDenseIds()) {
      if (out.length >= k) break;
      offerPopular(id, null);
    }
  }
  return out;
}

/** A pair relation that holds in the data: bought together in at least this many orders, and lift > 1. */
export const REASON_MIN_COUNT = 2;

/**
 * The stated reasons of a product the fitted model ranked: its largest contributions, weight(s)·B[s][product] of
 * the seeds the fit covers and weight(p)·score(p→product) of the pair votes of those it does not (positive ones
 * only, the strongest `maxReasons`), each kept only when the pair itself holds in the data (bought together in
 * ≥ REASON_MIN_COUNT orders, lift > 1). Empty when none does.
 */
export function easeReasons(
  model: CoPurchaseModel,
  candidate: RankedCandidate,
  productId: string,
  maxReasons: number,
): RecommendationReason[] {
  const pairStatistic = model.neighbourOptions.score;
  const contributions = (candidate.ease ?? [])
    .map(([s, v, w]): [number, number, number, ScoreName | 'ease'] => [s, v, w, 'ease'])
    .concat(candidate.from.map(([s, v, w]): [number, number, number, ScoreName] => [s, v, w, pairStatistic]));
  const top = strongestContributions(
    model,
    contributions.filter(([, value, weight]) => value * weight > 0),
    maxReasons,
  );
  const reasons: RecommendationReason[] = [];
  const target = model.denseId(productId);
  for (const [source, value, weight, statistic] of top) {
    const because = model.label(source);
    const stats = target === undefined ? null : pairStatsOf(model, source, target);
    if (!stats || stats.count < REASON_MIN_COUNT || !(stats.lift > 1)) continue;
    reasons.push({ kind: 'bought-with', because, statistic, value, score: value * weight, stats });
  }
  return reasons;
}

/**
 * The strongest `limit` contributions [source, value, weight, …] by value × weight, ties by the source's product
 * id: the first `limit` of them sorted, found by a bounded insertion (O(n·limit)) without sorting them all.
 */
function strongestContributions<T extends readonly [number, number, number, ...unknown[]]>(
  model: CoPurchaseModel,
  items: readonly T[],
  limit: number,
): T[] {
  const top: T[] = [];
  const cap = Math.min(items.length, Math.trunc(limit));
  for (let n = 0; n < items.length && cap > 0; n++) {
    const item = items[n]!;
    if (top.length === cap) {
      if (!stronger(model, item, top[cap - 1]!)) continue;
      top.pop();
    }
    let i = top.length;
    top.push(item);
    for (; i > 0 && stronger(model, item, top[i - 1]!); i--) top[i] = top[i - 1]!;
    top[i] = item;
  }
  return top;
}

/** Whether contribution x comes before y: larger value × weight, then the smaller product id of the source. */
function stronger(
  model: CoPurchaseModel,
  x: readonly [number, number, number, ...unknown[]],
  y: readonly [number, number, number, ...unknown[]],
): boolean {
  const sx = x[1] * x[2];
  const sy = y[1] * y[2];
  return sx > sy || (sx === sy && compareStrings(model.label(x[0]), model.label(y[0])) < 0);
}

/** Strongest reason first; equal scores keep their order (a stable insertion sort: the lists are short). */
function sortByScore(reasons: RecommendationReason[]): void {
  for (let i = 1; i < reasons.length; i++) {
    const reason = reasons[i]!;
    let j = i;
    for (; j > 0 && reasons[j - 1]!.score < reason.score; j--) reasons[j] = reasons[j - 1]!;
    reasons[j] = reason;
  }
}

/**
 * Statistics of the rule source→target by dense ids (what `model.pairStats` gives by product ids), or null when
 * the two were never bought together. The pair count comes from source's cached neighbour list when target is
 * in it (a reason's pair always is, unless the fit ranked it), else from the pair table.
 */
function pairStatsOf(model: CoPurchaseModel, source: number, target: number): PairStats | null {
  if (source === target) return null;
  const table = model.neighbourTable();
  const start = source * table.k;
  const end = start + (table.lengths[source] ?? 0);
  let slot = start;
  while (slot < end && table.ids[slot] !== target) slot++;
  const count = slot < end ? table.pairCounts[slot]! : model.pairCountOf(source, target);
  if (count === 0) return null;
  return pairStats(count, model.countOf(source), model.countOf(target), model.basketCount);
}

/** Categories compare case-insensitively (declared interests are stored lower-cased). */
export function categoryKey(category: string): string {
  return category.trim().toLowerCase().normalize('NFC');
}

/**
 * The sentence a customer reads for a recommendation, from its strongest reason that is about them:
 * "Because you bought Coffee", "Because you told us you like Tea", "Popular in Dairy, which you buy from",
 * else "Popular in the shop". `titleOf` names a product (default: its id).
 */
export function statedReason(
  recommendation: Pick<Recommendation, 'reasons'>,
  titleOf: (productId: string) => string = (id) => id,
): string {
  const reasons = recommendation.reasons;
  const bought = reasons.filter((r) => r.kind === 'bought-with');
  if (bought.length > 0) {
    const names = [...new Set(bought.slice(0, 2).map((r) => titleOf(r.because)))];
    return `Because you bought ${names.join(' and ')}`;
  }
  for (const r of reasons) {
    if (r.kind === 'declared-interest') return `Because you told us you like ${r.category}`;
    if (r.kind === 'popular-in-category') return `Popular in ${r.category}, which you buy from`;
    if (r.kind === 'pinned') return 'Recommended by the shop';
  }
  return 'Popular in the shop';
}

/** The top-k related products of one product ("bought together"), with their statistics. */
export function relatedProducts(model: CoPurchaseModel, productId: string, k = 10): Neighbour[] {
  if (!Number.isInteger(k) || k < 0)
    throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `k must be a non-negative integer, got ${k}.`);
  return model.neighbours(productId, k);
}

/**
 * The usual repurchase interval of each product in days: the median gap between two consecutive purchases
 * of it by the same customer, over the model's tracked orders. Products bought again fewer than
 * `minRepeats` times are left out.
 */
export function estimateRepurchaseIntervals(
  model: CoPurchaseModel,
  options: { minRepeats?: number } = {},
): Map<string, number> {
  const minRepeats = options.minRepeats ?? 3;
  const gaps = new Map<string, number[]>();
  for (const customerId of model.customerIds()) {
    const last = new Map<string, number>();
    for (const order of model.ordersOf(customerId)) {
      if (order.time === null) continue;
      for (const productId of order.productIds) {
        const prev = last.get(productId);
        if (prev !== undefined && order.time > prev) {
          let list = gaps.get(productId);
          if (!list) gaps.set(productId, (list = []));
          list.push((order.time - prev) / DAY_MS);
        }
        last.set(productId, order.time);
      }
    }
  }
  const out = new Map<string, number>();
  for (const [productId, list] of gaps) {
    if (list.length < minRepeats) continue;
    list.sort((a, b) => a - b);
    const mid = list.length >> 1;
    out.set(productId, list.length % 2 === 1 ? list[mid]! : (list[mid - 1]! + list[mid]!) / 2);
  }
  return out;
}
