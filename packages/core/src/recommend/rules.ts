/**
 * Pair rules A→B of a baskets file, mined the way apriori prunes: a product in fewer baskets than the support
 * threshold cannot be in a pair that meets it (a pair is never in more baskets than either of its products), so
 * the first pass counts products and keeps each basket as dense ids, and the second counts only the pairs of
 * products that passed. Same rules, same statistics and same order as `CoPurchaseModel.rules` over every pair;
 * what is skipped is the counting (and the memory) of pairs no threshold could keep.
 */
import { TactfulError } from '../errors/tactful-error.js';
import { compareStrings, type OrderBasket, type PairRule } from './model.js';
import { PairTable } from './pair-table.js';
import { pairStats } from './stats.js';

export interface MinedRules {
  /** Baskets with at least one product. */
  basketCount: number;
  /** Distinct products in the baskets. */
  productCount: number;
  /** Products in at least the support threshold's share of baskets: the ones whose pairs were counted. */
  frequentProducts: number;
  /** Pairs counted (both products frequent), whatever their own support. */
  pairsCounted: number;
  /** Rules sorted by lift, then lhs, then rhs. */
  rules: PairRule[];
}

function growInt32(array: Int32Array<ArrayBuffer>, needed: number): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  let length = array.length * 2;
  while (length < needed) length *= 2;
  const next = new Int32Array(length);
  next.set(array);
  return next;
}

function share(value: number | undefined, name: string, allowZero: boolean): number {
  const n = value ?? 0;
  if (!Number.isFinite(n) || n > 1 || n < 0 || (!allowZero && n === 0))
    throw new TactfulError('RECOMMEND.INVALID_OPTIONS', `${name} must be a share from 0 to 1, got ${value}.`);
  return n;
}

/** The pair rules with support ≥ `minSupport` and confidence ≥ `minConfidence` (both shares in [0, 1]). */
export async function mineRules(
  orders: AsyncIterable<OrderBasket> | Iterable<OrderBasket>,
  options: { minSupport?: number; minConfidence?: number } = {},
): Promise<MinedRules> {
  const minSupport = share(options.minSupport, 'minSupport', true);
  const minConfidence = share(options.minConfidence, 'minConfidence', true);
  // Pass 1: products get dense ids, each basket's distinct ids go into one flat array, products are counted.
  const ids = new Map<string, number>();
  const labels: string[] = [];
  let counts = new Int32Array(1024);
  let seen = new Int32Array(1024);
  let items = new Int32Array(1 << 16);
  let ends = new Int32Array(1 << 12);
  let length = 0;
  let baskets = 0;
  for await (const order of orders) {
    const start = length;
    const stamp = baskets + 1;
    for (const productId of order.productIds) {
      if (productId === '') continue;
      let id = ids.get(productId);
      if (id === undefined) {
        id = labels.length;
        ids.set(productId, id);
        labels.push(productId);
        counts = growInt32(counts, id + 1);
        seen = growInt32(seen, id + 1);
      }
      if (seen[id] === stamp) continue;
      seen[id] = stamp;
      items = growInt32(items, length + 1);
      items[length++] = id;
    }
    if (length === start) continue;
    for (let i = start; i < length; i++) counts[items[i]!] = counts[items[i]!]! + 1;
    ends = growInt32(ends, baskets + 1);
    ends[baskets++] = length;
  }
  const n = baskets;
  // Pass 2: only pairs of products that could meet the support threshold.
  const frequent = new Uint8Array(labels.length);
  let frequentProducts = 0;
  for (let id = 0; id < labels.length; id++)
    if (!(counts[id]! / n < minSupport)) {
      frequent[id] = 1;
      frequentProducts++;
    }
  const pairs = new PairTable();
  const basket = new Int32Array(Math.max(1, frequentProducts));
  let from = 0;
  for (let b = 0; b < n; b++) {
    const to = ends[b]!;
    let m = 0;
    for (let i = from; i < to; i++) if (frequent[items[i]!] === 1) basket[m++] = items[i]!;
    from = to;
    for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) pairs.add(basket[i]!, basket[j]!, 1);
  }
  const rules: PairRule[] = [];
  let pairsCounted = 0;
  pairs.forEach((a, b, count) => {
    pairsCounted++;
    if (count / n < minSupport) return;
    const na = counts[a]!;
    const nb = counts[b]!;
    if (count / na >= minConfidence) rules.push({ lhs: labels[a]!, rhs: labels[b]!, ...pairStats(count, na, nb, n) });
    if (count / nb >= minConfidence) rules.push({ lhs: labels[b]!, rhs: labels[a]!, ...pairStats(count, nb, na, n) });
  });
  rules.sort((x, y) => y.lift - x.lift || compareStrings(x.lhs, y.lhs) || compareStrings(x.rhs, y.rhs));
  return { basketCount: n, productCount: labels.length, frequentProducts, pairsCounted, rules };
}
