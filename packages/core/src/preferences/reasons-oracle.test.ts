/**
 * The reason line is always true, over demo-sized data: the 9 835 real Groceries orders shared among 2 000
 * customers (as `tactful demo` does), sensitive categories set by the shop, and a seeded mix of exclusions,
 * opt-ins and declared interests. Every stated reason of every customer's recommendations must be a purchase
 * or a declaration of that customer which is neither excluded nor sensitive without their opt-in; the oracle
 * (test/support/reasons.ts) reads the truth through the engine's public API, not through the recommender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertReasonsTrue, assertReasonTextTrue } from '../../../../test/support/reasons.js';
import { createTactful, type Tactful } from '../engine.js';
import { openStore, type Store } from '../store/open.js';
import { readBaskets, readItemCatalog } from '../recommend/parse.js';
import { seededRandom } from '../random.js';
import { statedReason } from '../recommend/recommender.js';
import type { OrderRecord } from '../ports.js';
import { groceriesPath } from '../../../../test/support/groceries.js';
import { worldStore } from '../../../../test/support/world-store.js';

const data = groceriesPath();
const CUSTOMERS = 2000;
const THIN = 150;
/** Customers whose recommendations are checked: every one with a preference or a thin history, and a sample of the rest. */
const CHECKED_PLAIN = 150;
const SENSITIVE = ['health food', 'personal hygiene', 'hard drinks', 'baby food'];
const t0 = Date.UTC(2026, 0, 1);
const email = (i: number) => `customer${i}@example.com`;
const actor = { type: 'customer' as const, id: 'oracle-test' };

let store: Store;
let tactful: Tactful;
const granted: string[] = [];
const shaped = new Set<string>();
const isThin = (customer: string) => Number(/\d+/.exec(customer)![0]) >= CUSTOMERS;
const counts = { excludedProducts: 0, excludedCategories: 0, optIns: 0, declared: 0 };

beforeAll(async () => {
  const world = worldStore('oracle');
  store = await openStore({ url: world.url, secret: world.secret });
  tactful = await createTactful({ store, shop: world.shop, now: () => new Date(t0 + 40 * 86_400_000) });
  const catalogue = await readItemCatalog(`${data}/groceries_items.csv`);
  await tactful.products.upsert(
    catalogue.map((p) => ({ id: p.id, title: p.title, category: p.category, available: true })),
  );
  const orders: OrderRecord[] = [];
  let i = 0;
  for await (const basket of (await readBaskets(`${data}/groceries.csv`)).baskets) {
    const at = new Date(t0 + Math.floor((i * 30 * 86_400_000) / 9835));
    orders.push({
      id: `o${i}`,
      email: email(i % CUSTOMERS),
      createdAt: at,
      updatedAt: at,
      lines: basket.productIds.map((productId) => ({ productId, title: productId, quantity: 1 })),
    });
    i += 1;
  }
  // Newcomers with one small order: thin histories, where declared interests matter.
  for (let n = 0; n < THIN; n++) {
    const at = new Date(t0 + 30 * 86_400_000);
    orders.push({
      id: `new${n}`,
      email: email(CUSTOMERS + n),
      createdAt: at,
      updatedAt: at,
      lines: [{ productId: orders[n]!.lines[0]!.productId, title: 'x', quantity: 1 }],
    });
  }
  for (let start = 0; start < orders.length; start += 2000)
    await tactful.orders.ingest(orders.slice(start, start + 2000), 'shopify');
  await tactful.settings.update({ sensitiveCategories: SENSITIVE });

  const random = seededRandom(10);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const grants = [];
  for (let c = 0; c < CUSTOMERS + THIN; c++) {
    if (random() < 0.7) {
      granted.push(email(c));
      grants.push({
        subject: { email: email(c) },
        purpose: 'personalization',
        state: 'granted',
        level: 'single',
        occurredAt: new Date(t0 + 31 * 86_400_000),
        source: { system: 'tactful', eventId: `g${c}`, method: 'form' },
      });
    }
  }
  await tactful.consent.recordBatch(grants);
  const categories = [...new Set(catalogue.map((p) => p.category).filter((c): c is string => Boolean(c)))];
  for (const customer of granted) {
    const roll = random();
    if (roll > 0.3 && !isThin(customer)) continue;
    shaped.add(customer);
    const view = await tactful.preferences.show(customer);
    if (view.purchases.length === 0) continue;
    if (random() < 0.5) {
      await tactful.preferences.exclude(customer, { productId: pick(view.purchases).productId }, {}, actor);
      counts.excludedProducts += 1;
    }
    const category = pick(view.purchases).category;
    if (category && random() < 0.35) {
      await tactful.preferences.exclude(customer, { category }, {}, actor);
      counts.excludedCategories += 1;
    }
    const sensitiveBought = view.purchases
      .map((p) => p.category)
      .filter((c): c is string => c !== null && SENSITIVE.includes(c));
    if (sensitiveBought.length > 0 && random() < 0.5) {
      await tactful.preferences.allowSensitive(customer, pick(sensitiveBought), {}, actor);
      counts.optIns += 1;
    }
    if (random() < 0.5) {
      await tactful.profiles.rectify(customer, { interests: [pick(categories), pick(categories)] }, actor);
      counts.declared += 1;
    }
  }
}, 600_000);

