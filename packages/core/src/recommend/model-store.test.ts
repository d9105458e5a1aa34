import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { deleteOrders } from './orders.js';
import { loadModel } from './model-store.js';
import { buildModel, type CoPurchaseModel } from './model.js';
import { seededRandom } from '../random.js';
import { groceryBaskets } from '../../../../test/support/groceries.js';
import { rawStore } from '../store/open.js';

const groceries = groceryBaskets();

function order(id: string, items: string[], minutes: number, over: Partial<OrderRecord> = {}): OrderRecord {
  const t = new Date(Date.UTC(2026, 0, 1) + minutes * 60_000);
  return {
    id,
    email: null,
    customerId: `c${Number(id.slice(1)) % 97}`,
    createdAt: t,
    updatedAt: t,
    lines: items.map((p) => ({ productId: p, title: p, quantity: 1 })),
    ...over,
  };
}

function summary(model: CoPurchaseModel) {
  return {
    baskets: model.basketCount,
    rules: model.rules({ minSupport: 0.005, minConfidence: 0.1 }).map((r) => `${r.lhs}→${r.rhs}:${r.count}`),
    products: model
      .productIds()
      .map((p) => `${p}:${model.productCount(p)}`)
      .sort(),
  };
}

describeEachStore('the persisted co-purchase model', (getStore) => {
  it('persisted counts equal a full in-memory build of the same orders', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const orders = groceries.slice(0, 1500).map((items, i) => order(`o${i}`, items, i));
    await t.orders.ingest(orders.slice(0, 700), 'import');
    await t.orders.ingest(orders.slice(700), 'import');
    const stored = await loadModel(rawStore(getStore()).db, t.shopId);
    const rebuilt = await buildModel(
      orders.map((o) => ({ orderId: o.id, productIds: o.lines.map((l) => l.productId) })),
    );
    expect(summary(stored.model)).toEqual(summary(rebuilt));
    expect(stored.model.basketCount).toBe(1500);
  });

  it('incremental - cancellations, refunds, changed lines and stale versions in any order equal a rebuild of what counts', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const random = seededRandom(7);
    const base = groceries.slice(2000, 2800).map((items, i) => order(`o${i}`, items, i));
    await t.orders.ingest(base, 'import');
    const final = new Map(base.map((o) => [o.id, o]));
    const changes: OrderRecord[] = [];
    for (const o of base) {
      const r = random();
      const later = new Date(o.updatedAt.getTime() + 3600_000);
      if (r < 0.1) changes.push({ ...o, cancelledAt: later, updatedAt: later });
      else if (r < 0.15) changes.push({ ...o, refunded: true, updatedAt: later });
      else if (r < 0.25)
        changes.push({
          ...o,
          lines: [...o.lines.slice(1), { productId: 'coffee', title: 'coffee', quantity: 1 }],
          updatedAt: later,
        });
      else continue;
      final.set(o.id, changes.at(-1)!);
    }
    // Stale versions (older updatedAt) arrive after the newer ones and must not win.
    const stale = changes.slice(0, 20).map((c) => ({
      ...c,
      cancelledAt: null,
      refunded: false,
      lines: [{ productId: 'stale', title: 'stale', quantity: 1 }],
      updatedAt: new Date(c.updatedAt.getTime() - 7200_000),
    }));
    const shuffled = [...changes].sort(() => random() - 0.5);
    await t.orders.ingest(shuffled.slice(0, 40), 'shopify');
    await t.orders.ingest([...stale, ...shuffled.slice(40)], 'shopify');
    const counted = [...final.values()].filter((o) => !o.cancelledAt && !o.refunded);
    const rebuilt = await buildModel(
      counted.map((o) => ({ orderId: o.id, productIds: o.lines.map((l) => l.productId) })),
    );
    const stored = await loadModel(rawStore(getStore()).db, t.shopId);
    expect(summary(stored.model)).toEqual(summary(rebuilt));
    expect(stored.model.productCount('stale')).toBe(0);
  });

  it('recommend - personal recommendations need personalization granted; related products need no consent', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const orders = groceries
      .slice(0, 1000)
      .map((items, i) => order(`o${i}`, items, i, i === 0 ? { email: 'Eve@Example.com', customerId: null } : {}));
    await t.orders.ingest(orders, 'import');
    const refused = await t.recommend.forCustomer('eve@example.com').catch((e: unknown) => e);
    expect(isTactfulError(refused, 'CONSENT.NOT_GRANTED')).toBe(true);
    await t.consent.record({
      subject: { email: 'eve@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: new Date(),
      source: { system: 'cli', eventId: 'p1', method: 'form' },
    });
    const result = await t.recommend.forCustomer('eve@example.com', { k: 5 });
    const owned = new Set(groceries[0]);
    expect(result.recommendations).toHaveLength(5);
    for (const r of result.recommendations) {
      expect(owned.has(r.productId)).toBe(false);
      expect(r.reasons.length).toBeGreaterThan(0);
      for (const reason of r.reasons) if (reason.kind === 'bought-with') expect(owned.has(reason.because)).toBe(true);
    }
    await t.consent.record({
      subject: { email: 'eve@example.com' },
      purpose: 'personalization',
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: new Date(),
      source: { system: 'cli', eventId: 'p2', method: 'form' },
    });
    expect(
      isTactfulError(await t.recommend.forCustomer('eve@example.com').catch((e: unknown) => e), 'CONSENT.NOT_GRANTED'),
    ).toBe(true);
    expect((await t.recommend.related('whole milk', 3)).map((r) => r.productId)).toHaveLength(3);
  });
});

