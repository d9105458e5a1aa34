import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';
import { groceriesPath } from '../../../../test/support/groceries.js';
import { loadModel } from './model-store.js';
import type { CoPurchaseModel } from './model.js';

const groceries = readFileSync(groceriesPath('groceries.csv'), 'utf8')
  .split('\n')
  .filter((l) => l.length > 0)
  .map((l) => l.split(','));

function order(i: number, items: string[], over: Partial<OrderRecord> = {}): OrderRecord {
  const t = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000);
  return {
    id: `o${i}`,
    // Orders by address, by the platform's customer id, and guests with neither.
    email: i % 5 === 0 ? `p${i % 31}@example.com` : null,
    customerId: i % 7 === 0 ? null : `c${i % 53}`,
    createdAt: t,
    updatedAt: t,
    lines: items.map((p) => ({ productId: p, title: p, quantity: 1 })),
    ...over,
  };
}

/** What a stored model holds, in its canonical order, and each customer's tracked orders as a set. */
function contents(model: CoPurchaseModel) {
  const customers = Object.fromEntries(
    model.customerIds().map((c) => [
      c,
      model
        .ordersOf(c)
        .map((o) => `${o.orderId}@${o.time}:${[...o.productIds].sort().join('+')}`)
        .sort(),
    ]),
  );
  return { snapshot: model.snapshot(), customers };
}

describeEachStore("the engine's model follows its own ingests", (getStore) => {
  it('ingests through the engine change its model in place, and it equals the stored model read again', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.orders.ingest(
      groceries.slice(0, 300).map((items, i) => order(i, items)),
      'shopify',
    );
    const model = await t.recommend.model();
    const later = (minutes: number) => new Date(Date.UTC(2026, 2, 1) + minutes * 60_000);
    const steps: OrderRecord[][] = [
      // New orders, one repeated in the batch (the later version wins).
      groceries.slice(300, 420).map((items, i) => order(300 + i, items)),
      [order(420, ['whole milk', 'butter']), order(420, ['whole milk', 'yogurt'], { updatedAt: later(1) })],
      // An order changes its basket; another is cancelled; a third is refunded.
      [
        order(3, ['soda', 'candy'], { updatedAt: later(2) }),
        order(4, groceries[4]!, { cancelledAt: later(3), updatedAt: later(3) }),
      ],
      [order(5, groceries[5]!, { refunded: true, updatedAt: later(4) })],
      // The cancelled order comes back; one order only has a line with no quantity (it does not count).
      [
        order(4, groceries[4]!, { updatedAt: later(5) }),
        order(421, ['beef'], { lines: [{ productId: 'beef', title: 'beef', quantity: 0 }] }),
      ],
      // The same basket again with a new time: the counts do not move, the tracked order does.
      [order(6, groceries[6]!, { createdAt: later(6), updatedAt: later(6) })],
    ];
    for (const [n, batch] of steps.entries()) {
      await t.orders.ingest(batch, 'shopify');
      const followed = await t.recommend.model();
      const stored = (await loadModel(rawStore(getStore()).db, t.shopId)).model;
      expect(contents(followed), `after step ${n}`).toEqual(contents(stored));
      // Followed in place, not read again (bar the step that moved no count, where the copy is dropped).
      if (n < steps.length - 1) expect(followed, `after step ${n}`).toBe(model);
    }
  });

  it("another instance's ingest is seen: the model is read again", async () => {
    const shop = uniqueShop();
    const a = await createTactful({ store: getStore(), shop });
    const b = await createTactful({ store: getStore(), shop });
    await a.orders.ingest(
      groceries.slice(0, 100).map((items, i) => order(i, items)),
      'shopify',
    );
    const before = await a.recommend.model();
    await b.orders.ingest([order(100, ['whole milk', 'rolls/buns'])], 'shopify');
    const after = await a.recommend.model();
    expect(after).not.toBe(before);
    expect(after.productCount('rolls/buns')).toBe(before.productCount('rolls/buns') + 1);
    // b's own copy, made before its ingest? It had none: its next read loads the same model.
    expect(contents(await b.recommend.model())).toEqual(contents(after));
  });
});
