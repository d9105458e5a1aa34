/**
 * `npm run bench -- scale`: a generated shop at 10 k and 100 k customers (`--max=1000000` adds 1 M), about 10
 * orders each, Zipf-like product popularity over 20 000 products, taken through the engine's public interface
 * the way the app and the CLI use it:
 *   catalogue (products.upsert) → order history (orders.ingest, batches of 2 000, as `tactful import orders`)
 *   → consent (consent.recordBatch, batches of 1 000, as a platform's customer import) → the model (the first
 *   `recommend.model()` of a fresh engine: loaded from the stored counts) → segment previews → Pareto → RFM
 *   rescore → a campaign dry run,
 * on PGlite and on PostgreSQL (DATABASE_URL, or the throwaway server run.ts starts). Each (database, size)
 * runs in a child process of its own, so every peak is its own: per step the time, the peak resident set
 * (VmHWM, reset before the step through /proc/self/clear_refs), and the peaks of the JS heap and of memory
 * outside it (`external`: PGlite's WebAssembly heap lives there). A table shows each step's growth per 10×;
 * a step growing faster than n log n is marked.
 *
 * The shop is a seeded stream: customers, their orders and their consent are generated in batches while they
 * are imported, so nothing holds the whole shop (at 1 M customers: ~10 M orders).
 *
 * Options: `--max=N` (largest size, default 100 000; sizes are 10 000 × 10^k up to it), `--sizes=a,b,…`,
 * `--db=pglite|postgres|both` (default both), `--campaign-max=N` (people the dry run composes an email for,
 * default 5: each composed email costs one personal recommendation, timed on its own as a step; here what
 * grows with the shop counts).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { createTactful, openStore, type OrderRecord, type Tactful } from '@tactful/core';
import { seededRandom } from '@tactful/core/testing/runtime';
import { procStatus } from './proc-status.js';
import { rawStore } from '@tactful/core/testing/runtime';

export const PRODUCTS = 20_000;
const CATEGORIES = 200;
const AISLES = 400; // a basket mostly shops one aisle, which gives the model real co-purchase structure
const SEED = 20_261_205;
const ORDERS_PER_CUSTOMER = 10;
/** The engine's clock: every order lies in the two years before it. */
const NOW = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

// ------------------------------------------------------------------------------------------ the shop
/** Cumulative Zipf weights 1/rank^s over n ranks, sampled by binary search. */
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

export const emailOf = (customer: number) => `shopper${customer}@scale.example`;
/** One customer in five subscribed to email marketing (confirmed); everyone granted personalization. */
export const subscribes = (customer: number) => customer % 5 === 0;

/**
 * The orders of customers [from, to), in customer order: about 10 each (geometric, at least 1), 1-8 distinct
 * products (mean ~2.6) mostly from one aisle, products by Zipf popularity. Deterministic for (seed, customer):
 * each customer has a generator of its own, so a slice is generated without the ones before it.
 */
export function* ordersOf(from: number, to: number): Generator<OrderRecord> {
  const global = zipfCdf(PRODUCTS, 1.0);
  const inAisle = zipfCdf(PRODUCTS / AISLES, 1.1);
  for (let c = from; c < to; c++) {
    const random = seededRandom(SEED ^ Math.imul(c + 1, 0x9e3779b1));
    // Geometric with mean ORDERS_PER_CUSTOMER, at least one order.
    const count = 1 + Math.floor(Math.log(1 - random()) / Math.log(1 - 1 / ORDERS_PER_CUSTOMER));
    for (let k = 0; k < count; k++) {
      const at = new Date(NOW.getTime() - Math.floor(random() * 730 * DAY) - 3_600_000);
      const aisle = Math.floor(random() * AISLES);
      const size = Math.min(8, 1 + Math.floor(-Math.log(1 - random()) * 1.6));
      const products = new Set<number>();
      for (let i = 0; i < size; i++)
        products.add(random() < 0.6 ? aisle + AISLES * sample(inAisle, random()) : sample(global, random()));
      const lines = [...products].map((p) => ({
        productId: `p${p}`,
        title: `Product ${p}`,
        quantity: 1,
        price: (1 + (p % 50)).toFixed(2),
      }));
      yield {
        id: `o${c}-${k}`,
        email: emailOf(c),
        createdAt: at,
        updatedAt: at,
        totalPrice: lines.reduce((s, l) => s + Number(l.price), 0).toFixed(2),
        currency: 'EUR',
        lines,
      };
    }
  }
}

