/**
 * EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): an item-to-item weight matrix
 * fitted to all co-purchases jointly, in closed form from the item co-occurrence (Gram) matrix G, which the
 * pair table holds exactly:
 *
 *   P = (G + λI)⁻¹,   B[i][j] = −P[i][j] / P[j][j]  (i ≠ j),   B[j][j] = 0,
 *
 * and a basket x scores every item j as Σ_i x_i·B[i][j]. Summing pairwise scores one seed at a time counts
 * products that carry the same signal twice; the regression behind B does not. The fit is restricted to the
 * most frequent items (the matrix is dense: N² numbers, N³ work), the rest falls back to the pair scores.
 */
import { TactfulError } from '../errors/tactful-error.js';
import type { CoPurchaseModel } from './model.js';

/** A fitted EASE model over a fixed list of products. */
export interface EaseFit {
  /** The fitted products, most frequent first; row and column i of `weights` are productIds[i]. */
  productIds: string[];
  /**
   * B as d×d row-major (row = the product bought, column = the product scored), diagonal 0, d = n + 1: the last
   * row and column belong to an always-bought pseudo-product, the intercept, so the regression has a base rate
   * (without it a product's score knows nothing of how often it sells, and small baskets rank worse than
   * popularity). The intercept row is added once per ranking; its column is never recommended.
   */
  weights: Float32Array;
  /** The L2 penalty the fit used. */
  lambda: number;
  /** Baskets counted when the model was fitted (the refresh policy compares against it). */
  basketCount: number;
  /** The co-purchase model's revision the fit was made from. */
  revision: number;
  /** When the fit was made, epoch ms, and how long it took. */
  fittedAt: number;
  fitMs: number;
}

/** Default number of products fitted jointly; see docs/recommendations.md for the measurement behind it. */
export const DEFAULT_EASE_ITEMS = 2000;

/**
 * The Gram matrix of the `items` (dense ids of `model`) and the intercept as d×d row-major, d = n + 1: baskets
 * holding both (off the diagonal), baskets holding each (on it), and for the intercept, every basket. One pass
 * over the pair table.
 */
export function gramMatrix(model: CoPurchaseModel, items: ArrayLike<number>): Float64Array {
  const n = items.length;
  const d = n + 1;
  const index = new Int32Array(Math.max(1, model.productUniverse)).fill(-1);
  for (let i = 0; i < n; i++) index[items[i]!] = i;
  const gram = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const count = model.countOf(items[i]!);
    gram[i * d + i] = count;
    gram[i * d + n] = count;
    gram[n * d + i] = count;
  }
  gram[n * d + n] = model.basketCount;
  model.forEachPair((a, b, count) => {
    const i = index[a]!;
    if (i < 0) return;
    const j = index[b]!;
    if (j < 0) return;
    gram[i * d + j] = count;
    gram[j * d + i] = count;
  });
  return gram;
}

/**
 * Inverts a symmetric positive definite n×n row-major matrix in place (Cholesky A = LLᵀ, then L⁻¹, then
 * A⁻¹ = L⁻ᵀL⁻¹), about n³ multiply-adds, every inner loop along a row. Throws when A is not positive definite.
 */
export function invertSpd(a: Float64Array, n: number): void {
  // 1. Cholesky, lower triangle, row by row: L[i][j] = (A[i][j] − L[i][0..j)·L[j][0..j)) / L[j][j].
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j]!;
      for (let k = 0; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
      if (i === j) {
        if (!(s > 0))
          throw new TactfulError(
            'RECOMMEND.FIT_FAILED',
            `The co-purchase matrix is not positive definite at row ${i}: raise the penalty λ.`,
          );
        a[ri + i] = Math.sqrt(s);
      } else a[ri + j] = s / a[rj + j]!;
    }
  }
  // 2. X = L⁻¹ in place, row by row: X[i] = (e_i − Σ_{k<i} L[i][k]·X[k]) / L[i][i].
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    row.fill(0, 0, i);
    for (let k = 0; k < i; k++) {
      const c = a[ri + k]!;
      if (c === 0) continue;
      const rk = k * n;
      for (let j = 0; j <= k; j++) row[j] = row[j]! - c * a[rk + j]!;
    }
    const d = 1 / a[ri + i]!;
    for (let j = 0; j < i; j++) a[ri + j] = row[j]! * d;
    a[ri + i] = d;
  }
  // 3. A⁻¹ = XᵀX, lower triangle, row i from the rows k ≥ i (rows below i are still X).
  for (let i = 0; i < n; i++) {
    row.fill(0, 0, i + 1);
    for (let k = i; k < n; k++) {
      const rk = k * n;
      const c = a[rk + i]!;
      if (c === 0) continue;
      for (let j = 0; j <= i; j++) row[j] = row[j]! + c * a[rk + j]!;
    }
    const ri = i * n;
    for (let j = 0; j <= i; j++) a[ri + j] = row[j]!;
  }
  // The upper triangle mirrors the lower.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) a[i * n + j] = a[j * n + i]!;
}

