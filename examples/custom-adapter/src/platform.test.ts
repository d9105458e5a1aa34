// What the conformance suite does not pin down for WooCommerce in particular: options, paging while the store
// changes, credentials, the consent meta entry, and reading WooCommerce's own documented bodies.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTactfulError, type CommercePlatform, type Page } from '@tactful/core';
import { createWooCommercePlatform } from './index.js';
import { toCustomerRecord, toOrderRecord, wooCustomer, wooOrder } from './records.js';
import { createWooCommerceSandbox, type WooCommerceSandbox } from './testing/index.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

let sandbox: WooCommerceSandbox;
let platform: CommercePlatform;
beforeEach(() => {
  sandbox = createWooCommerceSandbox();
  server.resetHandlers(...sandbox.handlers);
  platform = createWooCommercePlatform({
    url: sandbox.url,
    consumerKey: sandbox.consumerKey,
    consumerSecret: sandbox.consumerSecret,
    retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    sleep: async () => undefined,
  });
});

describe('options', () => {
  it('names every problem at once and builds nothing', () => {
    let error: unknown;
    try {
      createWooCommercePlatform({ url: 'http://shop.example', consumerKey: 'key', consumerSecret: '' });
    } catch (e) {
      error = e;
    }
    expect(isTactfulError(error, 'CONFIG.INVALID')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('url');
    expect(message).toContain('consumerKey');
    expect(message).toContain('consumerSecret');
  });
});

describe('paging', () => {
  it('a customer deleted behind the cursor neither hides nor repeats anyone', async () => {
    const ids = Array.from({ length: 9 }, (_, i) => sandbox.addCustomer({ email: `p${i}@example.com` }).id);
    const first = await platform.listCustomers({ limit: 3 });
    expect(first.items.map((c) => c.id)).toEqual(ids.slice(0, 3));
    // Two customers before the cursor disappear: offset paging alone would now skip two.
    sandbox.remove('customer', ids[0]!);
    sandbox.remove('customer', ids[2]!);
    const rest: string[] = [];
    let page: Page<{ id: string }> = first;
    while (page.nextCursor) {
      page = await platform.listCustomers({ cursor: page.nextCursor, limit: 3 });
      rest.push(...page.items.map((c) => c.id));
    }
    expect(rest).toEqual(ids.slice(3));
  });

  it('a customer added while paging shows up at the end, once', async () => {
    const ids = Array.from({ length: 4 }, (_, i) => sandbox.addCustomer({ email: `a${i}@example.com` }).id);
    const first = await platform.listCustomers({ limit: 2 });
    const added = sandbox.addCustomer({ email: 'late@example.com' }).id;
    const seen = first.items.map((c) => c.id);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await platform.listCustomers({ cursor, limit: 2 });
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...ids, added]);
  });

  it('a cursor the adapter did not hand out is refused clearly', async () => {
    await expect(platform.listCustomers({ cursor: 'not-a-cursor' })).rejects.toMatchObject({
      code: 'WOOCOMMERCE.BAD_CURSOR',
    });
  });

  it('updatedSince asks WooCommerce for orders modified after that time, in GMT', async () => {
    const product = sandbox.addProduct({ name: 'Mug', price: '9.00' });
    sandbox.addOrder({
      createdAt: new Date('2025-01-01T00:00:00Z'),
      lines: [{ product_id: Number(product.id), quantity: 1 }],
    });
    const recent = sandbox.addOrder({
      createdAt: new Date('2025-02-01T00:00:00Z'),
      lines: [{ product_id: Number(product.id), quantity: 1 }],
    });
    const page = await platform.listOrders({ updatedSince: new Date('2025-01-15T00:00:00Z') });
    expect(page.items.map((o) => o.id)).toEqual([recent.id]);
    expect(sandbox.requests.at(-1)?.query).toMatchObject({
      modified_after: '2025-01-15T00:00:00.000Z',
      dates_are_gmt: 'true',
      orderby: 'id',
      order: 'asc',
    });
  });
});

describe('errors', () => {
  it('wrong credentials are a clear, non-retryable error', async () => {
    const wrong = createWooCommercePlatform({
      url: sandbox.url,
      consumerKey: 'ck_wrong',
      consumerSecret: 'cs_wrong',
      sleep: async () => undefined,
    });
    const error = await wrong.listProducts().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WOOCOMMERCE.UNAUTHORIZED', retryable: false, status: 401 });
    expect((error as Error).message).toMatch(/consumer key/);
  });

  it('a 503 is retried, and the call succeeds when the site recovers', async () => {
    sandbox.addProduct({ name: 'Tea' });
    sandbox.failNext({ status: 503 }, 1);
    const page = await platform.listProducts();
    expect(page.items.map((p) => p.title)).toEqual(['Tea']);
  });
});

