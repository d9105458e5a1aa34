/**
 * `node --conditions=source --import tsx bench/csv.ts [--mb=133] [--rounds=3] [--root=<checkout>]`: how fast
 * the two CSV loaders read a large Shopify "Export orders" file - core's `readBaskets(…, 'shopify-csv')`
 * (streaming) and the Shopify sandbox's `seedFromOrdersCsv` (whole text). The file is the sample export
 * repeated with fresh order names and emails until it reaches the size. `--root` loads another checkout (with
 * its own node_modules) in the same process and prints this checkout's time as a ratio of it.
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

/** Best of `rounds` (the machine is shared: the fastest round is the one least disturbed), in seconds. */
async function best(rounds: number, run: () => Promise<unknown> | unknown): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await run();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest / 1000;
}

generate();
const rounds = Number(flag('rounds') ?? 3);
const text = readFileSync(file, 'utf8');
const sides = [await loaders(here, 'this checkout')];
if (root !== here) sides.unshift(await loaders(root, `baseline ${root}`));
console.log(`${(statSync(file).size / 2 ** 20).toFixed(0)} MB Shopify orders export, best of ${rounds} rounds`);
const rows: Array<Record<string, string>> = [];
const seconds = new Map<string, number[]>();
for (const side of sides) {
  let orders = 0;
  const figures = [
    await best(rounds, async () => {
      orders = 0;
      for await (const basket of (await side.core.readBaskets(file, 'shopify-csv')).baskets) if (basket) orders++;
    }),
    await best(rounds, () => side.shopify.parseCsv(text).length),
    await best(rounds, () => side.shopify.seedFromOrdersCsv(side.shopify.createShopifySandbox(), text)),
  ];
  seconds.set(side.label, figures);
  rows.push({
    checkout: side.label,
    'core readBaskets shopify-csv': `${figures[0]!.toFixed(2)} s`,
    'sandbox parseCsv': `${figures[1]!.toFixed(2)} s`,
    'sandbox seedFromOrdersCsv': `${figures[2]!.toFixed(2)} s`,
    orders: String(orders),
  });
}
if (sides.length === 2) {
  const [before, after] = sides.map((side) => seconds.get(side.label)!);
  rows.push({
    checkout: 'ratio (this / baseline)',
    'core readBaskets shopify-csv': `${(after![0]! / before![0]!).toFixed(2)}×`,
    'sandbox parseCsv': `${(after![1]! / before![1]!).toFixed(2)}×`,
    'sandbox seedFromOrdersCsv': `${(after![2]! / before![2]!).toFixed(2)}×`,
    orders: '',
  });
}
console.table(rows);
