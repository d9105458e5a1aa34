import { z } from 'zod';
import { TactfulError } from '../errors/tactful-error.js';
import { parseOrThrow } from '../errors/zod.js';
import { OrderTrack } from './order-track.js';
import { PairTable } from './pair-table.js';
import { pairLlr, pairScore, pairStats, scoreNames, type PairStats, type ScoreName } from './stats.js';

/** One order as the model sees it: the distinct products of one basket. */
export interface OrderBasket {
  orderId: string;
  customerId?: string | null | undefined;
  /** Products of the order; duplicates are counted once (a basket is a set). */
  productIds: readonly string[];
  /** When the order was placed, epoch milliseconds. */
  time?: number | null | undefined;
}

/** How the top-K neighbours of a product are chosen. */
export interface NeighbourOptions {
  /** Neighbours kept per product. */
  k: number;
  /** A pair must have been bought together in at least this many baskets. */
  minCount: number;
  /** A pair's G² must reach this (3.84 is p < 0.05 for one degree of freedom, 10.83 is p < 0.001). */
  minLlr: number;
  /** How neighbours are ranked. */
  score: ScoreName;
}

/** Chosen by the leave-one-out evaluation on Groceries; see docs/recommendations.md. */
export const defaultNeighbourOptions: Readonly<NeighbourOptions> = Object.freeze({
  k: 20,
  minCount: 2,
  minLlr: 3.84,
  score: 'uplift',
});

export interface ModelOptions {
  neighbours?: Partial<NeighbourOptions> | undefined;
  /**
   * Keep each order's basket so it can be subtracted exactly later (cancellation, refund, erasure).
   * Default true. A batch-only model (rules, evaluation) turns it off to hold only counts.
   */
  trackOrders?: boolean | undefined;
}

/** A row of product counts: how many baskets hold the product (or, in a delta, the change). */
export interface ProductCountRow {
  productId: string;
  count: number;
}

/** A row of pair counts, unordered: `productA < productB` in string order. */
export interface PairCountRow {
  productA: string;
  productB: string;
  count: number;
}

/** One tracked order's basket, as stored. */
export interface OrderBasketRow {
  orderId: string;
  customerId: string | null;
  productIds: string[];
  time: number | null;
}

/** Everything the model needs to come back after a restart, as plain rows. */
export interface ModelSnapshot {
  version: 1;
  basketCount: number;
  products: ProductCountRow[];
  pairs: PairCountRow[];
  orders: OrderBasketRow[];
}

/**
 * What one change did to the counts: add `count` to each row (rows with a resulting zero may be deleted),
 * insert `ordersAdded` (replacing rows with the same id) and delete `ordersRemoved`.
 */
export interface ModelDelta {
  basketCount: number;
  products: ProductCountRow[];
  pairs: PairCountRow[];
  ordersAdded: OrderBasketRow[];
  ordersRemoved: string[];
}

/** A neighbour of a product: B in the rule A→B, with its statistics and the ranking score. */
export interface Neighbour {
  productId: string;
  score: number;
  stats: PairStats;
}

/**
 * The cached top-K neighbour lists of every product, as flat arrays indexed by slot: product `p`'s neighbours
 * are slots `p·k` to `p·k + lengths[p] − 1`, best first.
 */
export interface NeighbourTable {
  /** Slots per product (the K of the neighbour options). */
  k: number;
  /** Neighbours kept per product, by dense id. */
  lengths: Int32Array;
  /** Dense id of the neighbour in each slot. */
  ids: Int32Array;
  /** Ranking score of product → neighbour in each slot. */
  scores: Float64Array;
  /** Baskets holding both the product and the neighbour in each slot. */
  pairCounts: Int32Array;
}

/** A pair rule A→B. */
export interface PairRule extends PairStats {
  lhs: string;
  rhs: string;
}

const PAIR_KEY_BASE = 2 ** 26;

class DeltaRecorder {
  basketCount = 0;
  readonly products = new Map<number, number>();
  readonly pairs = new Map<number, number>();
  readonly ordersAdded = new Map<string, OrderBasketRow>();
  readonly ordersRemoved = new Set<string>();
}

