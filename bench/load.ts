/**
 * `npm run bench -- load`: signed Shopify webhooks (orders/create and customers/update, Shopify's documented
 * payloads shipped in @tactful/shopify's data/webhooks, each with its own order or customer id and webhook id) at a fixed rate against
 * the app's HTTP server, loopback only, bounded in time. The app runs in a child process of its own (the
 * same wiring as `tactful serve`: createApp + the background inbox worker), so the load generator never
 * shares its event loop. Measured per database (PGlite, then PostgreSQL when available):
 * - acknowledged latency p50/p99 (autocannon, paced with `overallRate`; latency counts from when a request
 *   was written, so a server that falls behind shows it as queueing in later requests and in the rate it
 *   reaches, which is reported too),
 * - errors, non-2xx answers, timeouts,
 * - the time until the inbox worker has processed every acknowledged delivery, counted in the `inbox` table,
 * - how long each delivery waited to be processed (received_at → processed_at: p99 and max over every row),
 * - nothing lost: acknowledged deliveries = inbox rows = processed rows, none failed.
 * Each database runs twice: the worker as `tactful serve` runs it (claims handled in batches, with a time
 * budget), then the baseline of the same run, the worker handling one delivery at a time as it did before
 * (limit 5 a claim on PGlite, 100 on PostgreSQL, no budget), for a shorter time. Each aim of issue #21 is
 * printed beside its measured figure and the baseline's.
 *
 * Options: `--duration=SECONDS` or BENCH_LOAD_SECONDS (default 60), `--rate=N` or BENCH_LOAD_RATE (PostgreSQL,
 * default 1000 per second), `--pglite-rate=N` or BENCH_LOAD_PGLITE_RATE (default 200 per second: PGlite runs one
 * statement at a time), `--baseline-seconds=SECONDS` or BENCH_LOAD_BASELINE_SECONDS (default 15; 0 skips the
 * baseline), `--warmup-seconds=SECONDS` or BENCH_LOAD_WARMUP_SECONDS (load at the same rate before each measured
 * run, its latencies printed apart and not counted; default 5, 0 for none), `--database=pglite|postgres|both` or
 * BENCH_LOAD_DATABASE (default both), BENCH_LOAD_DRAIN_SECONDS (longest wait for the worker, default 900).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { shopifyDataPath } from '@tactful/shopify/testing';
import { rawStore } from '@tactful/core/testing/runtime';
import { percentile } from './percentile.js';

const SECRET = 'load-bench-shopify-secret';
const ROLE = 'TACTFUL_LOAD_SERVE';

interface Counts {
  rows: number;
  processed: number;
  failed: number;
  lastProcessedAt: number | null;
  /** Seconds from a delivery's receipt to its processing: p99 and max over the processed rows. */
  lagP99: number | null;
  lagMax: number | null;
}

/** Which worker the app runs: `batched` as `tactful serve` does, `baseline` one delivery at a time as before. */
type Worker = 'batched' | 'baseline';

export interface LoadBenchResult {
  target: 'pglite' | 'postgres';
  worker: Worker;
  rateAsked: number;
  seconds: number;
  /** Responses read (any status) in the measured part of the run, after the warm-up. */
  responses: number;
  acknowledged: number;
  achievedRate: number;
  /** Seconds of load at the same rate before the measured run, not counted in its figures; and its latencies. */
  warmupSeconds: number;
  warmupP99Ms: number | null;
  warmupMaxMs: number | null;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** Stored deliveries: the acknowledged ones plus those in flight when the load stopped (stored, answer not read). */
  inboxRows: number;
  processed: number;
  failedAttempts: number;
  /** From the end of the warm-up to the moment the worker had processed the last delivery. */
  processedAllAfterSeconds: number | null;
  /** From the end of the load to the moment the worker had processed the last delivery. */
  drainSeconds: number | null;
  /** Per delivery, seconds from its receipt (received_at) to its processing (processed_at). */
  lagP99Seconds: number | null;
  lagMaxSeconds: number | null;
  /** Acknowledged deliveries that the worker did not process (must be 0). */
  lost: number;
  serverPeakRssMiB: number;
  /** The machine's 1-minute load average before and after (the figures mean little on a machine busy with other work). */
  loadAverage: [number, number];
  cpus: number;
}

function flag(name: string): string | undefined {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return arg?.slice(name.length + 3);
}

