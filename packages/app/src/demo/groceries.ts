/**
 * The Groceries data set the demo builds its shop from, shipped in this package's `data/groceries/`. The
 * package root is found from this module's own file by walking up to the nearest package.json, so the same
 * rule holds from `src/`, from the bundled `dist/cli.js` and from an installed `node_modules/@tactful/app`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GroceriesData } from '@tactful/shopify/testing';

let root: string | undefined;

function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`@tactful/app: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return dir;
}

/** A Groceries file: `groceries.csv`, `groceries_items.csv` or `groceries_rules_arules_s0.01_c0.3.csv`. */
export function groceriesPath(file = ''): string {
  return join(packageRoot(), 'data', 'groceries', file);
}

/** The baskets and the item catalogue, as `seedFromGroceries` takes them. */
export function readGroceries(): GroceriesData {
  return {
    baskets: readFileSync(groceriesPath('groceries.csv'), 'utf8'),
    items: readFileSync(groceriesPath('groceries_items.csv'), 'utf8'),
  };
}
