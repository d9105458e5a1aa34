import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore, type Store } from '../store/open.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const EMAIL = 'merch@example.com';
const PUBLIC = 'https://shop.example';
const admin = { type: 'admin' as const, id: 'test' };

function order(id: string, email: string, products: string[], day: number): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: '10.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1 })),
  };
}

/**
 * Coffee is bought with filters, a gift card, mugs and beans (strongest first); tea sits apart (candles and
 * bread are the popular rest). The customer bought coffee and allows personalisation and email offers.
 */
async function shop(getStore: () => Store): Promise<Tactful> {
  const t = await createTactful({ store: getStore(), shop: uniqueShop('merch'), now: () => at(60) });
  await t.settings.update({
    requireDoubleOptIn: false,
    sender: { name: 'Bean Shop', email: 'hello@bean.example', postalAddress: '1 Roastery Lane, Ghent' },
  });
  await t.products.upsert([
    { id: 'coffee', title: 'Coffee', category: 'Coffee', available: true },
    { id: 'filters', title: 'Paper filters', category: 'Coffee', available: true },
    { id: 'gift', title: 'Gift card 25 EUR', category: 'Vouchers', available: true },
    { id: 'mug', title: 'Mug', category: 'Kitchen', available: true },
    { id: 'beans', title: 'Espresso beans', category: 'Coffee', available: false },
    { id: 'tea', title: 'Tea', category: 'Tea', available: true },
    { id: 'candle', title: 'Candle', category: 'Home', available: true },
    { id: 'bread', title: 'Bread', category: 'Bakery', available: true },
  ]);
  const orders: OrderRecord[] = [];
  let n = 0;
  const add = (products: string[], times: number) => {
    for (let i = 0; i < times; i++) orders.push(order(`o${n++}`, `other${n}@example.com`, products, 1 + (n % 20)));
  };
  add(['coffee', 'filters', 'gift', 'mug', 'beans'], 10);
  add(['coffee', 'filters'], 6);
  add(['tea', 'candle'], 4);
  add(['bread'], 12);
  add(['candle'], 5);
  orders.push(order('mine', EMAIL, ['coffee'], 40));
  await t.orders.ingest(orders, 'shopify');
  for (const purpose of ['personalization', 'email_marketing'])
    await t.consent.record({
      subject: { email: EMAIL },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: at(41),
      source: { system: 'tactful', eventId: `g-${purpose}`, method: 'form' },
    });
  return t;
}

const ids = async (t: Tactful, k = 6) =>
  (await t.recommend.forCustomer(EMAIL, { k })).recommendations.map((r) => r.productId);

async function campaignProducts(t: Tactful): Promise<string[]> {
  const result = await t.campaign.run({ name: `c${Math.random()}`, dryRun: true, publicUrl: PUBLIC });
  const mine = result.previews.find((p) => p.email === EMAIL);
  expect(mine, JSON.stringify(result.excluded)).toBeDefined();
  return mine!.content.products.map((p) => p.productId);
}

