/**
 * Imports a sandbox shop of 100,000 orders (the Groceries baskets, repeated) through a bulk operation and
 * reports the time and the peak resident memory. The sandbox holds the whole shop in this process, so the
 * figure that matters is the growth over the seeded baseline: the JSONL is streamed, never held whole.
 * The adapter talks to the sandbox through `sandbox.fetch` rather than an msw server: msw tees every mocked
 * response body for its own events, which would hold the whole result in memory and hide what is measured.
 *
 *   node --expose-gc --import tsx packages/shopify-adapter/bench/import.ts [orders]
 */
import { createShopifyPlatform } from '../src/index.js';
import { createShopifySandbox, seedFromGroceries } from '../src/testing/index.js';
import { readGroceries } from '../../../test/support/groceries.js';

const groceries = readGroceries();

export interface ShopifyImportBench {
  orders: number;
  lines: number;
  seconds: number;
  ordersPerSecond: number;
  baselineRssMB: number;
  peakRssMB: number;
  importGrowthMB: number;
  peakHeapUsedMB: number;
  /** Heap still in use after the import and a full collection, over the seeded baseline. */
  retainedHeapMB: number;
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

export async function benchShopifyImport(orderCount = 100_000): Promise<ShopifyImportBench> {
  const sandbox = createShopifySandbox({ bucket: { maximumAvailable: 2000, restoreRate: 100 } });
  const seeded = seedFromGroceries(sandbox, groceries, { orders: orderCount, customers: Math.ceil(orderCount / 10) });
  {
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      fetch: sandbox.fetch,
      bulk: { pollIntervalMs: 10 },
    });
    (globalThis as { gc?: () => void }).gc?.();
    const baseline = process.memoryUsage();
    let peakRss = baseline.rss;
    let peakHeap = baseline.heapUsed;
    const sample = () => {
      const usage = process.memoryUsage();
      peakRss = Math.max(peakRss, usage.rss);
      peakHeap = Math.max(peakHeap, usage.heapUsed);
    };
    const timer = setInterval(sample, 20);
    const started = performance.now();
    let orders = 0;
    let lines = 0;
    for await (const order of platform.streamAllOrders()) {
      orders += 1;
      lines += order.lines.length;
      if (orders % 5000 === 0) sample();
      // With --expose-gc, collect now and then so the figure shows what the import keeps, not garbage V8 has not
      // got round to collecting yet (without it, V8 lets garbage grow with the heap limit).
      if (orders % 10_000 === 0) (globalThis as { gc?: () => void }).gc?.();
    }
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    sample();
    if (orders !== seeded.orders) throw new Error(`imported ${orders} orders, seeded ${seeded.orders}`);
    (globalThis as { gc?: () => void }).gc?.();
    const retainedHeapMB = mb(process.memoryUsage().heapUsed - baseline.heapUsed);
    const result: ShopifyImportBench = {
      orders,
      lines,
      seconds: Math.round(seconds * 100) / 100,
      ordersPerSecond: Math.round(orders / seconds),
      baselineRssMB: mb(baseline.rss),
      peakRssMB: mb(peakRss),
      importGrowthMB: mb(peakRss - baseline.rss),
      peakHeapUsedMB: mb(peakHeap),
      retainedHeapMB,
    };
    console.log(
      `  shopify bulk import: ${orders} orders (${lines} lines) in ${result.seconds}s (${result.ordersPerSecond}/s); ` +
        `RSS ${result.baselineRssMB} MB seeded → peak ${result.peakRssMB} MB (+${result.importGrowthMB} MB while importing, ${result.retainedHeapMB} MB heap retained after)`,
    );
    return result;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchShopifyImport(Number(process.argv[2] ?? 100_000));
}