/** The consent events of customers [from, to): personalization for all, email marketing for one in five. */
export function* consentOf(from: number, to: number): Generator<unknown> {
  const occurredAt = new Date(NOW.getTime() - 800 * DAY);
  for (let c = from; c < to; c++) {
    for (const purpose of subscribes(c) ? ['personalization', 'email_marketing'] : ['personalization'])
      yield {
        subject: { email: emailOf(c) },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt,
        source: { system: 'scale', eventId: `${purpose}-${c}`, method: 'form' },
      };
  }
}

async function* batches<T>(items: Iterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

// ---------------------------------------------------------------------------------------- measuring
export interface StepFigure {
  step: string;
  seconds: number;
  /** Peak resident set of the process during the step (VmHWM after a reset), MiB. */
  peakRssMiB: number;
  /** Peak V8 heap used during the step (sampled every 50 ms and at its end), MiB. */
  peakHeapMiB: number;
  /** Peak memory outside the V8 heap (`external`; PGlite's WebAssembly heap is counted there), MiB. */
  peakExternalMiB: number;
  /** What the step handled (orders, events, members, …). */
  items: number;
  note?: string;
}

export interface ScaleRunResult {
  target: 'pglite' | 'postgres';
  customers: number;
  orders: number;
  orderLines: number;
  consentEvents: number;
  steps: StepFigure[];
  totalSeconds: number;
  peakRssMiB: number;
  /** 1-minute load average before and after the run. */
  loadAverage: [number, number];
}

const MiB = 2 ** 20;

function status(field: 'VmHWM' | 'VmRSS'): number {
  const found = procStatus();
  // Not Linux: the current RSS stands in for the peak.
  if (!found) return process.memoryUsage().rss / MiB;
  return (field === 'VmHWM' ? found.vmHwm : found.vmRss) / MiB;
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0), so the next reading is this step's own peak. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/**
 * A line at most once a minute while a long import runs (count, share of the expected total, rate, load), so a
 * run stopped part-way (a million customers takes hours on a shared machine) still says how far it got.
 */
function progress(step: string, expected: number, everyMs = 60_000): (done: number) => void {
  const started = performance.now();
  let last = started;
  return (done) => {
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    const rate = done / ((now - started) / 1000);
    console.error(
      `    … ${step}: ${done} of ~${expected} (${Math.round((100 * done) / expected)} %), ${Math.round(rate)}/s, load ${loadavg()[0]!.toFixed(1)}`,
    );
  };
}

async function measure(
  steps: StepFigure[],
  step: string,
  /** `seconds` replaces the step's wall-clock time when the step times something narrower itself. */
  work: () => Promise<{ items: number; note?: string; seconds?: number }>,
): Promise<void> {
  (globalThis as { gc?: () => void }).gc?.();
  const resettable = resetPeak();
  let heap = 0;
  let external = 0;
  let rss = 0;
  const sampleNow = () => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    external = Math.max(external, m.external);
    rss = Math.max(rss, m.rss);
  };
  const timer = setInterval(sampleNow, 50);
  const started = performance.now();
  try {
    const done = await work();
    const { items, note } = done;
    const seconds = done.seconds ?? (performance.now() - started) / 1000;
    sampleNow();
    steps.push({
      step,
      seconds,
      peakRssMiB: resettable ? status('VmHWM') : rss / MiB,
      peakHeapMiB: heap / MiB,
      peakExternalMiB: external / MiB,
      items,
      ...(note ? { note } : {}),
    });
    console.error(
      `    [${step}] ${seconds.toFixed(1)} s, peak RSS ${steps.at(-1)!.peakRssMiB.toFixed(0)} MiB${note ? ` (${note})` : ''}`,
    );
  } finally {
    clearInterval(timer);
  }
}

