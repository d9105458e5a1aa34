/**
 * Fills a sandbox shop from real data: the Groceries baskets (9,835 real transactions over 169 products)
 * or a Shopify "Export orders" CSV. Both arrive as text: the Groceries files ship with the demo
 * (`@tactful/app`), not with this adapter, so the caller reads them where they live.
 */
import { csvRows } from '@tactful/core/testing/runtime';
import type { ShopifySandbox } from './sandbox.js';
import type { MarketingState, SandboxProduct } from './state.js';

/** A whole CSV text's records, read exactly as core reads CSV (see core's `recommend/csv.ts`). */
export function parseCsv(text: string): string[][] {
  return csvRows(text);
}

/** The Groceries data set as its two CSV files' text (`groceries.csv`, `groceries_items.csv`). */
export interface GroceriesData {
  /** One basket a line, item labels comma-separated. */
  baskets: string;
  /** `labels,level2,level1,…` with a header row: the 169 products and their categories. */
  items: string;
}

export interface GroceriesSeedOptions {
  /**
   * How many orders to create; the 9,835 baskets repeat (a day later each round) to reach it. Default: one per
   * basket.
   */
  orders?: number;
  /** How many customers share the orders (round-robin). Default: one per 8 baskets. */
  customers?: number;
  /** When the first basket was bought. */
  start?: Date;
}

export interface SeedSummary {
  customers: number;
  orders: number;
  products: number;
  lines: number;
}

const consentCycle: MarketingState[] = [
  'SUBSCRIBED',
  'SUBSCRIBED',
  'NOT_SUBSCRIBED',
  'SUBSCRIBED',
  'UNSUBSCRIBED',
  'SUBSCRIBED',
  'PENDING',
  'NOT_SUBSCRIBED',
  'SUBSCRIBED',
  'INVALID',
  'SUBSCRIBED',
  'NOT_SUBSCRIBED',
];

/** Seeds products (the 169 Groceries items), customers with varied consent, and one order per basket. */
export function seedFromGroceries(
  sandbox: ShopifySandbox,
  data: GroceriesData,
  options: GroceriesSeedOptions = {},
): SeedSummary {
  const items = parseCsv(data.items)
    .slice(1)
    .filter((r) => r.length >= 3);
  const baskets = data.baskets
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(','));
  if (items.length === 0 || baskets.length === 0) {
    throw new Error(
      `seedFromGroceries: ${items.length === 0 ? 'no products in data.items' : 'no baskets in data.baskets'}; ` +
        "pass the text of groceries_items.csv and groceries.csv (they ship in @tactful/app's data/groceries/)",
    );
  }
  const start = options.start ?? new Date('2025-01-01T08:00:00Z');
  const products = new Map<string, SandboxProduct>();
  items.forEach(([label, level2, level1], i) => {
    products.set(
      label!,
      sandbox.addProduct({
        // The Groceries items carry stray spaces ("cream cheese "); a shop's titles have none.
        title: label!.trim(),
        productType: `${level1} > ${level2}`,
        price: (1 + ((i * 37) % 90) / 10).toFixed(2),
        tracksInventory: i % 10 === 0,
        totalInventory: i % 20 === 0 ? 0 : 50,
        createdAt: new Date(start.getTime() - 86_400_000),
      }),
    );
  });
  const orderCount = options.orders ?? baskets.length;
  const customerCount = Math.max(1, options.customers ?? Math.ceil(Math.min(orderCount, baskets.length) / 8));
  const customerIds: string[] = [];
  for (let i = 0; i < customerCount; i++) {
    const state = consentCycle[i % consentCycle.length]!;
    const createdAt = new Date(start.getTime() - (customerCount - i) * 60_000);
    customerIds.push(
      sandbox.addCustomer({
        email: `Shopper${i + 1}@Example.com`,
        firstName: `Shopper`,
        lastName: `${i + 1}`,
        countryCode: 'DE',
        createdAt,
        consent:
          state === 'NOT_SUBSCRIBED'
            ? { state, at: null }
            : {
                state,
                level: state === 'SUBSCRIBED' ? (i % 3 === 0 ? 'CONFIRMED_OPT_IN' : 'SINGLE_OPT_IN') : null,
                at: createdAt,
              },
      }).id,
    );
  }
  let lines = 0;
  const span = 30 * 86_400_000;
  for (let n = 0; n < orderCount; n++) {
    const basket = baskets[n % baskets.length]!;
    const round = Math.floor(n / baskets.length);
    const at = new Date(start.getTime() + round * span + Math.floor(((n % baskets.length) / baskets.length) * span));
    const customerId = customerIds[n % customerIds.length]!;
    sandbox.addOrder({
      customerId,
      createdAt: at,
      lines: basket.map((label) => ({ productId: products.get(label)?.id ?? null, title: label.trim(), quantity: 1 })),
    });
    lines += basket.length;
  }
  return { customers: customerIds.length, orders: orderCount, products: products.size, lines };
}

