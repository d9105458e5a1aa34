/**
 * `npm run bench -- store-open`: how long a fresh embedded database takes to open, created by initdb and every
 * migration (the baseline) or loaded from the migrated image `TACTFUL_PGLITE_IMAGES` keeps
 * (core's pglite-image.ts), in memory and in a folder. Best and median of a few opens each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../packages/core/src/index.js';

const secret = 'cd'.repeat(32);

async function opens(rounds: number, url: () => string): Promise<number[]> {
  const seconds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    const store = await openStore({ url: url(), secret });
    seconds.push((performance.now() - started) / 1000);
    await store.close();
  }
  return seconds.sort((a, b) => a - b);
}

export async function benchStoreOpen(rounds = 4) {
  const dir = mkdtempSync(join(tmpdir(), 'tactful-bench-open-'));
  const folder = () => join(mkdtempSync(join(dir, 'db-')), 'db');
  const images = join(dir, 'images');
  const out: Record<string, { best: number; median: number }> = {};
  const runs: Array<[string, string | undefined, () => string]> = [
    ['memory, initdb + migrations', undefined, () => 'memory://'],
    ['memory, from the image', images, () => 'memory://'],
    ['folder, initdb + migrations', undefined, folder],
    ['folder, from the image', images, folder],
  ];
  const previous = process.env.TACTFUL_PGLITE_IMAGES;
  try {
    for (const [name, imageFolder, url] of runs) {
      if (imageFolder) {
        process.env.TACTFUL_PGLITE_IMAGES = imageFolder;
        await (await openStore({ url: 'memory://', secret })).close(); // makes the image, not measured
      } else process.env.TACTFUL_PGLITE_IMAGES = 'off'; // images are on by default (the user's cache folder)
      const seconds = await opens(rounds, url);
      out[name] = { best: seconds[0]!, median: seconds[Math.floor(seconds.length / 2)]! };
    }
  } finally {
    if (previous === undefined) delete process.env.TACTFUL_PGLITE_IMAGES;
    else process.env.TACTFUL_PGLITE_IMAGES = previous;
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [name, { best, median }] of Object.entries(out))
    console.log(`  ${name.padEnd(28)} best ${best.toFixed(2)} s, median ${median.toFixed(2)} s`);
  for (const where of ['memory', 'folder'])
    console.log(
      `  ratio ${where} image / initdb (median): ${(out[`${where}, from the image`]!.median / out[`${where}, initdb + migrations`]!.median).toFixed(2)}×`,
    );
  return out;
}