/**
 * The co-purchase model: exact counts of products and product pairs over baskets, kept up to date order by
 * order, with statistics, top-K neighbours and popularity on demand.
 */
export class CoPurchaseModel {
  readonly neighbourOptions: Readonly<NeighbourOptions>;
  readonly tracksOrders: boolean;
  private readonly ids = new Map<string, number>();
  private readonly labels: string[] = [];
  private itemCounts = new Int32Array(64);
  private readonly pairs = new PairTable(1024);
  private baskets = 0;
  private readonly tracked = new OrderTrack();
  /** Bumped on every change; cached neighbours and popularity are valid for one version. */
  private version = 0;
  private neighbourCache: (NeighbourTable & { version: number }) | null = null;
  private popularCache: { version: number; ids: Int32Array } | null = null;
  private seen = new Int32Array(64);
  private stamp = 0;
  private scratch = new Int32Array(64);

  constructor(options: ModelOptions = {}) {
    this.neighbourOptions = Object.freeze(resolveNeighbourOptions(options.neighbours));
    this.tracksOrders = options.trackOrders ?? true;
  }

  /** Changes on every change of the counts: callers may cache what they derive for one revision. */
  get revision(): number {
    return this.version;
  }

  /** Customers with at least one tracked order. */
  customerIds(): string[] {
    return this.tracked.customers();
  }

  /** Number of baskets counted (orders with at least one product). */
  get basketCount(): number {
    return this.baskets;
  }

  /** Number of distinct products ever seen (including ones whose count fell back to zero). */
  get productUniverse(): number {
    return this.labels.length;
  }