const segmentsToPreview = [
  { name: 'bought a category within 30 days', segment: { purchased: { category: 'c7', withinDays: 30 } } },
  {
    name: 'subscribed, 10+ orders',
    segment: { all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { orderCount: { min: 10 } }] },
  },
  { name: 'RFM champions or loyal', segment: { rfmLabel: ['champions', 'loyal'] } },
];

/** One (database, size): a fresh shop through every step. */
export async function runScale(
  target: 'pglite' | 'postgres',
  url: string,
  customers: number,
  campaignMax: number,
): Promise<ScaleRunResult> {
  const load0 = loadavg()[0]!;
  const started = performance.now();
  const steps: StepFigure[] = [];
  const folder = url === 'folder' ? mkdtempSync(join(tmpdir(), 'tactful-scale-')) : null;
  const store = await openStore({ url: folder ?? url, secret: randomBytes(32).toString('hex') });
  const shop = `scale-${customers}-${randomBytes(3).toString('hex')}.example`;
  let orders = 0;
  let orderLines = 0;
  let consentEvents = 0;
  try {
    let tactful: Tactful = await createTactful({ store, shop, now: () => NOW });
    await tactful.settings.update({
      sender: { name: 'Scale Shop', email: 'hello@scale.example', postalAddress: '1 Scale Street, Benchville' },
    });
    await measure(steps, 'import catalogue', async () => {
      for await (const batch of batches(
        Array.from({ length: PRODUCTS }, (_, p) => ({
          id: `p${p}`,
          title: `Product ${p}`,
          category: `c${p % CATEGORIES}`,
          price: (1 + (p % 50)).toFixed(2),
          available: true,
        })),
        2_000,
      ))
        await tactful.products.upsert(batch);
      return { items: PRODUCTS };
    });
    await measure(steps, 'import orders', async () => {
      const report = progress('import orders', customers * ORDERS_PER_CUSTOMER);
      for await (const batch of batches(ordersOf(0, customers), 2_000)) {
        await tactful.orders.ingest(batch, 'scale');
        orders += batch.length;
        for (const o of batch) orderLines += o.lines.length;
        report(orders);
      }
      return { items: orders, note: `${orders} orders, ${orderLines} lines` };
    });
    await measure(steps, 'import consent', async () => {
      const report = progress('import consent', customers + Math.ceil(customers / 5));
      for await (const batch of batches(consentOf(0, customers), 1_000)) {
        await tactful.consent.recordBatch(batch);
        consentEvents += batch.length;
        report(consentEvents);
      }
      return { items: consentEvents, note: `${consentEvents} events` };
    });
    if (store.kind === 'postgres') await rawStore(store).query('analyze');
    // A fresh engine, as a restarted app: its first model() loads the stored model.
    tactful = await createTactful({ store, shop, now: () => NOW });
    await measure(steps, 'model build', async () => {
      const model = await tactful.recommend.model();
      return { items: orders, note: `${model.productIds().length} products in the model` };
    });
    await measure(steps, 'RFM rescore', async () => {
      await tactful.profiles.rescore();
      return { items: customers };
    });
    for (const { name, segment } of segmentsToPreview)
      await measure(steps, `segment: ${name}`, async () => {
        const preview = await tactful.segments.preview(segment, 10);
        return { items: preview.count, note: `${preview.count} of ${preview.profiles}` };
      });
    await measure(steps, 'Pareto report', async () => {
      const pareto = await tactful.segments.pareto();
      return { items: pareto.top, note: `${pareto.top} customers hold 80% of revenue` };
    });
    /** The median of one call for nine customers spread over the shop: a page's latency, not a total. */
    const medianOfNine = async (call: (email: string) => Promise<unknown>) => {
      const times: number[] = [];
      for (let i = 0; i < 9; i++) {
        const s = performance.now();
        await call(emailOf(Math.floor((i * customers) / 9)));
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      return { items: 9, note: `median ${times[4]!.toFixed(0)} ms`, seconds: times[4]! / 1000 };
    };
    await measure(steps, 'recommend one customer (median of 9)', () =>
      medianOfNine((email) => tactful.recommend.forCustomer(email, { k: 10 })),
    );
    // What a customer's preference centre reads (purchases, categories, consent, the RFM freshness check): once a
    // scan of the shop's profiles per page (docs/scaling.md).
    await measure(steps, 'preference centre page (median of 9)', () =>
      medianOfNine((email) => tactful.preferences.show(email)),
    );
    await measure(steps, 'campaign dry run', async () => {
      const dry = await tactful.campaign.run({
        name: 'scale',
        dryRun: true,
        publicUrl: 'https://tactful.example.com',
        previews: 0,
        maxRecipients: campaignMax,
        at: NOW,
      });
      return {
        items: dry.considered,
        note: `${dry.considered} considered, ${dry.eligible} emails composed (capped at ${campaignMax})`,
      };
    });
  } finally {
    await store.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  }
  return {
    target,
    customers,
    orders,
    orderLines,
    consentEvents,
    steps,
    totalSeconds: (performance.now() - started) / 1000,
    peakRssMiB: steps.reduce((max, s) => Math.max(max, s.peakRssMiB), 0),
    loadAverage: [load0, loadavg()[0]!],
  };
}

// ------------------------------------------------------------------------------------------ the table
/** The growth factor n log n predicts for a 10× step from n. */
export const nLogNFactor = (n: number) => (10 * Math.log(10 * n)) / Math.log(n);

export function growthTable(runs: readonly ScaleRunResult[]): string[] {
  const out: string[] = [];
  const sizes = [...new Set(runs.map((r) => r.customers))].sort((a, b) => a - b);
  for (const target of ['pglite', 'postgres'] as const) {
    const mine = sizes
      .map((n) => runs.find((r) => r.target === target && r.customers === n))
      .filter((r): r is ScaleRunResult => Boolean(r));
    if (mine.length === 0) continue;
    const head = ['step', ...mine.map((r) => `${r.customers / 1000}k s`)];
    for (let i = 1; i < mine.length; i++) head.push(`×${mine[i - 1]!.customers / 1000}k→${mine[i]!.customers / 1000}k`);
    for (const r of mine) head.push(`${r.customers / 1000}k peak MiB`);
    const rows: string[][] = [];
    for (const step of mine[0]!.steps.map((s) => s.step)) {
      const figures = mine.map((r) => r.steps.find((s) => s.step === step));
      const row = [step, ...figures.map((f) => (f ? f.seconds.toFixed(2) : '-'))];
      for (let i = 1; i < figures.length; i++) {
        const a = figures[i - 1];
        const b = figures[i];
        if (!a || !b) row.push('-');
        else {
          const factor = b.seconds / a.seconds;
          // Sub-second steps are mostly fixed cost and noise: no verdict on them.
          const fast = factor > nLogNFactor(mine[i - 1]!.customers) && b.seconds >= 1;
          row.push(`${factor.toFixed(1)}×${fast ? ' > n log n' : ''}`);
        }
      }
      for (const f of figures) row.push(f ? f.peakRssMiB.toFixed(0) : '-');
      rows.push(row);
    }
    const total = ['total', ...mine.map((r) => r.totalSeconds.toFixed(1))];
    for (let i = 1; i < mine.length; i++)
      total.push(`${(mine[i]!.totalSeconds / mine[i - 1]!.totalSeconds).toFixed(1)}×`);
    for (const r of mine) total.push(r.peakRssMiB.toFixed(0));
    rows.push(total);
    const widths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? '').length), h.length));
    const line = (cells: string[]) =>
      `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
    out.push(
      `  ${target}: ${mine.map((r) => `${r.customers} customers (${r.orders} orders, load ${r.loadAverage[0].toFixed(1)}→${r.loadAverage[1].toFixed(1)})`).join('; ')}`,
    );
    out.push(line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  }
  return out;
}

// -------------------------------------------------------------------------------------- the section
function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
}

export function scaleSizes(max: number): number[] {
  const sizes: number[] = [];
  for (let n = 10_000; n <= max; n *= 10) sizes.push(n);
  return sizes;
}

/** Runs one (database, size) in a child process (its peaks are its own) and returns its figures. */
function runChild(target: 'pglite' | 'postgres', url: string, customers: number, campaignMax: number) {
  return new Promise<ScaleRunResult>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: [...process.execArgv],
      env: {
        ...process.env,
        TACTFUL_SCALE_CHILD: JSON.stringify({ target, url, customers, campaignMax }),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: ScaleRunResult | null = null;
    child.on('message', (message: { result?: ScaleRunResult; error?: string }) => {
      if (message.result) result = message.result;
      if (message.error) reject(new Error(message.error));
    });
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`scale run ${target} ${customers} exited with ${code}`)),
    );
  });
}

export async function benchScale(postgresUrl?: string): Promise<{ runs: ScaleRunResult[]; table: string[] }> {
  const max = Number(flag('max') ?? process.env.BENCH_SCALE_MAX ?? 100_000);
  const sizes = flag('sizes')
    ? flag('sizes')!
        .split(',')
        .map((s) => Number(s))
    : scaleSizes(max);
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 100))
    throw new Error(`--max/--sizes: give whole numbers of customers of at least 100 (got ${sizes.join(',') || max})`);
  const which = flag('db') ?? 'both';
  const campaignMax = Number(flag('campaign-max') ?? 5);
  const targets: Array<['pglite' | 'postgres', string]> = [];
  // A folder, as the app keeps it: `memory://` would hold the whole database in the process (8 GB at 100 k).
  if (which !== 'postgres') targets.push(['pglite', 'folder']);
  if (which !== 'pglite') {
    if (postgresUrl) targets.push(['postgres', postgresUrl]);
    else console.log('  !!! PostgreSQL not available: its figures were NOT measured');
  }
  console.log(
    `  a generated shop per size: ${sizes.join(', ')} customers, ~${ORDERS_PER_CUSTOMER} orders each, ${PRODUCTS} products (Zipf), one child process per database and size; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  const runs: ScaleRunResult[] = [];
  for (const [target, url] of targets)
    for (const n of sizes) {
      console.log(`  ${target}, ${n} customers …`);
      runs.push(await runChild(target, url, n, campaignMax));
    }
  const table = growthTable(runs);
  for (const line of table) console.log(line);
  console.log(
    `  (growth per 10×: n log n predicts ${nLogNFactor(sizes[0]!).toFixed(1)}× from ${sizes[0]}; a step of a second or more above it is marked)`,
  );
  return { runs, table };
}

// -------------------------------------------------------------------------------------------- the child
if (process.env.TACTFUL_SCALE_CHILD && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { target, url, customers, campaignMax } = JSON.parse(process.env.TACTFUL_SCALE_CHILD) as {
    target: 'pglite' | 'postgres';
    url: string;
    customers: number;
    campaignMax: number;
  };
  try {
    const result = await runScale(target, url, customers, campaignMax);
    const heap = getHeapStatistics();
    console.error(
      `    done: ${result.totalSeconds.toFixed(1)} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, heap limit ${(heap.heap_size_limit / MiB).toFixed(0)} MiB`,
    );
    // Each run's figures are kept as soon as it ends: a long series stopped half-way keeps what it measured.
    mkdirSync('.bench', { recursive: true });
    writeFileSync(`.bench/scale-${target}-${customers}.json`, `${JSON.stringify(result, null, 2)}\n`);
    process.send!({ result });
  } catch (error) {
    process.send!({ error: (error as Error).stack ?? String(error) });
  }
  process.disconnect();
}
