import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';
import { groceryBaskets } from '../../../../test/support/groceries.js';
import { loadModel } from './model-store.js';
import { buildModel, type CoPurchaseModel } from './model.js';
import type { CatalogProduct } from './parse.js';
import { estimateRepurchaseIntervals, recommendForCustomer, relatedProducts } from './recommender.js';

const groceries = groceryBaskets();

function order(i: number, items: string[], over: Partial<OrderRecord> = {}): OrderRecord {
  const t = new Date(Date.UTC(2026, 0, 1) + i * 3_600_000);
  return {
    id: `o${i}`,
    email: null,
    customerId: `c${i % 53}`,
    createdAt: t,
    updatedAt: t,
    lines: items.map((p) => ({ productId: p, title: p, quantity: 1 })),
    ...over,
  };
}

/** What a recommendation depends on: every customer's list, and the neighbours of the popular products. */
function answers(model: CoPurchaseModel) {
  const catalogue = new Map<string, CatalogProduct>(
    model.productIds().map((id) => [id, { id, title: id, available: true }]),
  );
  const now = Date.UTC(2026, 3, 1);
  return {
    personal: model.customerIds().map((customer) =>
      recommendForCustomer(
        model,
        {
          purchases: model
            .ordersOf(customer)
            .flatMap((o) => o.productIds.map((productId) => ({ productId, time: o.time! }))),
        },
        catalogue,
        { now, k: 5 },
      ),
    ),
    related: model.popular(20).map((p) => relatedProducts(model, p.productId, 5)),
    intervals: [...estimateRepurchaseIntervals(model)].sort(),
  };
}

describeEachStore('the stored model read in pages', (getStore) => {
  it('pages - a model loaded a few orders and pairs at a time equals the model loaded at once and a build of the same orders', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const orders = groceries.slice(0, 1200).map((items, i) => order(i, items));
    await t.orders.ingest(orders, 'import');
    // Some orders stop counting (cancelled, refunded, emptied): the pages skip them.
    const later = new Date(Date.UTC(2026, 5, 1));
    await t.orders.ingest(
      [
        { ...orders[3]!, cancelledAt: later, updatedAt: later },
        { ...orders[500]!, refunded: true, updatedAt: later },
        { ...orders[501]!, lines: [], updatedAt: later },
      ],
      'import',
    );
    const db = rawStore(getStore()).db;
    const whole = await loadModel(db, t.shopId, {}, { orders: 100_000, pairProducts: 100_000 });
    // 7 orders and the pairs of 13 products a page: hundreds of page boundaries, none at a round number.
    const paged = await loadModel(db, t.shopId, {}, { orders: 7, pairProducts: 13 });
    const wholeRows = whole.model.snapshot();
    expect(wholeRows.orders).toHaveLength(1197);
    expect(wholeRows.pairs.length).toBeGreaterThan(1000);
    expect(paged.model.snapshot()).toEqual(wholeRows);
    expect(paged.revision).toBe(whole.revision);
    // The same counts as building the counted orders in memory.
    const counted = orders.filter((_, i) => i !== 3 && i !== 500 && i !== 501);
    const built = await buildModel(
      counted.map((o) => ({ orderId: o.id, productIds: o.lines.map((l) => l.productId) })),
    );
    const builtRows = built.snapshot();
    expect(wholeRows.pairs).toEqual(builtRows.pairs);
    expect(wholeRows.products).toEqual(builtRows.products);
    expect(wholeRows.orders.map((o) => [o.orderId, o.productIds])).toEqual(
      builtRows.orders.map((o) => [o.orderId, o.productIds]),
    );
    // The same recommendations, and the same exact subtraction afterwards.
    expect(answers(paged.model)).toEqual(answers(whole.model));
    expect(paged.model.removeOrder('o10')).toEqual(whole.model.removeOrder('o10'));
    const customer = whole.model.customerIds()[5]!;
    expect(paged.model.eraseCustomer(customer)).toEqual(whole.model.eraseCustomer(customer));
    expect(paged.model.snapshot()).toEqual(whole.model.snapshot());
  });

  it('pages - an empty shop loads an empty model', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const { model } = await loadModel(rawStore(getStore()).db, t.shopId, {}, { orders: 3, pairProducts: 3 });
    expect(model.snapshot()).toEqual({ version: 1, basketCount: 0, products: [], pairs: [], orders: [] });
  });
});