/** B from a Gram matrix (consumed): P = (G + λI)⁻¹, B[i][j] = −P[i][j]/P[j][j], zero diagonal. */
export function easeWeights(gram: Float64Array, n: number, lambda: number): Float32Array {
  if (!(lambda > 0)) throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `λ must be above 0, got ${lambda}.`);
  for (let i = 0; i < n; i++) gram[i * n + i] = gram[i * n + i]! + lambda;
  invertSpd(gram, n);
  const weights = new Float32Array(n * n);
  for (let j = 0; j < n; j++) {
    const d = -1 / gram[j * n + j]!;
    for (let i = 0; i < n; i++) if (i !== j) weights[i * n + j] = gram[i * n + j]! * d;
  }
  return weights;
}

/** The `maxItems` most frequent products of the model (dense ids), most frequent first. */
export function fittedItems(model: CoPurchaseModel, maxItems: number): Int32Array {
  const popular = model.popularDenseIds();
  return popular.slice(0, Math.min(popular.length, Math.max(0, maxItems)));
}

export interface FitEaseOptions {
  /** Products fitted jointly (the most frequent); default DEFAULT_EASE_ITEMS. */
  maxItems?: number | undefined;
  /** The L2 penalty; default: chosen by `tuneEaseLambda` when baskets are given, else DEFAULT_LAMBDA_SHARE. */
  lambda?: number | undefined;
  /** Clock for `fittedAt`; default Date.now. */
  now?: (() => number) | undefined;
}

/**
 * When no validation split is available: λ as a share of the baskets counted. The validation splits of
 * Groceries, the bakery and the online retailer chose between 0.2 % and 2 % of n (docs/recommendations.md).
 */
export const DEFAULT_LAMBDA_SHARE = 0.005;

/** Fits EASE on the model's most frequent products. */
export function fitEase(model: CoPurchaseModel, options: FitEaseOptions = {}): EaseFit {
  const started = performance.now();
  const maxItems = options.maxItems ?? DEFAULT_EASE_ITEMS;
  if (!Number.isInteger(maxItems) || maxItems < 1)
    throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `maxItems must be a whole number ≥ 1, got ${maxItems}.`);
  const items = fittedItems(model, maxItems);
  const lambda = options.lambda ?? Math.max(1, DEFAULT_LAMBDA_SHARE * model.basketCount);
  const n = items.length;
  const weights = n === 0 ? new Float32Array(0) : easeWeights(gramMatrix(model, items), n + 1, lambda);
  return {
    productIds: Array.from(items, (id) => model.label(id)),
    weights,
    lambda,
    basketCount: model.basketCount,
    revision: model.revision,
    fittedAt: (options.now ?? Date.now)(),
    fitMs: performance.now() - started,
  };
}

/** Where each fitted product sits in a model's dense ids: fitted index → dense id and back (−1 when absent). */
export interface EaseIndex {
  dense: Int32Array;
  position: Int32Array;
}

const indexes = new WeakMap<EaseFit, { model: CoPurchaseModel; universe: number; index: EaseIndex }>();

/** The fit's products as dense ids of `model` (cached per model and fit). */
export function easeIndex(fit: EaseFit, model: CoPurchaseModel): EaseIndex {
  const cached = indexes.get(fit);
  if (cached && cached.model === model && cached.universe === model.productUniverse) return cached.index;
  const dense = new Int32Array(fit.productIds.length);
  const position = new Int32Array(Math.max(1, model.productUniverse)).fill(-1);
  fit.productIds.forEach((productId, i) => {
    const id = model.denseId(productId);
    dense[i] = id ?? -1;
    if (id !== undefined) position[id] = i;
  });
  const index = { dense, position };
  indexes.set(fit, { model, universe: model.productUniverse, index });
  return index;
}

