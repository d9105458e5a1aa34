/**
 * `node --conditions=source --import tsx bench/csv.ts [--mb=133] [--rounds=3] [--root=<checkout>] [--only=core]`:
 * how fast the two CSV loaders read a large Shopify "Export orders" file - core's `readBaskets(…, 'shopify-csv')`
 * (streaming) and the Shopify sandbox's `seedFromOrdersCsv` (whole text). The file is the sample export
 * repeated with fresh order names and emails until it reaches the size. `--root` loads another checkout (with
 * its own node_modules) in the same process and prints this checkout's time as a ratio of it; `--only` runs the
 * measures whose name holds the word. Each figure is the best wall-clock time of the rounds and, beside it, the
 * best CPU time of the process (every thread, the garbage collector's included): on a shared machine the CPU
 * time moves less with the load than the wall-clock time does.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const flag = (name: string) => process.argv.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const megabytes = Number(flag('mb') ?? 133);
const root = resolve(flag('root') ?? '.');
const here = resolve('.');
const file = resolve(here, `.bench/orders-${megabytes}mb.csv`);

function generate(): void {
  try {
    if (statSync(file).size >= megabytes * 2 ** 20) return;
  } catch {}
  const sample = readFileSync(resolve(here, 'packages/shopify-adapter/test-data/orders_export_sample.csv'), 'utf8');
  const [header, ...rows] = sample.trimEnd().split('\n');
  const parts: string[] = [`${header}\n`];
  let size = parts[0]!.length;
  for (let round = 0; size < megabytes * 2 ** 20; round++) {
    for (const row of rows) {
      // `#1001,…` becomes `#r1001,…`, the email (when present) gets the round too: new orders, new customers.
      const line = `#${round}-${row.slice(1).replace(/^([^,]*),([^,@]+)@/, `$1,$2+${round}@`)}\n`;
      parts.push(line);
      size += line.length;
    }
  }
  mkdirSync(resolve(here, '.bench'), { recursive: true });
  writeFileSync(file, parts.join(''));
}

interface Loaders {
  label: string;
  core: { readBaskets: (file: string, format: string) => Promise<{ baskets: AsyncIterable<unknown> }> };
  shopify: {
    parseCsv: (text: string) => unknown[];
    seedFromOrdersCsv: (sandbox: unknown, text: string) => unknown;
    createShopifySandbox: () => unknown;
  };
}

async function loaders(checkout: string, label: string): Promise<Loaders> {
  const core = await import(pathToFileURL(resolve(checkout, 'packages/core/src/index.ts')).href);
  const shopify = await import(pathToFileURL(resolve(checkout, 'packages/shopify-adapter/src/testing/index.ts')).href);
  return { label, core, shopify };
}

interface Best {
  /** Seconds of wall-clock time. */
  wall: number;
  /** Seconds of CPU time, user and system, of every thread of the process. */
  cpu: number;
}

/**
 * Best of `rounds` for each checkout, the checkouts taking turns round by round, so a machine that gets busier
 * or a heap that grows during the run weighs on both alike. One figure per checkout.
 */
async function bestOfTurns(rounds: number, run: (side: Loaders) => Promise<unknown> | unknown): Promise<Best[]> {
  const fastest = sides.map(() => ({ wall: Number.POSITIVE_INFINITY, cpu: Number.POSITIVE_INFINITY }));
  for (let round = 0; round < rounds; round++) {
    for (const [i, side] of sides.entries()) {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await run(side);
      const wall = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const best = fastest[i]!;
      best.wall = Math.min(best.wall, wall);
      best.cpu = Math.min(best.cpu, (used.user + used.system) / 1e6);
    }
  }
  return fastest;
}

generate();
const rounds = Number(flag('rounds') ?? 3);
const text = readFileSync(file, 'utf8');
const sides = [await loaders(here, 'this checkout')];
if (root !== here) sides.unshift(await loaders(root, `baseline ${root}`));
console.log(`${(statSync(file).size / 2 ** 20).toFixed(0)} MB Shopify orders export, best of ${rounds} rounds`);
let orders = 0;
const runs: Record<string, (side: Loaders) => Promise<unknown> | unknown> = {
  'core readBaskets shopify-csv': async (side) => {
    orders = 0;
    for await (const basket of (await side.core.readBaskets(file, 'shopify-csv')).baskets) if (basket) orders++;
  },
  'sandbox parseCsv': (side) => side.shopify.parseCsv(text).length,
  'sandbox seedFromOrdersCsv': (side) => side.shopify.seedFromOrdersCsv(side.shopify.createShopifySandbox(), text),
};
const only = flag('only');
const measures: Record<string, Best[]> = {};
for (const [name, run] of Object.entries(runs)) {
  if (only === undefined || name.includes(only)) measures[name] = await bestOfTurns(rounds, run);
}
const rows: Array<Record<string, string>> = sides.map((side, i) => ({
  checkout: side.label,
  ...Object.fromEntries(
    Object.entries(measures).map(([name, best]) => [
      name,
      `${best[i]!.wall.toFixed(2)} s (cpu ${best[i]!.cpu.toFixed(2)} s)`,
    ]),
  ),
}));
if (sides.length === 2) {
  rows.push({
    checkout: 'ratio (this / baseline)',
    ...Object.fromEntries(
      Object.entries(measures).map(([name, [before, after]]) => [name, `${(after!.wall / before!.wall).toFixed(2)}×`]),
    ),
  });
}
if (orders > 0) console.log(`orders read: ${orders}`);
console.table(rows);