  /** Products with a positive count. */
  productIds(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.labels.length; i++) if (this.itemCounts[i]! > 0) out.push(this.labels[i]!);
    return out;
  }

  /** Distinct pairs with a positive count. */
  pairCountTotal(): number {
    return this.pairs.size();
  }

  /** Bytes held by the pair table and the per-product arrays. */
  get countBytes(): number {
    return this.pairs.byteLength + this.itemCounts.byteLength;
  }

  productCount(productId: string): number {
    const id = this.ids.get(productId);
    return id === undefined ? 0 : this.itemCounts[id]!;
  }

  pairCount(a: string, b: string): number {
    const ia = this.ids.get(a);
    const ib = this.ids.get(b);
    if (ia === undefined || ib === undefined || ia === ib) return 0;
    return this.pairs.get(ia, ib);
  }

  /** Statistics of the rule lhs→rhs, or null when the two were never bought together. */
  pairStats(lhs: string, rhs: string): PairStats | null {
    const ia = this.ids.get(lhs);
    const ib = this.ids.get(rhs);
    if (ia === undefined || ib === undefined || ia === ib) return null;
    const nAB = this.pairs.get(ia, ib);
    if (nAB === 0) return null;
    return pairStats(nAB, this.itemCounts[ia]!, this.itemCounts[ib]!, this.baskets);
  }

  hasOrder(orderId: string): boolean {
    return this.tracked.has(orderId);
  }

  /** The tracked orders of a customer, oldest first. */
  ordersOf(customerId: string): OrderBasketRow[] {
    const rows = this.tracked.slotsOf(customerId).map((slot) => this.orderRow(slot));
    return rows.sort((x, y) => (x.time ?? 0) - (y.time ?? 0) || compareStrings(x.orderId, y.orderId));
  }

  // ---- changes -------------------------------------------------------------------------------------

  /**
   * Counts an order without building a delta (the fast path for batch builds). An order id seen before
   * (when orders are tracked) replaces the earlier basket.
   */
  ingest(order: OrderBasket): void {
    this.addOrderInternal(order, null);
  }

  /** Counts an order (replacing an earlier one with the same id) and returns what changed. */
  addOrder(order: OrderBasket): ModelDelta {
    const recorder = new DeltaRecorder();
    this.addOrderInternal(order, recorder);
    return this.materialise(recorder);
  }

  /** Subtracts a cancelled or refunded order exactly; an unknown id changes nothing (empty delta). */
  removeOrder(orderId: string): ModelDelta {
    this.requireTracking('remove an order');
    const recorder = new DeltaRecorder();
    this.removeOrderInternal(orderId, recorder);
    return this.materialise(recorder);
  }

  /** Subtracts every order of an erased customer and forgets the customer. */
  eraseCustomer(customerId: string): ModelDelta {
    this.requireTracking('erase a customer');
    const recorder = new DeltaRecorder();
    const orderIds = this.tracked.slotsOf(customerId).map((slot) => this.tracked.orderIdOf(slot));
    for (const orderId of orderIds) this.removeOrderInternal(orderId, recorder);
    return this.materialise(recorder);
  }

  /**
   * Applies a delta made by another model (or read back from storage). It is checked first: a delta that
   * would drive a count below zero is refused and changes nothing.
   */
  applyDelta(delta: ModelDelta): void {
    const parsed = parseOrThrow(modelDeltaSchema, delta, 'RECOMMEND.INVALID_DELTA', 'model delta');
    if (this.baskets + parsed.basketCount < 0) throw invalidDelta('basket count would fall below zero');
    for (const row of parsed.products) {
      if (this.productCount(row.productId) + row.count < 0)
        throw invalidDelta(`count of ${JSON.stringify(row.productId)} would fall below zero`);
    }
    for (const row of parsed.pairs) {
      if (row.productA === row.productB) throw invalidDelta(`pair of ${JSON.stringify(row.productA)} with itself`);
      if (this.pairCount(row.productA, row.productB) + row.count < 0) {
        throw invalidDelta(
          `count of {${JSON.stringify(row.productA)}, ${JSON.stringify(row.productB)}} would fall below zero`,
        );
      }
    }
    this.baskets += parsed.basketCount;
    for (const row of parsed.products) {
      const id = this.intern(row.productId);
      this.itemCounts[id] = this.itemCounts[id]! + row.count;
    }
    for (const row of parsed.pairs) {
      if (row.count !== 0) this.pairs.add(this.intern(row.productA), this.intern(row.productB), row.count);
    }
    if (this.tracksOrders) {
      for (const orderId of parsed.ordersRemoved) this.tracked.remove(orderId);
      for (const row of parsed.ordersAdded) this.trackRow(row);
    }
    this.version++;
  }

  // ---- read-outs -----------------------------------------------------------------------------------

  /** Plain rows for storage: products and pairs with a positive count, and the tracked orders. */
  snapshot(): ModelSnapshot {
    // Canonical order (products, pairs and orders by id, in UTF-16 code-unit order as `<` compares):
    // ranks of the labels once, then numeric sorts, so a million pairs sort in well under a second.
    const byLabel = Array.from(this.labels.keys()).sort((x, y) => compareStrings(this.labels[x]!, this.labels[y]!));
    const rank = new Int32Array(this.labels.length);
    byLabel.forEach((id, r) => (rank[id] = r));
    const products: ProductCountRow[] = [];
    for (const id of byLabel) {
      const count = this.itemCounts[id]!;
      if (count > 0) products.push({ productId: this.labels[id]!, count });
    }
    const keys = new Float64Array(this.pairs.size());
    let i = 0;
    this.pairs.forEach((a, b) => {
      const ra = rank[a]!;
      const rb = rank[b]!;
      keys[i++] = ra < rb ? ra * PAIR_KEY_BASE + rb : rb * PAIR_KEY_BASE + ra;
    });
    keys.sort();
    const pairs: PairCountRow[] = new Array(keys.length);
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j]!;
      const ra = Math.floor(key / PAIR_KEY_BASE);
      const a = byLabel[ra]!;
      const b = byLabel[key - ra * PAIR_KEY_BASE]!;
      pairs[j] = { productA: this.labels[a]!, productB: this.labels[b]!, count: this.pairs.get(a, b) };
    }
    const orderIds = this.tracked.orderIdList().sort();
    const orders = orderIds.map((orderId) => this.orderRow(this.tracked.slot(orderId)!));
    return { version: 1, basketCount: this.baskets, products, pairs, orders };
  }

  /** Loads checked snapshot rows into this empty model (the fast path of `modelFromSnapshot`). */
  restore(rows: ModelSnapshot): void {
    if (this.baskets !== 0 || this.labels.length !== 0)
      throw new TactfulError('RECOMMEND.NOT_EMPTY', 'restore() needs an empty model; use applyDelta() to add to one.');
    this.pairs.reserve(rows.pairs.length);
    this.baskets = rows.basketCount;
    for (const row of rows.products) {
      const id = this.intern(row.productId);
      this.itemCounts[id] = this.itemCounts[id]! + row.count;
    }
    for (const row of rows.pairs)
      if (row.count > 0) this.pairs.add(this.intern(row.productA), this.intern(row.productB), row.count);
    if (this.tracksOrders) for (const row of rows.orders) this.trackRow(row);
    this.version++;
  }

  /**
   * Adds pair rows (checked as a snapshot's) of a stored model read in pages, after `restore` of its basket and
   * product counts (the pages' pairs are not in it).
   */
  restorePairs(rows: PairCountRow[]): void {
    checkSnapshot({ version: 1, basketCount: 0, products: [], pairs: rows, orders: [] });
    for (const row of rows)
      if (row.count > 0) this.pairs.add(this.intern(row.productA), this.intern(row.productB), row.count);
    this.version++;
  }

  /** Grows the pair table ahead of `pairs` more pairs, so a load in pages never resizes. */
  reservePairs(pairs: number): void {
    this.pairs.reserve(pairs);
  }

  /**
   * Tracks order rows (checked as a snapshot's) of a stored model read in pages, after `restore` of its counts:
   * the counts already hold these orders, so only the baskets are remembered (for exact subtraction later).
   */
  restoreOrders(rows: OrderBasketRow[]): void {
    checkSnapshot({ version: 1, basketCount: 0, products: [], pairs: [], orders: rows });
    if (this.tracksOrders) for (const row of rows) this.trackRow(row);
    this.version++;
  }

  /** Every rule A→B (both directions of each pair) with support ≥ minSupport and confidence ≥ minConfidence. */
  rules(options: { minSupport?: number; minConfidence?: number } = {}): PairRule[] {
    const minSupport = options.minSupport ?? 0;
    const minConfidence = options.minConfidence ?? 0;
    const n = this.baskets;
    const out: PairRule[] = [];
    this.pairs.forEach((a, b, count) => {
      if (count / n < minSupport) return;
      const na = this.itemCounts[a]!;
      const nb = this.itemCounts[b]!;
      if (count / na >= minConfidence)
        out.push({ lhs: this.labels[a]!, rhs: this.labels[b]!, ...pairStats(count, na, nb, n) });
      if (count / nb >= minConfidence)
        out.push({ lhs: this.labels[b]!, rhs: this.labels[a]!, ...pairStats(count, nb, na, n) });
    });
    out.sort((x, y) => y.lift - x.lift || compareStrings(x.lhs, y.lhs) || compareStrings(x.rhs, y.rhs));
    return out;
  }

  /** The top-K neighbours of a product (best first), computed for all products at once and cached. */
  neighbours(productId: string, k = this.neighbourOptions.k): Neighbour[] {
    const id = this.ids.get(productId);
    if (id === undefined) return [];
    const cache = this.ensureNeighbours();
    const K = this.neighbourOptions.k;
    const length = Math.min(cache.lengths[id]!, k);
    const out: Neighbour[] = [];
    const na = this.itemCounts[id]!;
    for (let j = 0; j < length; j++) {
      const other = cache.ids[id * K + j]!;
      const nab = cache.pairCounts[id * K + j]!;
      out.push({
        productId: this.labels[other]!,
        score: cache.scores[id * K + j]!,
        stats: pairStats(nab, na, this.itemCounts[other]!, this.baskets),
      });
    }
    return out;
  }

  /**
   * The top-K neighbours of every product as flat arrays (computed for all products at once and cached): the
   * recommender's hot path reads them directly. Valid for this `revision` only; do not mutate.
   */
  neighbourTable(): Readonly<NeighbourTable> {
    return this.ensureNeighbours();
  }

  /**
   * Visits the neighbours of a product without allocating: `visit(neighbourDenseId, score)`, best first.
   * Returns false when the product is unknown.
   */
  forEachNeighbour(productId: string, visit: (neighbour: number, score: number) => void): boolean {
    const id = this.ids.get(productId);
    if (id === undefined) return false;
    const cache = this.ensureNeighbours();
    const K = this.neighbourOptions.k;
    const length = cache.lengths[id]!;
    for (let j = 0; j < length; j++) visit(cache.ids[id * K + j]!, cache.scores[id * K + j]!);
    return true;
  }

  /** Dense id → product id, for callers of `forEachNeighbour`. */
  label(denseId: number): string {
    return this.labels[denseId]!;
  }

  /** Visits every pair with a positive count as dense ids, a < b: `visit(a, b, count)`. */
  forEachPair(visit: (a: number, b: number, count: number) => void): void {
    this.pairs.forEach(visit);
  }

  /** Baskets holding both products, by dense id. */
  pairCountOf(a: number, b: number): number {
    return a === b ? 0 : this.pairs.get(a, b);
  }

  /** Visits the basket (dense ids) of every tracked order; nothing when orders are not tracked. */
  forEachTrackedBasket(visit: (items: readonly number[]) => void): void {
    this.tracked.forEach((slot) => visit(Array.from(this.tracked.items(slot))));
  }

  /** Basket count of a product by dense id. */
  countOf(denseId: number): number {
    return this.itemCounts[denseId] ?? 0;
  }

  /** Dense id of a product, or undefined. */
  denseId(productId: string): number | undefined {
    return this.ids.get(productId);
  }

  /** Products by how many baskets hold them, most popular first (ties by id). */
  popular(limit = Infinity): Array<{ productId: string; count: number }> {
    const ids = this.ensurePopular();
    const out: Array<{ productId: string; count: number }> = [];
    for (let i = 0; i < ids.length && out.length < limit; i++)
      out.push({ productId: this.labels[ids[i]!]!, count: this.itemCounts[ids[i]!]! });
    return out;
  }

  /** Dense ids by popularity (positive counts only); do not mutate. */
  popularDenseIds(): Int32Array {
    return this.ensurePopular();
  }

  // ---- internals -----------------------------------------------------------------------------------

  private requireTracking(what: string): void {
    if (!this.tracksOrders) {
      throw new TactfulError(
        'RECOMMEND.ORDERS_NOT_TRACKED',
        `Cannot ${what}: this model was built with trackOrders: false, so it does not know which products each order held. Build it with trackOrders: true.`,
      );
    }
  }

  private intern(productId: string): number {
    let id = this.ids.get(productId);
    if (id === undefined) {
      id = this.labels.length;
      this.ids.set(productId, id);
      this.labels.push(productId);
      if (id >= this.itemCounts.length) {
        const grown = new Int32Array(this.itemCounts.length * 2);
        grown.set(this.itemCounts);
        this.itemCounts = grown;
        const seen = new Int32Array(grown.length);
        seen.set(this.seen);
        this.seen = seen;
      }
      if (id >= PAIR_KEY_BASE)
        throw new TactfulError(
          'RECOMMEND.TOO_MANY_PRODUCTS',
          `The model holds at most ${PAIR_KEY_BASE} distinct products.`,
        );
    }
    return id;
  }

  /** Interns and dedupes a basket's products into `this.scratch`, dropping empty ids; returns how many. */
  private internAll(productIds: readonly string[]): number {
    const stamp = ++this.stamp;
    let length = 0;
    if (this.scratch.length < productIds.length) this.scratch = new Int32Array(productIds.length * 2);
    for (const productId of productIds) {
      if (productId === '') continue;
      const id = this.intern(productId);
      if (this.seen[id] === stamp) continue;
      this.seen[id] = stamp;
      this.scratch[length++] = id;
    }
    return length;
  }

  private trackRow(row: OrderBasketRow): void {
    const length = this.internAll(row.productIds);
    this.tracked.add(row.orderId, row.customerId, this.scratch, length, row.time);
  }

  private countBasket(items: ArrayLike<number>, m: number, sign: 1 | -1, recorder: DeltaRecorder | null): void {
    if (m === 0) return;
    this.baskets += sign;
    if (recorder) recorder.basketCount += sign;
    const counts = this.itemCounts;
    for (let i = 0; i < m; i++) {
      const a = items[i]!;
      counts[a] = counts[a]! + sign;
      if (recorder) recorder.products.set(a, (recorder.products.get(a) ?? 0) + sign);
      for (let j = i + 1; j < m; j++) {
        const b = items[j]!;
        this.pairs.add(a, b, sign);
        if (recorder) {
          const key = a < b ? a * PAIR_KEY_BASE + b : b * PAIR_KEY_BASE + a;
          recorder.pairs.set(key, (recorder.pairs.get(key) ?? 0) + sign);
        }
      }
    }
    this.version++;
  }

  private addOrderInternal(order: OrderBasket, recorder: DeltaRecorder | null): void {
    const customerId = order.customerId ?? null;
    const time = order.time ?? null;
    if (this.tracksOrders && this.tracked.has(order.orderId)) this.removeOrderInternal(order.orderId, recorder);
    const length = this.internAll(order.productIds);
    if (length === 0) return;
    this.countBasket(this.scratch, length, 1, recorder);
    if (this.tracksOrders) {
      this.tracked.add(order.orderId, customerId, this.scratch, length, time);
      if (recorder) {
        recorder.ordersRemoved.delete(order.orderId);
        recorder.ordersAdded.set(order.orderId, this.orderRow(this.tracked.slot(order.orderId)!));
      }
    }
  }

  private removeOrderInternal(orderId: string, recorder: DeltaRecorder | null): void {
    const slot = this.tracked.slot(orderId);
    if (slot === undefined) return;
    const items = this.tracked.items(slot);
    this.countBasket(items, items.length, -1, recorder);
    this.tracked.remove(orderId);
    if (recorder) {
      recorder.ordersAdded.delete(orderId);
      recorder.ordersRemoved.add(orderId);
    }
  }

  private orderRow(slot: number): OrderBasketRow {
    const productIds = Array.from(this.tracked.items(slot), (id) => this.labels[id]!).sort();
    return {
      orderId: this.tracked.orderIdOf(slot),
      customerId: this.tracked.customerOf(slot),
      productIds,
      time: this.tracked.timeOf(slot),
    };
  }

  private pairRow(a: number, b: number, count: number): PairCountRow {
    const la = this.labels[a]!;
    const lb = this.labels[b]!;
    return la < lb ? { productA: la, productB: lb, count } : { productA: lb, productB: la, count };
  }

  private materialise(recorder: DeltaRecorder): ModelDelta {
    const products: ProductCountRow[] = [];
    for (const [id, count] of recorder.products) if (count !== 0) products.push({ productId: this.labels[id]!, count });
    const pairs: PairCountRow[] = [];
    for (const [key, count] of recorder.pairs) {
      if (count === 0) continue;
      const a = Math.floor(key / PAIR_KEY_BASE);
      pairs.push(this.pairRow(a, key - a * PAIR_KEY_BASE, count));
    }
    return {
      basketCount: recorder.basketCount,
      products,
      pairs,
      ordersAdded: [...recorder.ordersAdded.values()],
      ordersRemoved: [...recorder.ordersRemoved],
    };
  }

  private ensurePopular(): Int32Array {
    if (this.popularCache?.version === this.version) return this.popularCache.ids;
    const list: number[] = [];
    for (let i = 0; i < this.labels.length; i++) if (this.itemCounts[i]! > 0) list.push(i);
    list.sort((x, y) => this.itemCounts[y]! - this.itemCounts[x]! || compareStrings(this.labels[x]!, this.labels[y]!));
    const ids = Int32Array.from(list);
    this.popularCache = { version: this.version, ids };
    return ids;
  }

  /** One pass over all pairs; each direction of each pair that passes the filters competes for a top-K slot. */
  private ensureNeighbours(): NeighbourTable {
    if (this.neighbourCache?.version === this.version) return this.neighbourCache;
    const { k: K, minCount, minLlr, score } = this.neighbourOptions;
    const size = this.labels.length;
    const ids = new Int32Array(size * K);
    const scores = new Float64Array(size * K);
    const pairCounts = new Int32Array(size * K);
    const lengths = new Int32Array(size);
    const n = this.baskets;
    const counts = this.itemCounts;
    const labels = this.labels;
    // Min-heap per product over slots [p*K, p*K+len): the root is the weakest kept neighbour.
    const worse = (s1: number, i1: number, s2: number, i2: number) =>
      s1 < s2 || (s1 === s2 && labels[i1]! > labels[i2]!);
    const offer = (p: number, q: number, s: number, nab: number) => {
      const base = p * K;
      let len = lengths[p]!;
      if (len < K) {
        let i = len++;
        lengths[p] = len;
        while (i > 0) {
          const parent = (i - 1) >> 1;
          if (!worse(s, q, scores[base + parent]!, ids[base + parent]!)) break;
          ids[base + i] = ids[base + parent]!;
          scores[base + i] = scores[base + parent]!;
          pairCounts[base + i] = pairCounts[base + parent]!;
          i = parent;
        }
        ids[base + i] = q;
        scores[base + i] = s;
        pairCounts[base + i] = nab;
        return;
      }
      if (!worse(scores[base]!, ids[base]!, s, q)) return;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= len) break;
        const r = l + 1;
        const c = r < len && worse(scores[base + r]!, ids[base + r]!, scores[base + l]!, ids[base + l]!) ? r : l;
        if (!worse(scores[base + c]!, ids[base + c]!, s, q)) break;
        ids[base + i] = ids[base + c]!;
        scores[base + i] = scores[base + c]!;
        pairCounts[base + i] = pairCounts[base + c]!;
        i = c;
      }
      ids[base + i] = q;
      scores[base + i] = s;
      pairCounts[base + i] = nab;
    };
    if (K > 0) {
      this.pairs.forEach((a, b, nab) => {
        if (nab < minCount) return;
        const na = counts[a]!;
        const nb = counts[b]!;
        // Only positive association: seen together more often than chance.
        if (nab * n <= na * nb) return;
        if (pairLlr(nab, na, nb, n) < minLlr) return;
        offer(a, b, pairScore(score, nab, na, nb, n), nab);
        offer(b, a, pairScore(score, nab, nb, na, n), nab);
      });
      // Sort each heap best first.
      for (let p = 0; p < size; p++) {
        const len = lengths[p]!;
        if (len < 2) continue;
        const base = p * K;
        const order = Array.from({ length: len }, (_, j) => j).sort((x, y) => {
          const sx = scores[base + x]!;
          const sy = scores[base + y]!;
          return sy - sx || compareStrings(labels[ids[base + x]!]!, labels[ids[base + y]!]!);
        });
        const sortedIds = order.map((j) => ids[base + j]!);
        const sortedScores = order.map((j) => scores[base + j]!);
        const sortedCounts = order.map((j) => pairCounts[base + j]!);
        for (let j = 0; j < len; j++) {
          ids[base + j] = sortedIds[j]!;
          scores[base + j] = sortedScores[j]!;
          pairCounts[base + j] = sortedCounts[j]!;
        }
      }
    }
    this.neighbourCache = { version: this.version, k: K, lengths, ids, scores, pairCounts };
    return this.neighbourCache;
  }
}

