// Every test and benchmark reads Groceries from the one copy the demo ships (packages/app/data/groceries).
import { readFileSync } from 'node:fs';
import { groceriesPath } from '../../packages/app/src/demo/groceries.js';

export { groceriesPath, readGroceries } from '../../packages/app/src/demo/groceries.js';

/** The 9 835 Groceries baskets, each a list of product names, in file order. */
export function groceryBaskets(): string[][] {
  return readFileSync(groceriesPath('groceries.csv'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split(','));
}
