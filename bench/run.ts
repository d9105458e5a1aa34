/**
 * `npm run bench`: every benchmark of the project in one run. Each prints what it measured, with ratios
 * against a baseline measured in the same run; nothing here asserts a time. When DATABASE_URL is not set
 * and Debian's PostgreSQL is installed, a throwaway server is started for the PostgreSQL figures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchConsent, type ConsentBenchResult } from './consent.js';

const results: Record<string, unknown> = {
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  },
  startedAt: new Date().toISOString(),
};
const sections = [
  'store-open',
  'consent',
  'recommend',
  'segments',
  'campaign',
  'shopify-import',
  'mailchimp-sync',
  'load',
  'scale',
  'memory',
];
// `--name=value` (or `--name value`) options go to the sections (e.g. `npm run bench -- scale --max 1000000`).
const args: string[] = [];
for (const arg of process.argv.slice(2)) {
  const previous = args.at(-1);
  if (previous?.startsWith('--') && !previous.includes('=') && !arg.startsWith('--') && !sections.includes(arg))
    args[args.length - 1] = `${previous}=${arg}`;
  else args.push(arg);
}
process.argv.length = 2;
for (const arg of args) process.argv.push(arg);
const options = args.filter((arg) => arg.startsWith('--'));
const only = args.filter((arg) => !arg.startsWith('--'));
const unknown = only.filter((name) => !sections.includes(name));
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(', ')}; choose from ${sections.join(', ')}`);
  process.exit(2);
}

// Without arguments, each section runs in a process of its own, so its peak memory is its own.
if (only.length === 0) {
  mkdirSync('.bench', { recursive: true });
  let failed = false;
  for (const name of sections) {
    const child = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, name, ...options], {
      stdio: 'inherit',
      env: process.env,
    });
    if (child.status !== 0) failed = true;
    const file = `.bench/${name}.json`;
    if (existsSync(file)) results[name] = JSON.parse(readFileSync(file, 'utf8'))[name];
  }
  writeFileSync('.bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nall figures: .bench/results.json');
  process.exit(failed ? 1 : 0);
}
const wanted = (name: string) => only.includes(name);

function startPostgres(): { url: string; stop: () => void } | null {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: () => undefined };
  try {
    const out = execFileSync('bash', ['scripts/start-postgres.sh', '55434'], { encoding: 'utf8' });
    const url = /DATABASE_URL=(\S+)/.exec(out)?.[1];
    const dir = /TACTFUL_PG_DIR=(\S+)/.exec(out)?.[1];
    if (!url || !dir) return null;
    return {
      url,
      stop: () => {
        try {
          execFileSync('bash', [
            '-c',
            `su postgres -s /bin/bash -c "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl -D ${dir}/data stop -m fast" >/dev/null 2>&1 || true`,
          ]);
        } catch {
          /* already gone */
        }
      },
    };
  } catch (error) {
    console.error(
      `!!! could not start PostgreSQL (${(error as Error).message.split('\n')[0]}): PostgreSQL figures are NOT measured`,
    );
    return null;
  }
}

function printConsent(r: ConsentBenchResult) {
  console.log(
    `  ${r.target.padEnd(9)} ingest ${r.events} events in ${r.ingestSeconds.toFixed(1)} s = ${Math.round(r.eventsPerSecond)} events/s | fold of 100k events ${r.pureFold100kMs.toFixed(0)} ms | rebuild all states from the ledger ${r.rebuildFromLedgerMs.toFixed(0)} ms | consent show p50 ${r.showP50Ms.toFixed(1)} ms p99 ${r.showP99Ms.toFixed(1)} ms | verify chains ${r.verifyMs.toFixed(0)} ms`,
  );
}

async function section(name: string, run: () => Promise<unknown>) {
  if (!wanted(name)) return;
  console.log(`\n== ${name}`);
  try {
    results[name] = await run();
  } catch (error) {
    console.error(`!!! ${name} failed: ${(error as Error).stack ?? error}`);
    results[name] = { error: String((error as Error).message ?? error) };
    process.exitCode = 1;
  }
}

const pg =
  wanted('consent') || wanted('segments') || wanted('campaign') || wanted('load') || wanted('scale')
    ? startPostgres()
    : null;
// Every section that measures PostgreSQL reads DATABASE_URL.
if (pg) process.env.DATABASE_URL = pg.url;
process.on('exit', () => pg?.stop());

await section('store-open', async () => {
  const mod = await import('./store-open.js');
  return mod.benchStoreOpen();
});

await section('consent', async () => {
  const events = Number(process.env.BENCH_CONSENT_EVENTS ?? 100_000);
  const out: ConsentBenchResult[] = [];
  console.log(
    `  consent ledger: ${events} events over ${events / 10} customers, batches of 500, two connected systems`,
  );
  const lite = await benchConsent({ name: 'pglite', url: 'memory://' }, events, events / 10);
  printConsent(lite);
  out.push(lite);
  if (pg) {
    const server = await benchConsent({ name: 'postgres', url: pg.url }, events, events / 10);
    printConsent(server);
    out.push(server);
    console.log(
      `  ratio postgres/pglite ingest throughput: ${(server.eventsPerSecond / lite.eventsPerSecond).toFixed(2)}×`,
    );
  } else console.log('  !!! PostgreSQL not available: its figures were NOT measured');
  return out;
});

await section('recommend', async () => {
  const mod = (await import('./recommend.js')) as { benchRecommend: () => Promise<unknown> };
  return mod.benchRecommend();
});

await section('segments', async () => {
  const mod = (await import('./segments.js')) as { benchSegments: () => Promise<unknown> };
  return mod.benchSegments();
});

await section('campaign', async () => {
  const mod = await import('./campaign.js');
  return mod.benchCampaign(pg?.url);
});

await section('shopify-import', async () => {
  const mod = (await import('../packages/shopify-adapter/bench/import.js')) as {
    benchShopifyImport: () => Promise<unknown>;
  };
  return mod.benchShopifyImport();
});

await section('mailchimp-sync', async () => {
  const mod = (await import('../packages/mailchimp-adapter/bench/sync.js')) as {
    benchMailchimpSync: () => Promise<unknown>;
  };
  return mod.benchMailchimpSync();
});

await section('load', async () => {
  const mod = (await import('./load.js')) as { benchLoad: () => Promise<unknown> };
  return mod.benchLoad();
});

await section('scale', async () => {
  const mod = await import('./scale.js');
  return mod.benchScale(pg?.url);
});

await section('memory', async () => {
  const mod = await import('./memory.js');
  return mod.benchMemory();
});

mkdirSync('.bench', { recursive: true });
for (const name of only)
  writeFileSync(`.bench/${name}.json`, `${JSON.stringify({ [name]: results[name] }, null, 2)}\n`);
