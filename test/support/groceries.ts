// Every test and benchmark reads Groceries from the one copy the demo ships (packages/app/data/groceries).
export { groceriesPath, readGroceries } from '../../packages/app/src/demo/groceries.js';