describeEachStore('the stored fitted model', (getStore) => {
  it('fitted once, stored, reused by a second instance, refitted when 5 % more baskets came in, dropped with erased orders', async () => {
    const shop = uniqueShop();
    let clock = Date.UTC(2026, 1, 1);
    const now = () => new Date(clock);
    const a = await createTactful({ store: getStore(), shop, now });
    const orders = groceries.slice(0, 1000).map((items, i) => order(`o${i}`, items, i));
    await a.orders.ingest(orders.slice(0, 900), 'import');
    const first = (await a.recommend.fit())!;
    expect(first).toMatchObject({ basketCount: 900, fittedAt: clock });
    expect(first.productIds.length).toBeGreaterThan(100);
    expect(first.weights).toHaveLength((first.productIds.length + 1) ** 2);
    // Another instance reads the stored fit instead of fitting again.
    clock += 1000;
    const b = await createTactful({ store: getStore(), shop, now });
    const read = (await b.recommend.fit())!;
    expect(read.fittedAt).toBe(first.fittedAt);
    expect(Array.from(read.weights)).toEqual(Array.from(first.weights));
    // 2 % more baskets: still the same fit; then 11 %: refitted, and the first instance follows.
    await a.orders.ingest(orders.slice(900, 918), 'import');
    expect((await b.recommend.fit())!.fittedAt).toBe(first.fittedAt);
    await a.orders.ingest(orders.slice(918), 'import');
    const second = (await b.recommend.fit())!;
    expect(second).toMatchObject({ basketCount: 1000, fittedAt: clock });
    // The refit replaced the stored row whole: the first instance reads the new weights, λ and products.
    const followed = (await a.recommend.fit())!;
    expect(followed.fittedAt).toBe(second.fittedAt);
    expect({ ...followed, weights: Array.from(followed.weights) }).toEqual({
      ...second,
      weights: Array.from(second.weights),
    });
    expect(Array.from(followed.weights)).not.toEqual(Array.from(first.weights));
    // On demand.
    clock += 1000;
    expect((await a.recommend.refit())!.fittedAt).toBe(clock);
    expect((await b.recommend.fit())!.fittedAt).toBe(clock);
    // Erased orders (erasure and customers/redact delete them this way) take the fit with them; the next
    // request fits the remaining counts.
    await deleteOrders(rawStore(getStore()).db, a.shopId, ['o1', 'o2', 'o3']);
    clock += 1000;
    const third = (await b.recommend.fit())!;
    expect(third).toMatchObject({ basketCount: 997, fittedAt: clock });
  });

  it('too few baskets to fit: the pair scores rank alone', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.orders.ingest(
      groceries.slice(0, 20).map((items, i) => order(`o${i}`, items, i)),
      'import',
    );
    expect(await t.recommend.fit()).toBeNull();
  });
});
