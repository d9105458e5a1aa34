/**
 * What `recommend.forCustomer` takes as a person's purchases: every counted order of theirs, and only the lines
 * with a quantity. A line at quantity 0 (returned, or written as 0) is not a purchase: it is never "because you
 * bought", as the preference centre never lists it.
 */
import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';

const at = (day: number) => new Date(Date.UTC(2026, 0, 1 + day));

function order(id: string, day: number, lines: Array<[string, number]>, who: Partial<OrderRecord>): OrderRecord {
  return {
    id,
    email: null,
    customerId: null,
    createdAt: at(day),
    updatedAt: at(day),
    lines: lines.map(([productId, quantity]) => ({ productId, title: productId.toUpperCase(), quantity })),
    ...who,
  };
}

describeEachStore('a customer’s purchases, as recommendations read them', (getStore) => {
  it('a line at quantity 0 is no purchase: never a reason, never held back as bought', async () => {
    const tactful = await createTactful({ store: getStore(), shop: uniqueShop('for-customer') });
    const crowd: OrderRecord[] = [];
    // Zed goes with Arr, and P1 with Q, in the crowd's baskets: whoever bought Zed would get Arr "because you
    // bought Zed", and whoever bought P1 gets Q.
    for (let i = 0; i < 60; i++) {
      const basket: Array<[string, number]> =
        i % 2
          ? [
              ['zed', 1],
              ['arr', 1],
            ]
          : [
              ['p1', 1],
              ['q', 1],
            ];
      crowd.push(order(`crowd${i}`, i % 20, basket, { email: `crowd${i}@example.com` }));
    }
    // One person with two orders: Zed at quantity 0 in the first.
    crowd.push(
      order(
        'mine1',
        30,
        [
          ['p1', 1],
          ['zed', 0],
        ],
        { email: 'me@example.com', customerId: '77' },
      ),
    );
    crowd.push(order('mine2', 31, [['p2', 2]], { email: 'me@example.com', customerId: '77' }));
    await tactful.orders.ingest(crowd, 'shopify');
    await tactful.consent.record({
      subject: { email: 'me@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: at(32),
      source: { system: 'tactful', eventId: 'grant-me', method: 'form' },
    });

    const got = await tactful.recommend.forCustomer('me@example.com', { k: 10 });
    expect(got.purchases).toBe(2);
    const because = got.recommendations.flatMap((r) =>
      r.reasons.flatMap((reason) => (reason.kind === 'bought-with' ? [reason.because] : [])),
    );
    expect(because).toContain('p1');
    expect(because).not.toContain('zed');
    // Zed was never bought: it may be recommended, and what was bought is not.
    const listed = got.recommendations.map((r) => r.productId);
    expect(listed).not.toContain('p1');
    expect(listed).not.toContain('p2');
    const view = await tactful.preferences.show('me@example.com');
    expect(view.purchases.map((p) => p.productId).sort()).toEqual(['p1', 'p2']);
  });
});