// ---------------------------------------------------------------------------------------------- the app
async function serve(): Promise<void> {
  const pino = (await import('pino')).default;
  const { createTactful, openStore } = await import('@tactful/core');
  const { createApp, readServeConfig, startServer } = await import('@tactful/app');
  const { startWorkers } = await import('../packages/app/src/server/workers.js');
  const url = process.env.TACTFUL_LOAD_DB!;
  const shop = process.env.TACTFUL_LOAD_SHOP!;
  const secret = randomBytes(32).toString('hex');
  const store = await openStore({ url, secret });
  const tactful = await createTactful({ store, shop });
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    TACTFUL_SECRET: secret,
    SHOPIFY_API_SECRET: SECRET,
    TACTFUL_DB: url,
    TACTFUL_SHOP: shop,
  });
  const logger = pino({ level: 'warn' });
  const server = await startServer(createApp({ tactful, config, logger }), { host: '127.0.0.1', port: 0 });
  // What `tactful serve` runs: the inbox worker, every second; or, for the baseline, the worker as it was
  // before claims were handled in batches (one delivery at a time, 5 a claim on PGlite, 100 on PostgreSQL).
  const baseline = process.env.TACTFUL_LOAD_WORKER === 'baseline';
  const workers = startWorkers(
    tactful,
    logger,
    baseline
      ? {
          inbox: {
            batches: false,
            limit: store.kind === 'pglite' ? 5 : 100,
            budgetMs: Number.POSITIVE_INFINITY,
          },
        }
      : {},
  );
  let peakRss = process.memoryUsage().rss;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250).unref();
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'counts') {
      const [row] = await rawStore(store).query<{
        rows: number;
        processed: number;
        failed: number;
        last: Date | null;
        lag_p99: number | null;
        lag_max: number | null;
      }>(
        `select count(*)::int as rows, count(processed_at)::int as processed,
           count(*) filter (where attempts > 1 or last_error is not null)::int as failed, max(processed_at) as last,
           (percentile_cont(0.99) within group (order by extract(epoch from processed_at - received_at)))::float8 as lag_p99,
           max(extract(epoch from processed_at - received_at))::float8 as lag_max
         from inbox where shop_id = $1`,
        [shop],
      );
      process.send!({
        type: 'counts',
        counts: {
          rows: row!.rows,
          processed: row!.processed,
          failed: row!.failed,
          lastProcessedAt: row!.last ? new Date(row!.last).getTime() : null,
          lagP99: row!.lag_p99 === null ? null : Number(row!.lag_p99),
          lagMax: row!.lag_max === null ? null : Number(row!.lag_max),
        },
        peakRss,
      });
    } else if (message.type === 'ids') {
      const rows = await rawStore(store).query<{ id: string }>(
        'select delivery_id as id from inbox where shop_id = $1 and processed_at is not null',
        [shop],
      );
      process.send!({ type: 'ids', ids: rows.map((r) => r.id) });
    } else if (message.type === 'stop') {
      await workers.stop();
      await server.close();
      await store.close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', url: server.url });
}

// -------------------------------------------------------------------------------------------- the load
function webhookBodies(_shop: string) {
  const order = JSON.parse(readFileSync(shopifyDataPath('webhooks/orders__create.json'), 'utf8')).response as Record<
    string,
    unknown
  > & { line_items: Array<Record<string, unknown>>; customer: Record<string, unknown> };
  const customer = JSON.parse(readFileSync(shopifyDataPath('webhooks/customers__update.json'), 'utf8'))
    .response as Record<string, unknown>;
  // Placeholders replaced per request: each delivery names its own order or customer.
  order.id = '__ID__';
  order.admin_graphql_api_id = 'gid://shopify/Order/__ID__';
  order.name = '#__ID__';
  order.email = 'buyer__PERSON__@example.com';
  order.customer = {
    ...order.customer,
    id: '__PERSONID__',
    email: 'buyer__PERSON__@example.com',
    admin_graphql_api_id: 'gid://shopify/Customer/__PERSONID__',
  };
  order.line_items = order.line_items.map((line, k) => ({ ...line, product_id: `__P${k}__` }));
  customer.id = '__PERSONID__';
  customer.admin_graphql_api_id = 'gid://shopify/Customer/__PERSONID__';
  customer.email = 'buyer__PERSON__@example.com';
  // Each update of a customer is a new version of the record (as Shopify sends): the same body twice would be a
  // replay, acknowledged but not stored again, and counted here as lost.
  customer.updated_at = '__UPDATED__';
  const orderText = JSON.stringify(order).replace(/"__(ID|PERSONID|P\d)__"/g, '__$1__');
  const customerText = JSON.stringify(customer).replace(/"__PERSONID__"/g, '__PERSONID__');
  let n = 0;
  return (): { topic: string; body: string; id: string } => {
    n += 1;
    const person = n % 5000;
    if (n % 4 === 0) {
      return {
        topic: 'customers/update',
        id: `c${n}`,
        body: customerText
          .replaceAll('__PERSONID__', String(9_000_000 + person))
          .replaceAll('__PERSON__', String(person))
          .replace('__UPDATED__', new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString()),
      };
    }
    let body = orderText
      .replaceAll('__ID__', String(5_000_000 + n))
      .replaceAll('__PERSONID__', String(9_000_000 + person))
      .replaceAll('__PERSON__', String(person));
    for (let k = 0; k < 3; k++) body = body.replaceAll(`__P${k}__`, String(7_000_000 + ((n * 7 + k * 13) % 60)));
    return { topic: 'orders/create', id: `o${n}`, body };
  };
}

