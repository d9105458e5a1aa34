/**
 * Recommendation benchmark: model build beside a parse-only pass over the same input, on Groceries and on a
 * generated long-tail data set (≥ 1 M order lines, 20 k products, Zipf-like popularity, Groceries' basket-size
 * distribution, written once to the temp folder); memory; per-customer recommendation latency p50/p99.
 *
 * Run alone: `npx tsx --conditions=source bench/recommend.ts` (or `npx tsx bench/recommend.ts` after `npm run build`).
 */
import { createWriteStream, existsSync, renameSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_EASE_ITEMS,
  buildModel,
  fitEase,
  mineRules,
  modelFromSnapshot,
  readBaskets,
  recommendForCustomer,
  type CatalogProduct,
  type PurchaseRecord,
} from '@tactful/core';
import { seededRandom } from '@tactful/core/testing/runtime';
import { groceriesPath } from '../test/support/groceries.js';
import { percentile } from './percentile.js';

const GROCERIES = groceriesPath('groceries.csv');

const LINES = 1_000_000;
const PRODUCTS = 20_000;
const AISLES = 400; // 50 products each: a basket mostly shops one aisle, which gives real co-purchase structure
const CUSTOMERS = 60_000;
const SEED = 20_251_129;

/** Cumulative Zipf weights 1/rank^s over n ranks, for sampling by binary search. */
function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / (i + 1) ** s;
  for (let i = 0; i < n; i++) cdf[i]! /= sum;
  return cdf;
}

