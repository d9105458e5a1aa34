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
 * - nothing lost: acknowledged deliveries = inbox rows = processed rows, none failed.
 *
 * Options: `--duration=SECONDS` or BENCH_LOAD_SECONDS (default 60), `--rate=N` or BENCH_LOAD_RATE (default
 * 1000 per second), BENCH_LOAD_DRAIN_SECONDS (longest wait for the worker, default 900).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { shopifyDataPath } from '@tactful/shopify/testing';
import { rawStore } from '@tactful/core/testing/runtime';

const SECRET = 'load-bench-shopify-secret';
const ROLE = 'TACTFUL_LOAD_SERVE';

interface Counts {
  rows: number;
  processed: number;
  failed: number;
  lastProcessedAt: number | null;
}

export interface LoadBenchResult {
  target: 'pglite' | 'postgres';
  rateAsked: number;
  seconds: number;
  /** Responses read (any status) before the load stopped. */
  responses: number;
  acknowledged: number;
  achievedRate: number;
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
  /** From the first request to the moment the worker had processed the last delivery. */
  processedAllAfterSeconds: number | null;
  /** From the end of the load to the moment the worker had processed the last delivery. */
  drainSeconds: number | null;
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
  // What `tactful serve` runs: the inbox worker, every second.
  const workers = startWorkers(tactful, logger);
  let peakRss = process.memoryUsage().rss;
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 250).unref();
  process.on('message', async (message: { type: string }) => {
    if (message.type === 'counts') {
      const [row] = await rawStore(store).query<{ rows: number; processed: number; failed: number; last: Date | null }>(
        'select count(*)::int as rows, count(processed_at)::int as processed, count(*) filter (where attempts > 1 or last_error is not null)::int as failed, max(processed_at) as last from inbox where shop_id = $1',
        [shop],
      );
      process.send!({
        type: 'counts',
        counts: {
          rows: row!.rows,
          processed: row!.processed,
          failed: row!.failed,
          lastProcessedAt: row!.last ? new Date(row!.last).getTime() : null,
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
          .replaceAll('__PERSON__', String(person)),
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

function startApp(db: string, shop: string): Promise<App> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [ROLE]: '1', TACTFUL_LOAD_DB: db, TACTFUL_LOAD_SHOP: shop },
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
  db: string,
  seconds: number,
  rate: number,
): Promise<LoadBenchResult> {
  const shop = `load-${randomBytes(4).toString('hex')}.myshopify.com`;
  const app = await startApp(db, shop);
  const next = webhookBodies(shop);
  // Which deliveries the app acknowledged (200): each connection sends one request at a time, so its context
  // names the delivery its response is for.
  const acked = new Set<string>();
  try {
    const loadBefore = loadavg()[0]!;
    const startedAt = Date.now();
    const result = await autocannon({
      url: `${app.url}/shopify/webhooks`,
      connections: 100,
      overallRate: rate,
      duration: seconds,
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
    });
    const endedAt = Date.now();
    const acknowledged = acked.size;
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
      rateAsked: rate,
      seconds,
      responses: result.requests.total,
      acknowledged,
      achievedRate: acknowledged / ((endedAt - startedAt) / 1000),
      p50Ms: result.latency.p50,
      p90Ms: result.latency.p90,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      errors: result.errors,
      timeouts: result.timeouts,
      non2xx: result.non2xx,
      inboxRows: counts.rows,
      processed: counts.processed,
      failedAttempts: counts.failed,
      processedAllAfterSeconds: done ? (Math.max(counts.lastProcessedAt!, endedAt) - startedAt) / 1000 : null,
      drainSeconds: done ? Math.max(0, counts.lastProcessedAt! - endedAt) / 1000 : null,
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

function print(r: LoadBenchResult): void {
  console.log(
    `  ${r.target.padEnd(9)} ${r.acknowledged} acknowledged of ${r.responses} answered in ${r.seconds} s (asked ${r.rateAsked}/s, reached ${Math.round(r.achievedRate)}/s) | ack latency p50 ${r.p50Ms} ms p90 ${r.p90Ms} ms p99 ${r.p99Ms} ms max ${r.maxMs} ms | errors ${r.errors} timeouts ${r.timeouts} non-2xx ${r.non2xx}`,
  );
  console.log(
    `  ${''.padEnd(9)} inbox ${r.inboxRows} rows, ${r.processed} processed, ${r.failedAttempts} failed attempts; all processed ${r.processedAllAfterSeconds === null ? 'NOT within the wait' : `${r.processedAllAfterSeconds.toFixed(1)} s after the first request (${r.drainSeconds!.toFixed(1)} s after the last)`} | lost ${r.lost} | app peak RSS ${r.serverPeakRssMiB} MiB | load average ${r.loadAverage[0]} → ${r.loadAverage[1]} on ${r.cpus} CPUs`,
  );
  if (r.p99Ms >= 100) console.log(`  !!! p99 ${r.p99Ms} ms is above the 100 ms aim`);
  if (r.lost !== 0) console.log(`  !!! ${r.lost} acknowledged deliveries were not processed`);
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
  if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isFinite(rate) || rate <= 0)
    throw new Error('--duration and --rate must be positive numbers');
  console.log(
    `  signed Shopify webhooks (3 orders/create : 1 customers/update) at ${rate}/s for ${seconds} s, 100 connections, app in its own process`,
  );
  const out: LoadBenchResult[] = [];
  const targets: Array<['pglite' | 'postgres', string]> = [['pglite', 'memory://']];
  if (process.env.DATABASE_URL) targets.push(['postgres', process.env.DATABASE_URL]);
  else console.log('  !!! PostgreSQL not available: its figures were NOT measured');
  for (const [name, url] of targets) {
    const r =
      name === 'postgres'
        ? await withFreshDatabase(url, (fresh) => loadOne(name, fresh, seconds, rate))
        : await loadOne(name, url, seconds, rate);
    print(r);
    out.push(r);
  }
  const broken = out.filter((r) => r.lost !== 0 || r.inboxRows < r.acknowledged || r.processedAllAfterSeconds === null);
  if (broken.length > 0)
    throw new Error(`deliveries were lost or not processed on ${broken.map((r) => r.target).join(', ')}`);
  return out;
}

if (process.env[ROLE] === '1') await serve();