interface App {
  child: ChildProcess;
  url: string;
  ask: () => Promise<{ counts: Counts; peakRss: number }>;
  processedIds: () => Promise<string[]>;
}

function startApp(db: string, shop: string, worker: Worker): Promise<App> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [ROLE]: '1', TACTFUL_LOAD_DB: db, TACTFUL_LOAD_SHOP: shop, TACTFUL_LOAD_WORKER: worker },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the app process exited (${code}) before it listened`)));
    child.once('message', (message: { type: string; url: string }) => {
      const ask = () =>
        new Promise<{ counts: Counts; peakRss: number }>((done) => {
          child.once('message', (m: { counts: Counts; peakRss: number }) => done(m));
          child.send({ type: 'counts' });
        });
      const processedIds = () =>
        new Promise<string[]>((done) => {
          child.once('message', (m: { ids: string[] }) => done(m.ids));
          child.send({ type: 'ids' });
        });
      resolve({ child, url: message.url, ask, processedIds });
    });
  });
}

async function loadOne(
  target: 'pglite' | 'postgres',
  worker: Worker,
  db: string,
  seconds: number,
  rate: number,
  warmupSeconds: number,
): Promise<LoadBenchResult> {
  const shop = `load-${randomBytes(4).toString('hex')}.myshopify.com`;
  const app = await startApp(db, shop, worker);
  const next = webhookBodies(shop);
  // Which deliveries the app acknowledged (200): each connection sends one request at a time, so its context
  // names the delivery its response is for.
  const acked = new Set<string>();
  try {
    const loadBefore = loadavg()[0]!;
    // One run at the same rate: its first `warmupSeconds` are a warm-up, not counted (a new process compiles its
    // code and fills its caches in its first second, which would otherwise be the run's slowest 1 %), and are
    // printed apart. Latencies are read per response, counted in the part of the run they ended in.
    const warmup: number[] = [];
    const measured: number[] = [];
    let measuredAcks = 0;
    const startedAt = Date.now() + warmupSeconds * 1000;
    const options: autocannon.Options = {
      url: `${app.url}/shopify/webhooks`,
      connections: 100,
      overallRate: rate,
      duration: warmupSeconds + seconds,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          setupRequest: (request, context) => {
            const { topic, body, id } = next();
            (context as { id?: string }).id = id;
            return {
              ...request,
              body,
              headers: {
                'content-type': 'application/json',
                'x-shopify-topic': topic,
                'x-shopify-shop-domain': shop,
                'x-shopify-webhook-id': id,
                'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
              },
            };
          },
          onResponse: (status, _body, context) => {
            const id = (context as { id?: string }).id;
            if (status === 200 && id) acked.add(id);
          },
        },
      ],
    };
    const result = await new Promise<autocannon.Result>((resolve, reject) => {
      const run = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
      run.on('response', (_client, status, _bytes, ms) => {
        if (Date.now() < startedAt) {
          warmup.push(ms);
          return;
        }
        measured.push(ms);
        if (status === 200) measuredAcks += 1;
      });
    });
    const endedAt = Date.now();
    const latency = percentiles(measured);
    const warmupLatency = warmup.length > 0 ? percentiles(warmup) : null;
    const drainLimit = Number(process.env.BENCH_LOAD_DRAIN_SECONDS ?? 900) * 1000;
    let last = await app.ask();
    while (last.counts.processed < last.counts.rows && Date.now() - endedAt < drainLimit) {
      await new Promise((r) => setTimeout(r, 250));
      last = await app.ask();
    }
    const { counts } = last;
    const processedIds = new Set(await app.processedIds());
    let lost = 0;
    for (const id of acked) if (!processedIds.has(id)) lost += 1;
    const done = counts.processed === counts.rows && counts.lastProcessedAt !== null;
    const out: LoadBenchResult = {
      target,
      worker,
      rateAsked: rate,
      seconds,
      responses: measured.length,
      acknowledged: measuredAcks,
      achievedRate: measuredAcks / ((endedAt - startedAt) / 1000),
      warmupSeconds,
      warmupP99Ms: warmupLatency?.p99 ?? null,
      warmupMaxMs: warmupLatency?.max ?? null,
      p50Ms: latency.p50,
      p90Ms: latency.p90,
      p99Ms: latency.p99,
      maxMs: latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      inboxRows: counts.rows,
      processed: counts.processed,
      failedAttempts: counts.failed,
      processedAllAfterSeconds: done ? (Math.max(counts.lastProcessedAt!, endedAt) - startedAt) / 1000 : null,
      drainSeconds: done ? Math.max(0, counts.lastProcessedAt! - endedAt) / 1000 : null,
      lagP99Seconds: counts.lagP99,
      lagMaxSeconds: counts.lagMax,
      lost,
      serverPeakRssMiB: Math.round(last.peakRss / 2 ** 20),
      loadAverage: [Math.round(loadBefore * 10) / 10, Math.round(loadavg()[0]! * 10) / 10],
      cpus: cpus().length,
    };
    return out;
  } finally {
    app.child.send({ type: 'stop' });
    await new Promise((r) => {
      app.child.once('exit', r);
      setTimeout(() => app.child.kill('SIGKILL'), 10_000).unref();
    });
  }
}

/** Percentiles of latencies in milliseconds, whole milliseconds as autocannon prints them. */
function percentiles(ms: number[]): { p50: number; p90: number; p99: number; max: number } {
  if (ms.length === 0) return { p50: Number.NaN, p90: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = Float64Array.from(ms).sort();
  const at = (p: number) => Math.round(percentile(sorted, p));
  return { p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

const secs = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)} s`);