describeEachStore('merchandising', (getStore) => {
  it("a product first seen in an order and one upserted without a date carry the engine's time, not the machine's", async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('merch-clock'), now: () => at(60) });
    await t.orders.ingest([order('o-new', EMAIL, ['teapot'], 59)], 'shopify');
    await t.products.upsert([{ id: 'kettle', title: 'Kettle', available: true }]);
    const rows = await rawStore(store).query<{ product_id: string; updated_at: Date }>(
      'select product_id, updated_at from products where shop_id = $1 order by product_id',
      [t.shopId],
    );
    expect(rows.map((r) => [r.product_id, new Date(r.updated_at).toISOString()])).toEqual([
      ['kettle', at(60).toISOString()],
      ['teapot', at(60).toISOString()],
    ]);
  });

  it('gift cards and products out of stock are never recommended, and the list says which were left out', async () => {
    const t = await shop(getStore);
    const result = await t.recommend.forCustomer(EMAIL, { k: 6 });
    const listed = result.recommendations.map((r) => r.productId);
    expect(listed).toContain('filters');
    expect(listed).not.toContain('gift');
    expect(listed).not.toContain('beans');
    expect(result.leftOut).toEqual(
      expect.arrayContaining([
        { productId: 'gift', title: 'Gift card 25 EUR', rule: 'gift-card', note: 'a gift card: never recommended' },
        expect.objectContaining({ productId: 'beans', rule: 'out-of-stock' }),
      ]),
    );
    expect((await t.merchandising.keptOut()).map((k) => k.productId).sort()).toEqual(['beans', 'gift']);
  });

  it('an excluded product is in no per-customer list, no preference-centre list, no campaign and no related list', async () => {
    const t = await shop(getStore);
    expect(await ids(t)).toContain('filters');
    expect(await campaignProducts(t)).toContain('filters');
    await t.merchandising.change({ action: 'exclude-product', productId: 'filters' }, admin);
    // Per customer (the explorer), the preference centre's shorter list, a campaign, related products.
    expect(await ids(t)).not.toContain('filters');
    expect(await ids(t, 5)).not.toContain('filters');
    expect(await campaignProducts(t)).not.toContain('filters');
    const related = await t.recommend.relatedExplained('coffee', 5);
    expect(related.related.map((r) => r.productId)).not.toContain('filters');
    expect(related.leftOut).toContainEqual(expect.objectContaining({ productId: 'filters', rule: 'excluded-product' }));
    expect((await t.recommend.related('coffee', 5)).map((r) => r.productId)).not.toContain('filters');
    const { leftOut } = await t.recommend.forCustomer(EMAIL, { k: 6 });
    expect(leftOut).toContainEqual({
      productId: 'filters',
      title: 'Paper filters',
      rule: 'excluded-product',
      note: 'never recommended by the shop',
    });
    // Lifting the exclusion brings it back.
    await t.merchandising.change({ action: 'include-product', productId: 'filters' }, admin);
    expect(await ids(t)).toContain('filters');
  });

  it('an excluded category is left out everywhere, compared case-insensitively', async () => {
    const t = await shop(getStore);
    await t.merchandising.change({ action: 'exclude-category', category: 'kitchen' }, admin);
    expect((await t.merchandising.rules()).excludedCategories).toEqual(['Kitchen']);
    expect(await ids(t)).not.toContain('mug');
    expect(await campaignProducts(t)).not.toContain('mug');
    const { leftOut } = await t.recommend.forCustomer(EMAIL, { k: 6 });
    expect(leftOut).toContainEqual(
      expect.objectContaining({ productId: 'mug', note: 'its category "Kitchen" is never recommended by the shop' }),
    );
  });

  it('a pinned product leads every list it is eligible for, with the reason "recommended by the shop"', async () => {
    const t = await shop(getStore);
    expect((await ids(t))[0]).not.toBe('tea');
    await t.merchandising.change({ action: 'pin', productId: 'candle' }, admin);
    await t.merchandising.change({ action: 'pin', productId: 'tea' }, admin);
    await t.merchandising.change({ action: 'move-up', productId: 'tea' }, admin);
    const result = await t.recommend.forCustomer(EMAIL, { k: 6 });
    expect(result.recommendations.slice(0, 2).map((r) => r.productId)).toEqual(['tea', 'candle']);
    expect(result.recommendations[0]).toMatchObject({ source: 'pinned', reasons: [{ kind: 'pinned' }] });
    expect(new Set(result.recommendations.map((r) => r.productId)).size).toBe(result.recommendations.length);
    expect((await campaignProducts(t))[0]).toBe('tea');
  });

  it('consent and exclusions win over a pin: no list without personalisation, no pin the customer said "not this" to, no pin of an excluded product', async () => {
    const t = await shop(getStore);
    await t.merchandising.change({ action: 'pin', productId: 'tea' }, admin);
    // The customer excluded the category Tea in their preference centre.
    await t.preferences.change(EMAIL, { kind: 'exclude-category', category: 'Tea' });
    expect(await ids(t)).not.toContain('tea');
    // Excluding a favourite unpins it; favouring an excluded product is refused, nothing changed.
    await t.merchandising.change({ action: 'exclude-product', productId: 'tea' }, admin);
    expect((await t.merchandising.rules()).pinnedProducts).toEqual([]);
    const refused = await t.merchandising.change({ action: 'pin', productId: 'gift' }, admin).catch((e: unknown) => e);
    expect(isTactfulError(refused) && refused.code).toBe('RECOMMEND.RULE_INVALID');
    expect((refused as Error).message).toMatch(/gift card/);
    expect((await t.merchandising.rules()).pinnedProducts).toEqual([]);
    // Without personalisation there is no list to lead.
    await t.consent.record({
      subject: { email: EMAIL },
      purpose: 'personalization',
      state: 'withdrawn',
      level: 'single',
      occurredAt: at(50),
      source: { system: 'tactful', eventId: 'w-p', method: 'form' },
    });
    const denied = await t.recommend.forCustomer(EMAIL).catch((e: unknown) => e);
    expect(isTactfulError(denied) && denied.code).toBe('CONSENT.NOT_GRANTED');
  });

  it('bad input changes nothing: an unknown product or category is refused with what to do, and each change is audited', async () => {
    const t = await shop(getStore);
    for (const change of [
      { action: 'exclude-product' as const, productId: 'nope' },
      { action: 'pin' as const, productId: 'nope' },
      { action: 'exclude-category' as const, category: 'Spaceships' },
    ]) {
      const error = await t.merchandising.change(change, admin).catch((e: unknown) => e);
      expect(isTactfulError(error) && error.code).toBe('RECOMMEND.RULE_INVALID');
      expect((error as Error).message).toMatch(/catalogue/);
    }
    expect(await t.merchandising.rules()).toEqual({ excludedProducts: [], excludedCategories: [], pinnedProducts: [] });
    await t.merchandising.change({ action: 'exclude-product', productId: 'mug' }, admin);
    const page = await t.audit.page({ action: 'merchandising.changed' }, { limit: 10, offset: 0 });
    expect(page.total).toBe(1);
    expect(page.rows[0]).toMatchObject({ actorType: 'admin', actorId: 'test' });
    expect((await t.merchandising.search('gift')).map((p) => p.productId)).toEqual(['gift']);
    expect(await t.merchandising.categories()).toContain('Kitchen');
  });
});
