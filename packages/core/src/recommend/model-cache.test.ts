import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';
import { groceryBaskets } from '../../../../test/support/groceries.js';
import { loadModel } from './model-store.js';
import type { CoPurchaseModel } from './model.js';

const groceries = groceryBaskets();

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
      // An order with a counted line and a line with no quantity: only the counted product is in its basket.
      [
        order(422, [], {
          lines: [
            { productId: 'bread', title: 'bread', quantity: 1 },
            { productId: 'jam', title: 'jam', quantity: 0 },
          ],
        }),
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
    const stored = (await loadModel(rawStore(getStore()).db, t.shopId)).model;
    expect(stored.ordersOf('shopify:c51').find((o) => o.orderId === 'o422')?.productIds).toEqual(['bread']);
  });

  it("another instance's changes are applied from the log; a change too large to log, or an erasure, makes it read the model again", async () => {
    const shop = uniqueShop();
    const a = await createTactful({ store: getStore(), shop });
    const b = await createTactful({ store: getStore(), shop });
    await a.orders.ingest(
      groceries.slice(0, 100).map((items, i) => order(i, items)),
      'shopify',
    );
    const stored = async () => (await loadModel(rawStore(getStore()).db, shop)).model;
    const model = await a.recommend.model();
    // Three small changes by another instance: caught up in place, no whole read.
    await b.orders.ingest([order(100, ['whole milk', 'rolls/buns'])], 'shopify');
    await b.orders.ingest(
      [order(101, ['soda', 'candy']), order(3, ['beef'], { updatedAt: new Date(Date.UTC(2026, 5, 1)) })],
      'shopify',
    );
    await b.orders.ingest([order(102, groceries[102]!, { cancelledAt: new Date(Date.UTC(2026, 0, 9)) })], 'shopify');
    expect(await a.recommend.model()).toBe(model);
    expect(contents(model)).toEqual(contents(await stored()));
    // Webhooks applied by the inbox worker, inside its claim's transaction: caught up from the log too.
    for (const [i, items] of [
      ['whole milk', 'sugar'],
      ['soda', 'rolls/buns', 'candy'],
    ].entries())
      await a.inbox.receive(
        shop,
        { kind: 'order', order: order(200 + i, items) },
        {
          system: 'shopify',
          deliveryId: `w${i}`,
          receivedAt: new Date(Date.UTC(2026, 0, 20)),
          topic: 'orders/create',
        },
      );
    expect((await a.processInbox()).processed).toBe(2);
    expect(await a.recommend.model()).toBe(model);
    expect(contents(model)).toEqual(contents(await stored()));
    // A change with more pair counts than the log keeps (25 522 pairs over 400 products): read again, as stored.
    const bulk = Array.from({ length: 700 }, (_, i) =>
      order(
        1000 + i,
        Array.from({ length: 30 }, (_, j) => `bulk-${(i * 7 + j * j * 13 + j * i) % 400}`),
      ),
    );
    await b.orders.ingest(bulk, 'shopify');
    const reread = await a.recommend.model();
    expect(reread).not.toBe(model);
    expect(contents(reread)).toEqual(contents(await stored()));
    // An erasure deletes orders and clears the log (it names orders and customers): read again.
    await b.orders.ingest([order(103, ['whole milk', 'butter'], { email: 'gone@example.com' })], 'shopify');
    expect(await a.recommend.model()).toBe(reread);
    const changes = () =>
      rawStore(getStore()).query<{ n: number }>('select count(*)::int as n from model_changes where shop_id = $1', [
        shop,
      ]);
    expect((await changes())[0]!.n).toBeGreaterThan(0);
    await b.consent.record({
      subject: { email: 'gone@example.com' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: new Date(Date.UTC(2026, 0, 2)),
      source: { system: 'cli', eventId: 'gone-1', method: 'form' },
    });
    await b.privacy.erase('gone@example.com', { reason: 'customer request', compact: false });
    expect((await changes())[0]!.n).toBe(0);
    const afterErasure = await a.recommend.model();
    expect(afterErasure).not.toBe(reread);
    expect(contents(afterErasure)).toEqual(contents(await stored()));
  });

  it("an erased shop's model is neither served nor followed by another instance once the shop is back with other orders", async () => {
    const shop = uniqueShop();
    const a = await createTactful({ store: getStore(), shop });
    const b = await createTactful({ store: getStore(), shop });
    const c = await createTactful({ store: getStore(), shop });
    const tea = (i: number) => order(i, ['tea', 'cups']);
    await c.orders.ingest([tea(1)], 'shopify');
    expect((await b.recommend.model()).pairCount('tea', 'cups')).toBe(1);
    await c.orders.ingest([tea(2)], 'shopify');
    expect((await a.recommend.model()).pairCount('tea', 'cups')).toBe(2);
    // Uninstalled, then Shopify's shop/redact two days later: every row of the shop goes.
    const meta = (id: string, topic: string, day: number) => ({
      system: 'shopify',
      deliveryId: id,
      topic,
      receivedAt: new Date(Date.UTC(2026, 4, day)),
    });
    await c.inbox.receive(shop, { kind: 'uninstalled', platformShopId: '42' }, meta('u1', 'app/uninstalled', 1));
    await c.inbox.receive(
      shop,
      { kind: 'erase_shop', requestId: 'r1', platformShopId: '42' },
      meta('r1', 'shop/redact', 3),
    );
    expect(await c.processInbox()).toMatchObject({ processed: 2, failed: 0 });
    // Installed again, with other orders: as many model changes as before.
    const again = await createTactful({ store: getStore(), shop });
    await again.orders.ingest([order(10, ['soap', 'sponge'])], 'shopify');
    await again.orders.ingest([order(11, ['soap', 'sponge'])], 'shopify');
    const stored = contents((await loadModel(rawStore(getStore()).db, shop)).model);
    expect(stored.snapshot.pairs).toEqual([{ productA: 'soap', productB: 'sponge', count: 2 }]);
    // A copy made at the erased model's last revision, and one a change behind it that the log could move on.
    for (const instance of [a, b]) {
      const model = await instance.recommend.model();
      expect(model.pairCount('tea', 'cups')).toBe(0);
      expect(contents(model)).toEqual(stored);
    }
  });
});