function print(r: LoadBenchResult): void {
  const label = `${r.target} ${r.worker}`.padEnd(17);
  console.log(
    `  ${label} ${r.acknowledged} acknowledged of ${r.responses} answered in ${r.seconds} s${r.warmupSeconds > 0 ? ` after ${r.warmupSeconds} s of warm-up (p99 ${r.warmupP99Ms} ms, max ${r.warmupMaxMs} ms)` : ''} (asked ${r.rateAsked}/s, reached ${Math.round(r.achievedRate)}/s) | ack latency p50 ${r.p50Ms} ms p90 ${r.p90Ms} ms p99 ${r.p99Ms} ms max ${r.maxMs} ms | errors ${r.errors} timeouts ${r.timeouts} non-2xx ${r.non2xx} (warm-up included)`,
  );
  console.log(
    `  ${''.padEnd(17)} inbox ${r.inboxRows} rows, ${r.processed} processed, ${r.failedAttempts} failed attempts; processed within ${secs(r.lagP99Seconds)} of acknowledgement at p99 (max ${secs(r.lagMaxSeconds)}); all processed ${r.processedAllAfterSeconds === null ? 'NOT within the wait' : `${r.processedAllAfterSeconds.toFixed(1)} s after the warm-up (${r.drainSeconds!.toFixed(1)} s after the last)`} | lost ${r.lost} | app peak RSS ${r.serverPeakRssMiB} MiB | load average ${r.loadAverage[0]} → ${r.loadAverage[1]} on ${r.cpus} CPUs`,
  );
}

/** Issue #21's aims for one database, each beside the measured figure and the baseline's of the same run. */
function printAims(r: LoadBenchResult, base: LoadBenchResult | undefined): void {
  const b = (f: (x: LoadBenchResult) => string) => (base ? ` (baseline ${f(base)})` : '');
  const line = (ok: boolean, aim: string, got: string) => console.log(`  ${ok ? 'met ' : '!!! '} ${aim}: ${got}`);
  const rate = (x: LoadBenchResult) => `${Math.round(x.achievedRate)}/s`;
  const p99 = (x: LoadBenchResult) => `${x.p99Ms} ms`;
  const bad = (x: LoadBenchResult) => `${x.errors} errors, ${x.timeouts} timeouts, ${x.non2xx} non-2xx`;
  const lag = (x: LoadBenchResult) => `p99 ${secs(x.lagP99Seconds)}, max ${secs(x.lagMaxSeconds)}`;
  const p99Aim = r.target === 'postgres' ? 100 : 500;
  console.log(`  aims (issue #21), ${r.target}:`);
  line(r.achievedRate >= r.rateAsked * 0.98, `acknowledged at ${r.rateAsked}/s`, `${rate(r)}${b(rate)}`);
  line(r.p99Ms < p99Aim, `acknowledgement p99 < ${p99Aim} ms`, `${p99(r)}${b(p99)}`);
  line(r.errors + r.timeouts + r.non2xx === 0, 'no errors or timeouts', `${bad(r)}${b(bad)}`);
  if (r.target === 'postgres')
    line(
      r.lagMaxSeconds !== null && r.lagMaxSeconds <= 5,
      'every delivery processed within 5 s of its acknowledgement',
      `${lag(r)}${b(lag)}`,
    );
  else console.log(`       processed after acknowledgement: ${lag(r)}${b(lag)}`);
  line(r.lost === 0, 'nothing acknowledged is lost', `${r.lost} lost${b((x) => `${x.lost} lost`)}`);
}