function invalidDelta(what: string): TactfulError {
  return new TactfulError(
    'RECOMMEND.INVALID_DELTA',
    `Refused model delta: ${what}. Nothing was changed; rebuild the model from the orders if the stored counts disagree.`,
  );
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function resolveNeighbourOptions(input: Partial<NeighbourOptions> | undefined): NeighbourOptions {
  const merged = { ...defaultNeighbourOptions, ...input };
  return parseOrThrow(neighbourOptionsSchema, merged, 'RECOMMEND.INVALID_OPTIONS', 'neighbour options');
}

const neighbourOptionsSchema = z.object({
  k: z.number().int().min(0).max(1000),
  minCount: z.number().int().min(1),
  minLlr: z.number().min(0),
  score: z.enum(scoreNames),
});

const orderRowSchema = z.object({
  orderId: z.string(),
  customerId: z.string().nullable(),
  productIds: z.array(z.string()),
  time: z.number().nullable(),
});

const modelDeltaSchema = z.object({
  basketCount: z.number().int(),
  products: z.array(z.object({ productId: z.string().min(1), count: z.number().int() })),
  pairs: z.array(z.object({ productA: z.string().min(1), productB: z.string().min(1), count: z.number().int() })),
  ordersAdded: z.array(orderRowSchema),
  ordersRemoved: z.array(z.string()),
});

/** A fresh, empty model. */
export function createCoPurchaseModel(options: ModelOptions = {}): CoPurchaseModel {
  return new CoPurchaseModel(options);
}

/** Restores a model from `snapshot()` rows; no rebuild from orders is needed. */
export function modelFromSnapshot(snapshot: ModelSnapshot, options: ModelOptions = {}): CoPurchaseModel {
  const data = checkSnapshot(snapshot);
  const model = new CoPurchaseModel(options);
  model.restore(data);
  return model;
}

/**
 * Checks snapshot rows by hand rather than with zod: a snapshot holds millions of rows and a schema per row
 * costs seconds. Reports up to ten problems at once.
 */
function checkSnapshot(value: unknown): ModelSnapshot {
  const problems: string[] = [];
  const problem = (path: string, message: string) => {
    if (problems.length < 10) problems.push(`${path}: ${message}`);
  };
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const isId = (x: unknown): x is string => typeof x === 'string' && x !== '';
  const row = (x: unknown): Record<string, unknown> =>
    typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {};
  const snapshot = row(value);
  if (snapshot.version !== 1) problem('version', 'expected 1');
  if (!isCount(snapshot.basketCount)) problem('basketCount', 'expected a whole number ≥ 0');
  const list = (key: string): unknown[] => {
    const items = snapshot[key];
    if (Array.isArray(items)) return items;
    problem(key, 'expected an array');
    return [];
  };
  list('products').forEach((item, i) => {
    const r = row(item);
    if (!isId(r.productId)) problem(`products.${i}.productId`, 'expected a non-empty string');
    if (!isCount(r.count)) problem(`products.${i}.count`, 'expected a whole number ≥ 0');
  });
  list('pairs').forEach((item, i) => {
    const r = row(item);
    if (!isId(r.productA)) problem(`pairs.${i}.productA`, 'expected a non-empty string');
    if (!isId(r.productB)) problem(`pairs.${i}.productB`, 'expected a non-empty string');
    if (r.productA === r.productB) problem(`pairs.${i}`, 'a product paired with itself');
    if (!isCount(r.count)) problem(`pairs.${i}.count`, 'expected a whole number ≥ 0');
  });
  list('orders').forEach((item, i) => {
    const r = row(item);
    if (typeof r.orderId !== 'string') problem(`orders.${i}.orderId`, 'expected a string');
    if (r.customerId !== null && typeof r.customerId !== 'string')
      problem(`orders.${i}.customerId`, 'expected a string or null');
    if (!Array.isArray(r.productIds) || !r.productIds.every((p) => typeof p === 'string'))
      problem(`orders.${i}.productIds`, 'expected an array of strings');
    if (r.time !== null && typeof r.time !== 'number')
      problem(`orders.${i}.time`, 'expected epoch milliseconds or null');
  });
  if (problems.length > 0) {
    throw new TactfulError('RECOMMEND.INVALID_SNAPSHOT', `Invalid model snapshot: ${problems.join('; ')}`, {
      details: problems,
    });
  }
  return value as ModelSnapshot;
}

/** Builds a model from baskets (sync or async iterables, e.g. a parser's output). */
export async function buildModel(
  orders: AsyncIterable<OrderBasket> | Iterable<OrderBasket>,
  options: ModelOptions = {},
): Promise<CoPurchaseModel> {
  const model = new CoPurchaseModel(options);
  for await (const order of orders) model.ingest(order);
  return model;
}