describe('newsletter consent', () => {
  const at = new Date('2025-05-05T05:05:05Z');

  it('a withdrawal wins a tie with a grant, as in the ledger fold', async () => {
    sandbox.addCustomer({
      email: 'tie@example.com',
      meta: { tactful_newsletter: { state: 'unsubscribed', level: 'unknown', updated_at: at.toISOString() } },
    });
    const [result] = await platform.pushConsent!([
      {
        email: 'tie@example.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: at,
        firstParty: false,
      },
    ]);
    expect(result).toEqual({ email: 'tie@example.com', ok: true });
    expect(sandbox.customerByEmail('tie@example.com')?.meta_data[0]?.value).toMatchObject({ state: 'unsubscribed' });
  });

  it('a guest (no customer account) is reported per change, not thrown', async () => {
    const [result] = await platform.pushConsent!([
      {
        email: 'guest@example.com',
        purpose: 'email_marketing',
        state: 'withdrawn',
        level: 'unknown',
        occurredAt: at,
        firstParty: false,
      },
    ]);
    expect(result).toMatchObject({ ok: false, code: 'WOOCOMMERCE.CUSTOMER_NOT_FOUND', retryable: false });
  });

  it('a malformed meta entry is no consent, never a grant', async () => {
    sandbox.addCustomer({ email: 'odd@example.com', meta: { tactful_newsletter: 'yes' } });
    const { items } = await platform.listCustomers();
    expect(items[0]?.emailConsent).toBeNull();
  });

  it('the same unchanged fact read twice has the same source event id (a re-read is a duplicate)', async () => {
    sandbox.addCustomer({
      email: 'same@example.com',
      meta: { tactful_newsletter: { state: 'subscribed', level: 'confirmed', updated_at: at.toISOString() } },
    });
    const a = (await platform.listCustomers()).items[0]?.emailConsent;
    const b = (await platform.listCustomers()).items[0]?.emailConsent;
    expect(a?.sourceEventId).toBeDefined();
    expect(a?.sourceEventId).toBe(b?.sourceEventId);
    expect(a).toMatchObject({ state: 'granted', level: 'confirmed', method: 'sync', rawState: 'subscribed' });
  });
});

describe("WooCommerce's documented bodies", () => {
  it('reads the customer of the REST API documentation', () => {
    const body = {
      id: 25,
      date_created: '2017-03-21T16:09:28',
      date_created_gmt: '2017-03-21T19:09:28',
      date_modified: '2017-03-21T16:09:30',
      date_modified_gmt: '2017-03-21T19:09:30',
      email: 'John.Doe@Example.com',
      first_name: 'John',
      last_name: 'Doe',
      role: 'customer',
      username: 'john.doe',
      billing: {
        first_name: 'John',
        last_name: 'Doe',
        company: '',
        address_1: '969 Market',
        address_2: '',
        city: 'San Francisco',
        state: 'CA',
        postcode: '94103',
        country: 'US',
        email: 'john.doe@example.com',
        phone: '(555) 555-5555',
      },
      shipping: {
        first_name: 'John',
        last_name: 'Doe',
        company: '',
        address_1: '969 Market',
        address_2: '',
        city: 'San Francisco',
        state: 'CA',
        postcode: '94103',
        country: 'US',
      },
      is_paying_customer: false,
      avatar_url: 'https://secure.gravatar.com/avatar/8eb1b522f60d11fa897de1dc6351b7e8?s=96',
      meta_data: [],
    };
    const record = toCustomerRecord(wooCustomer.parse(body), {
      metaKey: 'tactful_newsletter',
      purpose: 'email_marketing',
    });
    expect(record).toMatchObject({
      id: '25',
      email: 'john.doe@example.com',
      city: 'San Francisco',
      country: 'US',
      region: 'CA',
      emailConsent: null,
    });
    expect(record.updatedAt.toISOString()).toBe('2017-03-21T19:09:30.000Z');
  });

  it('reads an order with a guest buyer and a variation line', () => {
    const body = {
      id: 727,
      number: '727',
      status: 'refunded',
      currency: 'USD',
      total: '29.35',
      customer_id: 0,
      date_created_gmt: '2017-03-22T16:28:02',
      date_modified_gmt: '2017-03-22T16:30:01',
      billing: { first_name: 'John', email: 'JOHN.doe@example.com' },
      line_items: [
        { id: 315, name: 'Woo Single #1', product_id: 93, variation_id: 0, quantity: 2, price: 3 },
        {
          id: 316,
          name: 'Ship Your Idea &ndash; Color: Black, Size: M Test',
          product_id: 22,
          variation_id: 23,
          quantity: 1,
          price: 12,
        },
      ],
    };
    const record = toOrderRecord(wooOrder.parse(body));
    expect(record).toMatchObject({
      id: '727',
      name: '#727',
      customerId: null,
      email: 'john.doe@example.com',
      refunded: true,
      cancelledAt: null,
      totalPrice: '29.35',
    });
    expect(record.lines).toEqual([
      { productId: '93', variantId: null, title: 'Woo Single #1', quantity: 2, price: '3' },
      {
        productId: '22',
        variantId: '23',
        title: 'Ship Your Idea &ndash; Color: Black, Size: M Test',
        quantity: 1,
        price: '12',
      },
    ]);
  });
});