/** A database of its own on the server, dropped afterwards: rows of other runs and tests never mix in. */
async function withFreshDatabase<T>(url: string, run: (url: string) => Promise<T>): Promise<T> {
  const { default: pg } = await import('pg');
  const name = `tactful_load_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
    const fresh = new URL(url);
    fresh.pathname = `/${name}`;
    try {
      return await run(fresh.toString());
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
    }
  } finally {
    await admin.end();
  }
}

export async function benchLoad(): Promise<LoadBenchResult[]> {
  const seconds = Number(flag('duration') ?? process.env.BENCH_LOAD_SECONDS ?? 60);
  const rate = Number(flag('rate') ?? process.env.BENCH_LOAD_RATE ?? 1000);
  const pgliteRate = Number(flag('pglite-rate') ?? process.env.BENCH_LOAD_PGLITE_RATE ?? 200);
  const baselineSeconds = Number(flag('baseline-seconds') ?? process.env.BENCH_LOAD_BASELINE_SECONDS ?? 15);
  const warmupSeconds = Number(flag('warmup-seconds') ?? process.env.BENCH_LOAD_WARMUP_SECONDS ?? 5);
  if (![seconds, rate, pgliteRate].every((x) => Number.isFinite(x) && x > 0))
    throw new Error('--duration, --rate and --pglite-rate must be positive numbers');
  if (!Number.isFinite(baselineSeconds) || baselineSeconds < 0)
    throw new Error('--baseline-seconds must be 0 or a positive number');
  if (!Number.isFinite(warmupSeconds) || warmupSeconds < 0)
    throw new Error('--warmup-seconds must be 0 or a positive number');
  console.log(
    `  signed Shopify webhooks (3 orders/create : 1 customers/update) for ${seconds} s (baseline ${baselineSeconds} s), each after a ${warmupSeconds} s warm-up at its rate that is not counted, PGlite at ${pgliteRate}/s, PostgreSQL at ${rate}/s, 100 connections, app in its own process`,
  );
  const out: LoadBenchResult[] = [];
  const only = flag('database') ?? process.env.BENCH_LOAD_DATABASE ?? 'both';
  if (!['both', 'pglite', 'postgres'].includes(only))
    throw new Error(`--database must be pglite, postgres or both, not "${only}"`);
  const targets: Array<['pglite' | 'postgres', string, number]> = [];
  if (only !== 'postgres') targets.push(['pglite', 'memory://', pgliteRate]);
  if (only === 'pglite') console.log('  PostgreSQL not asked for (--database=pglite)');
  else if (process.env.DATABASE_URL) targets.push(['postgres', process.env.DATABASE_URL, rate]);
  else console.log('  !!! PostgreSQL not available: its figures were NOT measured');
  for (const [name, url, r] of targets) {
    const runs: LoadBenchResult[] = [];
    const workers: Array<[Worker, number]> = [['batched', seconds]];
    if (baselineSeconds > 0) workers.push(['baseline', baselineSeconds]);
    for (const [worker, s] of workers) {
      const result =
        name === 'postgres'
          ? await withFreshDatabase(url, (fresh) => loadOne(name, worker, fresh, s, r, warmupSeconds))
          : await loadOne(name, worker, url, s, r, warmupSeconds);
      print(result);
      runs.push(result);
    }
    printAims(runs[0]!, runs[1]);
    for (const run of runs) out.push(run);
  }
  const broken = out.filter((r) => r.lost !== 0 || r.inboxRows < r.acknowledged || r.processedAllAfterSeconds === null);
  if (broken.length > 0)
    throw new Error(
      `deliveries were lost or not processed on ${broken.map((r) => `${r.target} ${r.worker}`).join(', ')}`,
    );
  return out;
}

if (process.env[ROLE] === '1') await serve();