function sample(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Groceries' basket sizes, as a cumulative distribution: "basket sizes like real retail". */
async function basketSizeCdf(): Promise<Float64Array> {
  const counts: number[] = [];
  const { baskets } = await readBaskets(GROCERIES, 'basket-csv');
  for await (const b of baskets) counts[b.productIds.length] = (counts[b.productIds.length] ?? 0) + 1;
  const cdf = new Float64Array(counts.length);
  let sum = 0;
  for (let i = 0; i < counts.length; i++) cdf[i] = sum += counts[i] ?? 0;
  for (let i = 0; i < counts.length; i++) cdf[i]! /= sum;
  return cdf;
}

const aisleOf = (product: number) => product % AISLES;

/** Writes the long-tail order lines once (jsonl, lines of an order together); later runs reuse the file. */
async function longTailFile(): Promise<{ file: string; generatedSeconds: number | null }> {
  const file = join(tmpdir(), `tactful-bench-longtail-v1-${LINES}.jsonl`);
  if (existsSync(file) && statSync(file).size > 0) return { file, generatedSeconds: null };
  const started = performance.now();
  const random = seededRandom(SEED);
  const sizes = await basketSizeCdf();
  const global = zipfCdf(PRODUCTS, 1.0); // rank r → product r (popular products spread over all aisles)
  const inAisle = zipfCdf(PRODUCTS / AISLES, 1.1);
  const customers = zipfCdf(CUSTOMERS, 0.6);
  const tmp = `${file}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  const start = Date.UTC(2025, 0, 1);
  let lines = 0;
  let order = 0;
  let chunk = '';
  while (lines < LINES) {
    order++;
    const size = Math.max(1, sample(sizes, random()));
    const aisle = Math.floor(random() * AISLES);
    const customer = sample(customers, random());
    const time = start + Math.floor((order / (LINES / 4.4)) * 365 * 86_400_000);
    for (let i = 0; i < size && lines < LINES; i++) {
      const product = random() < 0.6 ? aisle + AISLES * sample(inAisle, random()) : sample(global, random());
      const quantity = 1 + Math.floor(random() * random() * 3);
      chunk += `{"orderId":"o${order}","customerId":"c${customer}","productId":"p${product}","quantity":${quantity},"time":${time}}\n`;
      lines++;
    }
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'close');
  renameSync(tmp, file);
  return { file, generatedSeconds: (performance.now() - started) / 1000 };
}

/** Issue #21's aim: a personal recommendation's p99 in one pass over 2 000 customers, GC and scheduler included. */
const RECOMMEND_P99_AIM_MS = 1;

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): number {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
const maxRssMb = () => process.resourceUsage().maxRSS / 1024;
const mb = (bytes: number) => bytes / 1024 / 1024;
const seconds = (ms: number) => ms / 1000;

/** CPU milliseconds of this process (all threads) since `since`: immune to waiting for a busy machine's CPU. */
function cpuMs(since?: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

async function parseOnly(file: string): Promise<{ ms: number; cpuMs: number; baskets: number; lines: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { baskets } = await readBaskets(file);
  let count = 0;
  let lines = 0;
  for await (const basket of baskets) {
    count++;
    lines += basket.productIds.length;
  }
  return { ms: performance.now() - started, cpuMs: cpuMs(cpu), baskets: count, lines };
}

async function timedBuild(file: string, trackOrders: boolean) {
  const before = memory();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const model = await buildModel((await readBaskets(file)).baskets, { trackOrders });
  const buildMs = performance.now() - started;
  const buildCpuMs = cpuMs(cpu);
  const neighboursStarted = performance.now();
  model.neighbours(model.popular(1)[0]!.productId); // first top-K pass over all pairs
  const neighboursMs = performance.now() - neighboursStarted;
  const heldBytes = memory() - before;
  return { model, buildMs, buildCpuMs, neighboursMs, heldBytes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

export { longTailFile };

export async function benchRecommend(): Promise<Record<string, unknown>> {
  const log = (text: string) => process.stdout.write(`${text}\n`);
  log('recommend: building the long-tail data set (once) ...');
  const { file, generatedSeconds } = await longTailFile();

  // Groceries: small, so the median of five runs.
  const gParse: number[] = [];
  const gBuild: number[] = [];
  let groceriesPairs = 0;
  for (let i = 0; i < 5; i++) {
    gParse.push((await parseOnly(GROCERIES)).ms);
    const built = await timedBuild(GROCERIES, false);
    gBuild.push(built.buildMs);
    groceriesPairs = built.model.pairCountTotal();
  }
  // The fitted model on Groceries (every product), beside the pair build it is fitted from.
  const groceriesModel = await buildModel((await readBaskets(GROCERIES)).baskets, { trackOrders: false });
  const gFit: number[] = [];
  for (let i = 0; i < 5; i++) gFit.push(fitEase(groceriesModel).fitMs);
  const groceries = {
    fitMs: median(gFit),
    fitRatio: median(gFit) / median(gBuild),
    parseMs: median(gParse),
    buildMs: median(gBuild),
    ratio: median(gBuild) / median(gParse),
    pairs: groceriesPairs,
  };

  // Long tail: parse-only, then the counts-only build, then the tracked (incremental, persistable) build.
  const rssBefore = maxRssMb();
  const parsed = await parseOnly(file);
  const rssAfterParse = maxRssMb();
  const counts = await timedBuild(file, false);
  const rssAfterBuild = maxRssMb();
  const longTail = {
    lines: parsed.lines,
    orders: parsed.baskets,
    products: counts.model.productIds().length,
    pairs: counts.model.pairCountTotal(),
    parseMs: parsed.ms,
    buildMs: counts.buildMs,
    ratio: counts.buildMs / parsed.ms,
    parseCpuMs: parsed.cpuMs,
    buildCpuMs: counts.buildCpuMs,
    cpuRatio: counts.buildCpuMs / parsed.cpuMs,
    topKAllProductsMs: counts.neighboursMs,
    modelMb: mb(counts.heldBytes),
    pairTableMb: mb(counts.model.countBytes),
    bytesPerPair: counts.heldBytes / counts.model.pairCountTotal(),
    peakRssMbBefore: rssBefore,
    peakRssMbAfterParse: rssAfterParse,
    peakRssMbAfterBuild: rssAfterBuild,
  };
  // The refresh: EASE on the most frequent products, from the counts just built (λ by the default share; the
  // validation split that tunes it costs about eight fits of up to 1 000 products more).
  const fitBefore = memory();
  const fit = fitEase(counts.model, { maxItems: DEFAULT_EASE_ITEMS });
  const refresh = {
    products: fit.productIds.length,
    fitMs: fit.fitMs,
    fitRatio: fit.fitMs / counts.buildMs,
    weightsMb: mb(fit.weights.byteLength),
    heldMb: mb(memory() - fitBefore),
    peakRssMb: maxRssMb(),
  };
  counts.model = null as never;

  // `tactful rules`: every pair counted then filtered (the baseline) beside apriori's pruning (mineRules), on the
  // same baskets held in memory, so the file's parsing is in neither figure.
  const held: Array<{ orderId: string; productIds: readonly string[] }> = [];
  for await (const basket of (await readBaskets(file)).baskets) held.push(basket);
  const rules: Array<{
    minSupport: number;
    rules: number;
    fullMs: number;
    prunedMs: number;
    ratio: number;
    pairsAll: number;
    pairsCounted: number;
    frequentProducts: number;
  }> = [];
  for (const minSupport of [1e-3, 1e-4]) {
    let t = performance.now();
    const model = await buildModel(held, { trackOrders: false });
    const full = model.rules({ minSupport, minConfidence: 0.1 });
    const fullMs = performance.now() - t;
    t = performance.now();
    const mined = await mineRules(held, { minSupport, minConfidence: 0.1 });
    const prunedMs = performance.now() - t;
    if (mined.rules.length !== full.length)
      throw new Error(`mineRules found ${mined.rules.length}, not ${full.length}`);
    rules.push({
      minSupport,
      rules: full.length,
      fullMs,
      prunedMs,
      ratio: prunedMs / fullMs,
      pairsAll: model.pairCountTotal(),
      pairsCounted: mined.pairsCounted,
      frequentProducts: mined.frequentProducts,
    });
  }
  held.length = 0;

  const tracked = await timedBuild(file, true);
  // A restart: rows out (what the store would hold) and back in, without reading the orders again.
  let t0 = performance.now();
  let rows: ReturnType<typeof tracked.model.snapshot> | null = tracked.model.snapshot();
  const snapshotMs = performance.now() - t0;
  t0 = performance.now();
  modelFromSnapshot(rows);
  const restoreMs = performance.now() - t0;
  const rowCounts = { products: rows.products.length, pairs: rows.pairs.length, orders: rows.orders.length };
  rows = null;
  const trackedResult = {
    buildMs: tracked.buildMs,
    ratio: tracked.buildMs / parsed.ms,
    buildCpuMs: tracked.buildCpuMs,
    cpuRatio: tracked.buildCpuMs / parsed.cpuMs,
    modelMb: mb(tracked.heldBytes),
    snapshotMs,
    restoreMs,
    rows: rowCounts,
    peakRssMb: maxRssMb(),
  };

  // Per-customer latency over 2,000 customers with their real histories; 5 % of products unavailable.
  const model = tracked.model;
  const random = seededRandom(7);
  const catalog = new Map<string, CatalogProduct>();
  for (let p = 0; p < PRODUCTS; p++) {
    const id = `p${p}`;
    catalog.set(id, {
      id,
      title: `Product ${p}`,
      category: `aisle ${aisleOf(p)}`,
      available: random() >= 0.05,
      price: '9.99',
      url: `https://shop.example/p/${p}`,
    });
  }
  const customers = model.customerIds();
  const chosen: string[] = [];
  for (let i = 0; i < 2000; i++) chosen.push(customers[Math.floor(random() * customers.length)]!);
  const histories = chosen.map((customerId) => {
    const purchases: PurchaseRecord[] = [];
    for (const order of model.ordersOf(customerId))
      for (const productId of order.productIds) purchases.push({ productId, time: order.time ?? 0 });
    const sent = purchases
      .slice(0, 3)
      .map((p) => ({ productId: `p${(Number(p.productId.slice(1)) + 1) % PRODUCTS}`, time: p.time }));
    return { purchases, sent };
  });
  const now = Date.UTC(2026, 0, 1);
  for (const history of histories.slice(0, 200)) recommendForCustomer(model, history, catalog, { now, k: 10 }); // warm-up
  // Three passes: the first pass as it comes (GC and scheduler included), and each customer's best of three
  // (the cost of the work itself, less sensitive to other processes on a shared machine).
  gc?.();
  const passes: number[][] = [[], [], []];
  const cpuFirst: number[] = [];
  let items = 0;
  for (const pass of passes) {
    items = 0;
    for (const history of histories) {
      const c0 = pass === passes[0] ? process.cpuUsage() : undefined;
      const t0 = performance.now();
      items += recommendForCustomer(model, history, catalog, { now, k: 10 }).length;
      pass.push(performance.now() - t0);
      if (c0) cpuFirst.push(cpuMs(c0));
    }
  }
  cpuFirst.sort((a, b) => a - b);
  const first = [...passes[0]!].sort((a, b) => a - b);
  const best = histories.map((_, i) => Math.min(passes[0]![i]!, passes[1]![i]!, passes[2]![i]!)).sort((a, b) => a - b);
  const sizes = histories.map((h) => h.purchases.length).sort((a, b) => a - b);
  const perCustomer = {
    customers: histories.length,
    meanPurchases: histories.reduce((s, h) => s + h.purchases.length, 0) / histories.length,
    p99Purchases: percentile(sizes, 99),
    maxPurchases: sizes[sizes.length - 1]!,
    meanItems: items / histories.length,
    p50Ms: percentile(first, 50),
    p99Ms: percentile(first, 99),
    maxMs: first[first.length - 1]!,
    bestOf3P50Ms: percentile(best, 50),
    bestOf3P99Ms: percentile(best, 99),
    cpuP50Ms: percentile(cpuFirst, 50),
    cpuP99Ms: percentile(cpuFirst, 99),
  };
  const load = loadavg()[0]!;

  const result = {
    file,
    generatedSeconds,
    groceries,
    longTail,
    refresh,
    rules,
    tracked: trackedResult,
    perCustomer,
    peakRssMb: maxRssMb(),
    loadAverage: load,
    cpus: cpus().length,
  };
  const f = (x: number, d = 2) => x.toFixed(d);
  log('');
  log('recommend benchmark');
  log(
    `  data          ${file} (${longTail.lines.toLocaleString('en')} order lines, ${longTail.orders.toLocaleString('en')} orders, ${longTail.products.toLocaleString('en')} products)${generatedSeconds === null ? '' : `, generated in ${f(generatedSeconds, 1)} s`}`,
  );
  log(
    `  Groceries     parse ${f(groceries.parseMs, 1)} ms, build ${f(groceries.buildMs, 1)} ms → build/parse ${f(groceries.ratio)}× (${groceries.pairs.toLocaleString('en')} pairs; median of 5)`,
  );
  log(`                EASE fit on all products ${f(groceries.fitMs, 1)} ms → fit/build ${f(groceries.fitRatio)}×`);
  for (const r of rules)
    log(
      `  rules ≥ ${r.minSupport}  every pair counted ${f(seconds(r.fullMs))} s (${r.pairsAll.toLocaleString('en')} pairs), pruned ${f(seconds(r.prunedMs))} s (${r.pairsCounted.toLocaleString('en')} pairs of ${r.frequentProducts.toLocaleString('en')} products) → ${f(r.ratio)}×; ${r.rules.toLocaleString('en')} rules either way`,
    );
  log(
    `  long tail     parse ${f(seconds(longTail.parseMs))} s, build ${f(seconds(longTail.buildMs))} s → build/parse ${f(longTail.ratio)}× (${longTail.pairs.toLocaleString('en')} distinct pairs)`,
  );
  log(
    `                CPU time: parse ${f(seconds(longTail.parseCpuMs))} s, build ${f(seconds(longTail.buildCpuMs))} s → ${f(longTail.cpuRatio)}×`,
  );
  log(
    `                top-K for all products ${f(longTail.topKAllProductsMs, 0)} ms; model ${f(longTail.modelMb, 1)} MB (${f(longTail.bytesPerPair, 1)} B/pair, pair table ${f(longTail.pairTableMb, 1)} MB)`,
  );
  log(
    `                peak RSS ${f(longTail.peakRssMbBefore, 0)} MB before, ${f(longTail.peakRssMbAfterParse, 0)} MB after parse, ${f(longTail.peakRssMbAfterBuild, 0)} MB after build`,
  );
  log(
    `  refresh       EASE on ${refresh.products.toLocaleString('en')} products ${f(seconds(refresh.fitMs))} s → fit/build ${f(refresh.fitRatio)}×; weights ${f(refresh.weightsMb, 1)} MB, held ${f(refresh.heldMb, 1)} MB, peak RSS ${f(refresh.peakRssMb, 0)} MB`,
  );
  log(
    `  tracked build build ${f(seconds(trackedResult.buildMs))} s → build/parse ${f(trackedResult.ratio)}× (CPU ${f(trackedResult.cpuRatio)}×), model with order baskets ${f(trackedResult.modelMb, 1)} MB, peak RSS ${f(trackedResult.peakRssMb, 0)} MB`,
  );
  log(
    `                snapshot to rows ${f(seconds(snapshotMs))} s, restore from rows ${f(seconds(restoreMs))} s (${rowCounts.pairs.toLocaleString('en')} pair rows, ${rowCounts.orders.toLocaleString('en')} order rows)`,
  );
  log(
    `  per customer  p50 ${f(perCustomer.p50Ms, 3)} ms, p99 ${f(perCustomer.p99Ms, 3)} ms, max ${f(perCustomer.maxMs, 2)} ms (one pass); best of 3: p50 ${f(perCustomer.bestOf3P50Ms, 3)} ms, p99 ${f(perCustomer.bestOf3P99Ms, 3)} ms`,
  );
  log(
    `                aim (issue #21) p99 < ${RECOMMEND_P99_AIM_MS} ms in one pass: ${f(perCustomer.p99Ms, 3)} ms ${perCustomer.p99Ms < RECOMMEND_P99_AIM_MS ? 'met' : 'NOT met'} | baseline of this run, each customer's best of 3 passes (the work without GC or scheduler): ${f(perCustomer.bestOf3P99Ms, 3)} ms (one pass ${f(perCustomer.p99Ms / perCustomer.bestOf3P99Ms, 1)}× it)`,
  );
  log(
    `                CPU time per call (one pass): p50 ${f(perCustomer.cpuP50Ms, 3)} ms, p99 ${f(perCustomer.cpuP99Ms, 3)} ms`,
  );
  log(
    `                ${perCustomer.customers} customers, purchases mean ${f(perCustomer.meanPurchases, 1)}, p99 ${perCustomer.p99Purchases}, max ${perCustomer.maxPurchases}`,
  );
  log(`  machine       ${result.cpus} CPUs, load average ${f(load)} during the run`);
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  benchRecommend().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