function shopifyTime(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) ([+-]\d{2})(\d{2})$/.exec(value.trim());
  const date = m ? new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`) : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Seeds from a Shopify "Export orders" CSV: one order per `Name`, a product per line item name, a customer per
 * email.
 */
export function seedFromOrdersCsv(sandbox: ShopifySandbox, csvText: string): SeedSummary {
  const [header, ...rows] = parseCsv(csvText);
  if (!header) return { customers: 0, orders: 0, products: 0, lines: 0 };
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`orders CSV: no "${name}" column`);
    return i;
  };
  const c = {
    name: col('Name'),
    email: col('Email'),
    financial: col('Financial Status'),
    marketing: col('Accepts Marketing'),
    currency: col('Currency'),
    created: col('Created at'),
    cancelled: col('Cancelled at'),
    qty: col('Lineitem quantity'),
    item: col('Lineitem name'),
    price: col('Lineitem price'),
  };
  const groups = new Map<string, string[][]>();
  for (const row of rows) {
    const name = row[c.name];
    if (!name) continue;
    const group = groups.get(name) ?? [];
    group.push(row);
    groups.set(name, group);
  }
  const products = new Map<string, string>();
  let customers = 0;
  let lines = 0;
  for (const [name, group] of groups) {
    const first = group[0]!;
    const createdAt = shopifyTime(first[c.created]) ?? new Date();
    const email = first[c.email]?.trim() || null;
    let customerId: string | null = null;
    if (email) {
      const existing = sandbox.state.customersByEmail.get(email.toLowerCase());
      customerId =
        existing ??
        sandbox.addCustomer({
          email,
          createdAt,
          consent:
            first[c.marketing] === 'yes'
              ? { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', at: createdAt }
              : { state: 'NOT_SUBSCRIBED', at: null },
        }).id;
      if (!existing) customers++;
    }
    const orderLines = group
      .filter((row) => row[c.item])
      .map((row) => {
        const title = row[c.item]!;
        let productId = products.get(title);
        if (!productId) {
          productId = sandbox.addProduct({ title, price: row[c.price] || '0.00', createdAt }).id;
          products.set(title, productId);
        }
        return { productId, title, quantity: Number(row[c.qty] || '1'), price: row[c.price] || '0.00' };
      });
    lines += orderLines.length;
    const financial = (first[c.financial] || 'paid').toUpperCase().replace(/ /g, '_');
    const known = [
      'PENDING',
      'AUTHORIZED',
      'PARTIALLY_PAID',
      'PARTIALLY_REFUNDED',
      'VOIDED',
      'PAID',
      'REFUNDED',
      'EXPIRED',
    ];
    sandbox.addOrder({
      name,
      email,
      customerId,
      createdAt,
      cancelledAt: shopifyTime(first[c.cancelled]) ?? null,
      financialStatus: (known.includes(financial) ? financial : 'PAID') as never,
      currency: first[c.currency] || undefined,
      lines: orderLines,
    });
  }
  return { customers, orders: groups.size, products: products.size, lines };
}