afterAll(async () => {
  await store?.close();
});

describe('the reason line is always true', () => {
  it('every stated reason of every customer is an allowed purchase or declaration of theirs', {
    timeout: 300_000,
  }, async () => {
    expect(granted.length).toBeGreaterThan(1400);
    expect(
      Math.min(counts.excludedProducts, counts.excludedCategories, counts.optIns, counts.declared),
    ).toBeGreaterThan(30);
    const kinds: Record<string, number> = {};
    const statistics: Record<string, number> = {};
    let withBlocked = 0;
    const checked = [...shaped, ...granted.filter((c) => !shaped.has(c)).slice(0, CHECKED_PLAIN)];
    expect(checked.length).toBeGreaterThan(500);
    for (const customer of checked) {
      const { recommendations } = await tactful.recommend.forCustomer(customer, { k: 5 });
      const truth = await assertReasonsTrue(tactful, customer, recommendations);
      if (truth.blockedProducts.size > 0) withBlocked += 1;
      for (const r of recommendations)
        for (const reason of r.reasons) {
          kinds[reason.kind] = (kinds[reason.kind] ?? 0) + 1;
          if (reason.kind === 'bought-with') statistics[reason.statistic] = (statistics[reason.statistic] ?? 0) + 1;
        }
      // The sentence a page shows is true as well.
      const titleOf = new Map([...truth.allowedPurchases, ...truth.blockedProducts]);
      for (const r of recommendations) {
        await assertReasonTextTrue(tactful, customer, `${statedReason(r, (id) => titleOf.get(id) ?? id)}.`, truth);
      }
    }
    // The data exercise every rule: blocked purchases, and each kind of reason.
    expect(withBlocked).toBeGreaterThan(150);
    expect(kinds['bought-with']).toBeGreaterThan(1000);
    expect(kinds['declared-interest'] ?? 0).toBeGreaterThan(0);
    // What is checked is the fitted model the engine serves (its reasons carry the EASE weight).
    expect(await tactful.recommend.fit()).not.toBeNull();
    expect(statistics.ease ?? 0).toBeGreaterThan(1000);
  });

  it('the oracle catches a false reason (it is not a test that cannot fail)', async () => {
    const customer = granted[0]!;
    let victim: string | null = null;
    for (const c of granted) {
      const view = await tactful.preferences.show(c);
      if (view.preferences.excludedProducts.length > 0) {
        victim = c;
        break;
      }
    }
    expect(victim).not.toBeNull();
    const view = await tactful.preferences.show(victim!);
    const excluded = view.preferences.excludedProducts[0]!;
    const { recommendations } = await tactful.recommend.forCustomer(victim!, { k: 1 });
    const forged = recommendations.map((r) => ({
      ...r,
      reasons: [
        {
          kind: 'bought-with' as const,
          because: excluded,
          statistic: 'uplift' as const,
          value: 1,
          score: 1,
          stats: null as never,
        },
      ],
    }));
    await expect(assertReasonsTrue(tactful, victim!, forged)).rejects.toThrow(/excluded|blocked/);
    const title = view.purchases.find((p) => p.productId === excluded)!.title;
    await expect(assertReasonTextTrue(tactful, victim!, `Because you bought ${title}.`)).rejects.toThrow(
      /blocked purchase/,
    );
    await expect(assertReasonTextTrue(tactful, victim!, 'Popular in astrology, which you buy from.')).rejects.toThrow(
      /do not buy from/,
    );
    await expect(assertReasonTextTrue(tactful, customer, 'Because you told us you like astrology.')).rejects.toThrow(
      /no allowed category/,
    );
    const stranger = await tactful.recommend.forCustomer(victim!, { k: 1 });
    const other = granted.find((c) => c !== victim)!;
    const notTheirs = stranger.recommendations.map((r) => ({
      ...r,
      reasons: [{ kind: 'popular-in-category' as const, category: 'astrology', count: 1, score: 1 }],
    }));
    await expect(assertReasonsTrue(tactful, other, notTheirs)).rejects.toThrow(/did not buy from/);
  });
});
