/**
 * `node --conditions=source --import tsx bench/csv.ts [--mb=133] [--root=<checkout>]`: how fast the two CSV
 * loaders read a large Shopify "Export orders" file - core's `readBaskets(…, 'shopify-csv')` (streaming) and
 * the Shopify sandbox's `seedFromOrdersCsv` (whole text). The file is the sample export repeated with fresh
 * order names and emails until it reaches the size. `--root` measures another checkout with the same file, so
 * a change can be compared with the code before it in one run.
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

async function time<T>(what: string, run: () => Promise<T> | T): Promise<T> {
  const started = performance.now();
  const result = await run();
  console.log(`${what}: ${((performance.now() - started) / 1000).toFixed(2)} s`);
  return result;
}

generate();
const core = await import(pathToFileURL(resolve(root, 'packages/core/src/index.ts')).href);
const shopify = await import(pathToFileURL(resolve(root, 'packages/shopify-adapter/src/testing/index.ts')).href);
console.log(`${root}: ${(statSync(file).size / 2 ** 20).toFixed(0)} MB Shopify orders export`);
const orders = await time('core readBaskets shopify-csv', async () => {
  let n = 0;
  for await (const basket of (await core.readBaskets(file, 'shopify-csv')).baskets) if (basket) n++;
  return n;
});
const text = readFileSync(file, 'utf8');
const rows = await time('sandbox parseCsv alone', () => shopify.parseCsv(text).length);
const summary = await time('sandbox seedFromOrdersCsv', () =>
  shopify.seedFromOrdersCsv(shopify.createShopifySandbox(), text),
);
console.log(`orders read: ${orders}; rows: ${rows}; sandbox seeded: ${JSON.stringify(summary)}`);