/**
 * λ by validation: a seeded share of the baskets with ≥ 2 fitted products is taken out of the Gram matrix,
 * one product hidden from each, and each λ of the grid is scored by NDCG@k on them. The baskets must be the
 * ones the model counted (they are subtracted from its counts); the caller's test set is never among them.
 */
export function tuneEaseLambda(
  model: CoPurchaseModel,
  baskets: ReadonlyArray<ArrayLike<number>>,
  options: {
    maxItems?: number | undefined;
    grid?: readonly number[] | undefined;
    k?: number | undefined;
    random: () => number;
    validation?: number | undefined;
  },
): { lambda: number; scores: Array<{ lambda: number; ndcg: number; hitRate: number }> } {
  const k = options.k ?? 10;
  const items = fittedItems(model, options.maxItems ?? DEFAULT_EASE_ITEMS);
  const n = items.length;
  const share = options.validation ?? 0.1;
  const grid = options.grid ?? [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3].map((s) => s * model.basketCount);
  const position = new Int32Array(Math.max(1, model.productUniverse)).fill(-1);
  for (let i = 0; i < n; i++) position[items[i]!] = i;
  // Validation baskets (as fitted positions), at most 5 000 of them: enough to rank a handful of λ.
  const candidates: number[][] = [];
  for (const basket of baskets) {
    const inFit: number[] = [];
    for (let i = 0; i < basket.length; i++) {
      const p = position[basket[i]!]!;
      if (p >= 0) inFit.push(p);
    }
    if (inFit.length >= 2 && options.random() < share) candidates.push(inFit);
    if (candidates.length >= 5000) break;
  }
  const d = n + 1;
  const base = gramMatrix(model, items);
  // Each validation basket leaves the training counts: its products, their pairs, and one basket of the intercept.
  // (Its products outside the fitted set still count in n; that shifts the intercept by a few baskets.)
  const queries = candidates.map((basket) => {
    for (let x = 0; x < basket.length; x++) {
      const rx = basket[x]! * d;
      for (let y = 0; y < basket.length; y++) base[rx + basket[y]!] = base[rx + basket[y]!]! - 1;
      base[rx + n] = base[rx + n]! - 1;
      base[n * d + basket[x]!] = base[n * d + basket[x]!]! - 1;
    }
    base[n * d + n] = base[n * d + n]! - 1;
    const hide = Math.floor(options.random() * basket.length);
    return { hidden: basket[hide]!, rest: basket.filter((_, i) => i !== hide) };
  });
  const scores: Array<{ lambda: number; ndcg: number; hitRate: number }> = [];
  const score = new Float64Array(n);
  // One working copy of the Gram matrix for the whole grid (d² numbers, 32 MB at 2 000 products), not one each.
  const gram = new Float64Array(base.length);
  for (const lambda of grid) {
    gram.set(base);
    const weights = easeWeights(gram, d, Math.max(lambda, 1e-6));
    let ndcg = 0;
    let hits = 0;
    for (const query of queries) {
      for (let j = 0; j < n; j++) score[j] = weights[n * d + j]!;
      for (const seed of query.rest) {
        const row = seed * d;
        for (let j = 0; j < n; j++) score[j] = score[j]! + weights[row + j]!;
      }
      for (const seed of query.rest) score[seed] = -Infinity;
      // Rank of the hidden product: how many score strictly higher.
      const target = score[query.hidden]!;
      let rank = 1;
      for (let j = 0; j < n && rank <= k; j++) if (score[j]! > target) rank++;
      if (rank <= k) {
        hits++;
        ndcg += 1 / Math.log2(rank + 1);
      }
    }
    const q = Math.max(1, queries.length);
    scores.push({ lambda, ndcg: ndcg / q, hitRate: hits / q });
  }
  let best = scores[0] ?? { lambda: Math.max(1, DEFAULT_LAMBDA_SHARE * model.basketCount), ndcg: 0, hitRate: 0 };
  for (const s of scores) if (s.ndcg > best.ndcg) best = s;
  return { lambda: best.lambda, scores };
}
