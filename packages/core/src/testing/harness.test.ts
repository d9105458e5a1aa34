import { expect, it } from 'vitest';
import { describeEachStore, embeddedTestStore } from './harness.js';
import { uniqueShop } from './stores.js';
import { createTactful } from '../engine.js';

// Opening an embedded database costs 0.3-1 CPU-second; the suites of a process share one (harness.ts).
it('embeddedTestStore hands every caller in a process the same open store', async () => {
  const [a, b] = await Promise.all([embeddedTestStore(), embeddedTestStore()]);
  expect(a).toBe(b);
  expect(a.location).toBe('memory://');
});

describeEachStore('a store suite', (getStore, target) => {
  it('runs its PGlite target on the shared embedded store, and works in a shop of its own', async () => {
    if (target.name === 'pglite') expect(getStore()).toBe(await embeddedTestStore());
    else expect(getStore()).not.toBe(await embeddedTestStore());
    const t = await createTactful({ store: getStore(), shop: uniqueShop('harness') });
    await t.products.upsert([{ id: 'p1', title: 'Tea', available: true }]);
  });
});
