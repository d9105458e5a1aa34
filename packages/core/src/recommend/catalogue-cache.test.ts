import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore, type Store } from '../store/open.js';
import { readShopSettings } from '../shop/settings.js';
import { eraseShop } from '../privacy/shop-erasure.js';
import { catalogueCache } from './service.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const EMAIL = 'cache@example.com';

function order(id: string, email: string, products: string[], day: number): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1 })),
  };
}

/** Coffee is bought with filters, then mugs; the customer bought coffee and allows personalisation. */
async function shop(store: Store, name: string): Promise<Tactful> {
  const t = await createTactful({ store, shop: name, now: () => at(60) });
  await t.products.upsert([
    { id: 'coffee', title: 'Coffee', category: 'Coffee', available: true },
    { id: 'filters', title: 'Paper filters', category: 'Coffee', available: true },
    { id: 'mug', title: 'Mug', category: 'Kitchen', available: true },
    { id: 'bread', title: 'Bread', category: 'Bakery', available: true },
  ]);
  const orders: OrderRecord[] = [];
  for (let i = 0; i < 8; i++) orders.push(order(`f${i}`, `f${i}@example.com`, ['coffee', 'filters'], 1 + i));
  for (let i = 0; i < 7; i++) orders.push(order(`m${i}`, `m${i}@example.com`, ['coffee', 'mug'], 1 + i));
  for (let i = 0; i < 12; i++) orders.push(order(`b${i}`, `b${i}@example.com`, ['bread'], 1 + i));
  orders.push(order('mine', EMAIL, ['coffee'], 40));
  await t.orders.ingest(orders, 'shopify');
  await t.consent.record({
    subject: { email: EMAIL },
    purpose: 'personalization',
    state: 'granted',
    level: 'single',
    occurredAt: at(41),
    source: { system: 'tactful', eventId: 'g', method: 'form' },
  });
  return t;
}

describeEachStore('the catalogue kept beside the model', (getStore) => {
  it('catalogue - read once while the products stay the same, read again when one changes', async () => {
    const store = getStore();
    const t = await shop(store, uniqueShop('catalogue'));
    const catalogue = catalogueCache(rawStore(store).db, t.shopId);
    const rules = (await readShopSettings(rawStore(store).db, t.shopId)).merchandising;
    const first = await catalogue(rules);
    expect(await catalogue(rules)).toBe(first);
    await t.products.upsert([{ id: 'mug', title: 'Big mug', category: 'Kitchen', available: true }]);
    const second = await catalogue(rules);
    expect(second).not.toBe(first);
    expect(second.items.get('mug')?.title).toBe('Big mug');
    expect(await catalogue(rules)).toBe(second);
    // Other rules: the catalogue is read again under them.
    const excluding = await catalogue({ ...rules, excludedProducts: ['mug'] });
    expect(excluding.keptOut.get('mug')?.rule).toBe('excluded-product');
  });

  it("catalogue - a product first seen in another instance's order is in the next catalogue; a write that bumps nothing is not", async () => {
    const store = getStore();
    const name = uniqueShop('catalogue');
    const t = await shop(store, name);
    const db = rawStore(store).db;
    const catalogue = catalogueCache(db, t.shopId);
    const rules = (await readShopSettings(db, t.shopId)).merchandising;
    const first = await catalogue(rules);
    expect(first.items.has('kettle')).toBe(false);
    // Orders of known products only: no product row is written, the catalogue stays the one in memory.
    const other = await createTactful({ store, shop: name, now: () => at(60) });
    await other.orders.ingest([order('again', 'again@example.com', ['coffee', 'mug'], 42)], 'shopify');
    expect(await catalogue(rules)).toBe(first);
    // A product the catalogue sync has not sent yet gets a placeholder row from the order that names it.
    await other.orders.ingest([order('new', 'new@example.com', ['coffee', 'kettle'], 43)], 'shopify');
    const second = await catalogue(rules);
    expect(second.items.get('kettle')?.title).toBe('kettle');
    // Only a revision bump makes the cache read again: a row changed behind the engine's back is not seen.
    await rawStore(store).query(`update products set title = 'Renamed' where shop_id = $1 and product_id = 'mug'`, [
      t.shopId,
    ]);
    expect((await catalogue(rules)).items.get('mug')?.title).toBe('Mug');
  });

  it('catalogue - a shop erased and filled again is read again, never answered from what was kept', async () => {
    const store = getStore();
    const name = uniqueShop('catalogue');
    const t = await shop(store, name);
    const db = rawStore(store).db;
    // Its products predate catalogue revisions: the shop has none yet when the cache first reads it.
    await rawStore(store).query(`delete from kv where shop_id = $1 and key = 'catalogue.revision'`, [t.shopId]);
    const catalogue = catalogueCache(db, t.shopId);
    const rules = (await readShopSettings(db, t.shopId)).merchandising;
    expect((await catalogue(rules)).items.size).toBe(4);
    await db.transaction((tx) => eraseShop(tx, t.shopId));
    expect((await catalogue(rules)).items.size).toBe(0);
    const again = await createTactful({ store, shop: name, now: () => at(60) });
    await again.products.upsert([{ id: 'tea', title: 'Tea', category: 'Tea', available: true }]);
    expect([...(await catalogue(rules)).items.keys()]).toEqual(['tea']);
  });

  it('catalogue - a product changed after the cache is warm is seen by the next recommendation, whichever instance changed it', async () => {
    const store = getStore();
    const name = uniqueShop('catalogue');
    const t = await shop(store, name);
    const before = await t.recommend.forCustomer(EMAIL, { k: 3 });
    expect(before.recommendations.map((r) => r.productId)).toEqual(expect.arrayContaining(['filters', 'mug']));
    const mugBefore = before.recommendations.find((r) => r.productId === 'mug')!;
    expect(mugBefore.reasons).toContainEqual(expect.objectContaining({ kind: 'bought-with', becauseTitle: 'Coffee' }));
    // Another instance (an app's webhook worker) marks filters out of stock and renames the coffee.
    const other = await createTactful({ store, shop: name, now: () => at(60) });
    await other.products.upsert([
      { id: 'filters', title: 'Paper filters', category: 'Coffee', available: false },
      { id: 'coffee', title: 'House coffee', category: 'Coffee', available: true },
    ]);
    const after = await t.recommend.forCustomer(EMAIL, { k: 3 });
    expect(after.recommendations.map((r) => r.productId)).not.toContain('filters');
    expect(after.leftOut).toContainEqual(expect.objectContaining({ productId: 'filters', rule: 'out-of-stock' }));
    const mug = after.recommendations.find((r) => r.productId === 'mug')!;
    expect(mug.reasons).toContainEqual(expect.objectContaining({ kind: 'bought-with', becauseTitle: 'House coffee' }));
    const related = await t.recommend.relatedExplained('coffee', 3);
    expect(related.related.map((r) => r.productId)).not.toContain('filters');
  });
});
