import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isTactfulError, type OrderRecord } from '@tactful/core';
import { createShopifyPlatform, memoryCheckpointStore, shopifyOptionsSchema, type ShopifyOptions } from './index.js';
import { allDocuments, BULK_ORDERS_QUERY, BULK_RUN } from './queries.js';
import { createShopifySandbox, seedFromGroceries, type ShopifySandbox } from './testing/index.js';
import { readGroceries } from '../../../test/support/groceries.js';

const groceries = readGroceries();

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let clock = Date.parse('2025-06-01T12:00:00Z');
const now = () => clock;
const sleep = async (ms: number) => {
  clock += ms;
};

function setup(sandboxOptions: Parameters<typeof createShopifySandbox>[0] = {}, options: Partial<ShopifyOptions> = {}) {
  const sandbox = createShopifySandbox({ now: () => new Date(clock), ...sandboxOptions });
  server.use(...sandbox.handlers);
  const platform = createShopifyPlatform({
    shop: sandbox.shop,
    accessToken: sandbox.accessToken,
    sleep,
    now,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 1000 },
    bulk: { pollIntervalMs: 1000 },
    ...options,
  });
  return { sandbox, platform };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('options', () => {
  it('reports every problem at once', () => {
    expect(() =>
      createShopifyPlatform({ shop: 'not a shop', accessToken: '', pageSize: 900 } as ShopifyOptions),
    ).toThrowError(
      expect.objectContaining({
        code: 'CONFIG.INVALID',
        details: expect.arrayContaining([
          expect.stringMatching(/^shop:/),
          expect.stringMatching(/^accessToken:/),
          expect.stringMatching(/^pageSize:/),
        ]),
      }),
    );
    expect(shopifyOptionsSchema.safeParse({ shop: 'My-Shop.myshopify.com', accessToken: 'x' }).data?.shop).toBe(
      'my-shop.myshopify.com',
    );
  });
});

describe('createShopifyPlatform against the sandbox', () => {
  let sandbox: ShopifySandbox;
  let platform: ReturnType<typeof createShopifyPlatform>;
  beforeEach(() => {
    ({ sandbox, platform } = setup());
  });

  it('lists customers normalised, with consent at its original time, page after page without gaps', async () => {
    const at = new Date('2025-03-04T05:06:07Z');
    for (let i = 0; i < 7; i++) {
      sandbox.addCustomer({
        email: `  Person${i}@Example.COM `,
        firstName: `P${i}`,
        consent:
          i % 2 === 0 ? { state: 'SUBSCRIBED', level: 'CONFIRMED_OPT_IN', at } : { state: 'NOT_SUBSCRIBED', at: null },
      });
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await platform.listCustomers({ cursor, limit: 3 });
      seen.push(...page.items.map((c) => c.email!));
      for (const c of page.items) {
        expect(typeof c.id).toBe('string');
        expect(c.updatedAt).toBeInstanceOf(Date);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => `person${i}@example.com`));
    const first = (await platform.listCustomers({ limit: 2 })).items;
    expect(first[0]!.emailConsent).toMatchObject({
      state: 'granted',
      level: 'confirmed',
      occurredAt: at,
      purpose: 'email_marketing',
      rawState: 'SUBSCRIBED',
    });
    expect(first[1]!.emailConsent).toMatchObject({ state: 'none', rawState: 'NOT_SUBSCRIBED' });
    expect(BigInt(first[0]!.id)).toBeGreaterThan(2n ** 53n);
  });

  it('lists orders with every line item, cancellations and an updated-since filter', async () => {
    const product = sandbox.addProduct({ title: 'Tea', price: '4.50' });
    const customer = sandbox.addCustomer({ email: 'buyer@example.com' });
    const many = sandbox.addOrder({
      customerId: customer.id,
      createdAt: new Date('2025-01-01T00:00:00Z'),
      lines: Array.from({ length: 45 }, () => ({ productId: product.id, quantity: 2 })),
    });
    const cancelled = sandbox.addOrder({
      customerId: customer.id,
      createdAt: new Date('2025-02-01T00:00:00Z'),
      cancelledAt: new Date('2025-02-02T00:00:00Z'),
      lines: [{ productId: product.id }, { productId: null, title: 'Custom engraving' }],
    });
    const page = await platform.listOrders();
    expect(page.items.map((o) => o.id)).toEqual([many.id, cancelled.id]);
    expect(page.items[0]!.lines).toHaveLength(45);
    expect(page.items[0]!.lines[0]).toMatchObject({ productId: product.id, quantity: 2, price: '4.50', title: 'Tea' });
    expect(page.items[0]).toMatchObject({
      customerId: customer.id,
      email: 'buyer@example.com',
      totalPrice: '405.00',
      currency: 'USD',
    });
    expect(page.items[1]!.cancelledAt).toEqual(new Date('2025-02-02T00:00:00Z'));
    expect(page.items[1]!.lines).toHaveLength(1); // the custom line has no product
    const recent = await platform.listOrders({ updatedSince: new Date('2025-01-15T00:00:00Z') });
    expect(recent.items.map((o) => o.id)).toEqual([cancelled.id]);
  });

  it('lists only customers updated since a time (an incremental sync), a consent change included', async () => {
    const old = sandbox.addCustomer({ email: 'old@example.com', createdAt: new Date('2025-01-01T00:00:00Z') });
    const fresh = sandbox.addCustomer({ email: 'fresh@example.com', createdAt: new Date('2025-02-01T00:00:00Z') });
    const since = new Date('2025-01-15T00:00:00Z');
    expect((await platform.listCustomers({ updatedSince: since })).items.map((c) => c.id)).toEqual([fresh.id]);
    await sandbox.setConsent('old@example.com', { state: 'UNSUBSCRIBED', at: new Date('2025-03-01T00:00:00Z') });
    const changed = await platform.listCustomers({ updatedSince: since });
    expect(changed.items.map((c) => c.id).sort()).toEqual([old.id, fresh.id].sort());
    expect(changed.items.find((c) => c.id === old.id)?.emailConsent).toMatchObject({
      state: 'withdrawn',
      occurredAt: new Date('2025-03-01T00:00:00Z'),
    });
  });

  it('lists products with storefront URL, image, price, status and availability', async () => {
    sandbox.addProduct({ title: 'Green Tea', price: '3.20', imageUrl: 'https://cdn.example.com/green.jpg' });
    sandbox.addProduct({ title: 'Sold Out', tracksInventory: true, totalInventory: 0 });
    sandbox.addProduct({ title: 'Draft', status: 'DRAFT' });
    const { items } = await platform.listProducts();
    expect(items[0]).toMatchObject({
      title: 'Green Tea',
      handle: 'green-tea',
      url: `https://${sandbox.shop}/products/green-tea`,
      imageUrl: 'https://cdn.example.com/green.jpg',
      price: '3.20',
      status: 'active',
      available: true,
    });
    expect(items[1]).toMatchObject({ title: 'Sold Out', available: false, status: 'active' });
    expect(items[2]).toMatchObject({ status: 'draft', available: false });
    expect(items[2]!.url).toBeUndefined();
  });

  it('writes consent with the original event time, and Shopify keeps the newest', async () => {
    sandbox.addCustomer({
      email: 'ann@example.com',
      consent: { state: 'SUBSCRIBED', level: 'SINGLE_OPT_IN', at: new Date('2025-05-01T00:00:00Z') },
    });
    const older = new Date('2025-04-01T00:00:00Z');
    const newer = new Date('2025-05-20T00:00:00Z');
    const results = await platform.pushConsent([
      {
        email: 'ANN@example.com',
        purpose: 'email_marketing',
        state: 'withdrawn',
        level: 'unknown',
        occurredAt: older,
        firstParty: false,
      },
      {
        email: 'nobody@example.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: older,
        firstParty: true,
      },
    ]);
    expect(results[0]).toEqual({ email: 'ann@example.com', ok: true });
    expect(results[1]).toMatchObject({ ok: false, code: 'SHOPIFY.CUSTOMER_NOT_FOUND', retryable: false });
    expect(sandbox.readConsent('ann@example.com')).toMatchObject({ marketingState: 'SUBSCRIBED' }); // older change ignored
    await platform.pushConsent([
      {
        email: 'ann@example.com',
        purpose: 'email_marketing',
        state: 'withdrawn',
        level: 'unknown',
        occurredAt: newer,
        firstParty: false,
      },
    ]);
    expect(sandbox.readConsent('ann@example.com')).toEqual({
      marketingState: 'UNSUBSCRIBED',
      marketingOptInLevel: null,
      consentUpdatedAt: newer,
    });
  });

  it('reports Shopify userErrors per change', async () => {
    sandbox.addCustomer({ email: 'future@example.com' });
    const [result] = await platform.pushConsent([
      {
        email: 'future@example.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'confirmed',
        occurredAt: new Date(clock + 86_400_000),
        firstParty: true,
      },
    ]);
    expect(result).toMatchObject({ ok: false, code: 'SHOPIFY.CONSENT_INVALID', retryable: false });
    expect((result as { message: string }).message).toMatch(/future/);
  });

  it('erases a customer in Shopify', async () => {
    const customer = sandbox.addCustomer({ email: 'gone@example.com' });
    await platform.eraseCustomer({ email: 'gone@example.com' });
    expect(sandbox.state.erasureRequests.map((r) => r.customerId)).toEqual([customer.id]);
    expect(sandbox.readConsent('gone@example.com')).toBeNull();
    await expect(platform.eraseCustomer({ email: 'gone@example.com' })).resolves.toBeUndefined();
  });

  it('sends only documents from queries.ts', async () => {
    sandbox.addCustomer({ email: 'a@example.com' });
    await platform.listCustomers();
    await platform.listOrders();
    await platform.listProducts();
    await platform.pushConsent([
      {
        email: 'a@example.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: new Date(clock - 1000),
        firstParty: true,
      },
    ]);
    await collect(platform.streamAllOrders());
    const known = new Set(Object.values(allDocuments));
    expect(sandbox.requests.length).toBeGreaterThan(5);
    for (const request of sandbox.requests) expect(known.has(request.document)).toBe(true);
  });
});

describe('pacing and retries', () => {
  it('paces to the bucket the shop reports and is never throttled', async () => {
    const { sandbox, platform } = setup({ bucket: { maximumAvailable: 120, restoreRate: 10 } });
    for (let i = 0; i < 30; i++) sandbox.addCustomer({ email: `c${i}@example.com` });
    const start = clock;
    for (let i = 0; i < 8; i++) await platform.listCustomers({ limit: 10 });
    const outcomes = sandbox.requests.map((r) => r.outcome);
    expect(outcomes.every((o) => o === 'ok')).toBe(true);
    // 8 pages of 52 requested (32 actual: these customers have no phone or address) from a bucket of 120
    // restoring 10/s: at least (8 × 32 − 120) / 10 = 13.6 s of waiting.
    expect(clock - start).toBeGreaterThan(13_000);
  });

  it('retries THROTTLED, 429 and 5xx, then succeeds', async () => {
    const { sandbox, platform } = setup();
    sandbox.addProduct({ title: 'X' });
    sandbox.failNext({ graphqlThrottled: true });
    sandbox.failNext({ status: 429, retryAfter: 2 });
    sandbox.failNext({ status: 503 });
    const start = clock;
    const { items } = await platform.listProducts();
    expect(items).toHaveLength(1);
    expect(sandbox.requests.map((r) => r.outcome)).toEqual(['fault', 'fault', 'fault', 'ok']);
    expect(clock - start).toBeGreaterThanOrEqual(2000); // honoured Retry-After
  });

  it('gives up with a retryable TactfulError when 5xx persists, and a non-retryable one on 4xx', async () => {
    const { sandbox, platform } = setup();
    sandbox.failNext({ status: 500 }, 10);
    const error = await platform.listCustomers().catch((e: unknown) => e);
    expect(isTactfulError(error, 'SHOPIFY.UNAVAILABLE')).toBe(true);
    expect(error).toMatchObject({ retryable: true, status: 500 });
    sandbox.clearFaults();
    sandbox.failNext({ status: 400 });
    const bad = await platform.listCustomers().catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: 'SHOPIFY.BAD_REQUEST', retryable: false, status: 400 });
    const unauthorized = await createShopifyPlatform({ shop: sandbox.shop, accessToken: 'shpat_wrong', sleep })
      .listCustomers()
      .catch((e: unknown) => e);
    expect(unauthorized).toMatchObject({ code: 'SHOPIFY.UNAUTHORIZED', retryable: false, status: 401 });
  });
});

describe('bulk order import', () => {
  it('streams every order equal to paging through listOrders', async () => {
    const { sandbox, platform } = setup();
    seedFromGroceries(sandbox, groceries, { orders: 120 });
    const streamed = await collect(platform.streamAllOrders());
    const paged: OrderRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await platform.listOrders({ cursor });
      paged.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(streamed).toHaveLength(120);
    expect(streamed).toEqual(paged);
  });

  it('streams end to end: stopping early reads only a window of the result (sandbox.fetch, no msw tee)', async () => {
    const sandbox = createShopifySandbox({ now: () => new Date(clock) });
    seedFromGroceries(sandbox, groceries, { orders: 6000 });
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      fetch: sandbox.fetch,
      sleep,
      now,
      bulk: { window: 100 },
    });
    let taken = 0;
    for await (const order of platform.streamAllOrders()) {
      expect(order.lines.length).toBeGreaterThan(0);
      if (++taken === 10) break;
    }
    const totalLines = 6000 + [...sandbox.state.orders.byId.values()].reduce((n, o) => n + o.lines.length, 0);
    expect(sandbox.stats.bulkLinesServed).toBeGreaterThan(0);
    expect(sandbox.stats.bulkLinesServed).toBeLessThan(totalLines / 5);
  });

  it('reassembles children that do not follow their parent directly', async () => {
    const { sandbox, platform } = setup({ ungroupedChildDelay: 5 });
    seedFromGroceries(sandbox, groceries, { orders: 60 });
    const streamed = await collect(platform.streamAllOrders());
    expect(streamed).toHaveLength(60);
    for (const order of streamed)
      expect(order.lines.length).toBe(sandbox.state.orders.get(order.id)!.lines.filter((l) => l.productId).length);
  });

  it('refuses to lose children that arrive after the window, with a clear error', async () => {
    const { sandbox, platform } = setup({ ungroupedChildDelay: 5 }, { bulk: { window: 2, pollIntervalMs: 10 } });
    seedFromGroceries(sandbox, groceries, { orders: 20 });
    await expect(collect(platform.streamAllOrders())).rejects.toMatchObject({ code: 'SHOPIFY.BULK_ORDERING' });
  });

  it('resumes after a crash mid-import: no order twice, none missing', async () => {
    const checkpoints = memoryCheckpointStore();
    const { sandbox, platform } = setup({}, { checkpoints });
    seedFromGroceries(sandbox, groceries, { orders: 300 });
    const delivered: string[] = [];
    let n = 0;
    await expect(
      (async () => {
        for await (const order of platform.streamAllOrders()) {
          if (++n === 137) throw new Error('crash');
          delivered.push(order.id);
        }
      })(),
    ).rejects.toThrow('crash');
    expect(delivered).toHaveLength(136);
    expect(checkpoints.current()).toMatchObject({ status: 'streaming', delivered: 136 });
    const runs = sandbox.state.bulkOperations.size;
    // a new process: same checkpoint store, new platform
    const again = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      sleep,
      now,
      checkpoints,
      bulk: { pollIntervalMs: 1 },
    });
    for await (const order of again.streamAllOrders()) delivered.push(order.id);
    expect(sandbox.state.bulkOperations.size).toBe(runs); // the same operation's result was read again
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.sort()).toEqual([...sandbox.state.orders.byId.keys()].sort());
    expect(checkpoints.current()?.status).toBe('done');
  });

  it('resumes waiting on the same operation when the crash came before it finished', async () => {
    const checkpoints = memoryCheckpointStore();
    const { sandbox, platform } = setup({ bulkPollsToComplete: 3 }, { checkpoints });
    seedFromGroceries(sandbox, groceries, { orders: 10 });
    const controller = new AbortController();
    const iterator = platform.streamAllOrders({ signal: controller.signal })[Symbol.asyncIterator]();
    controller.abort(new Error('shutdown'));
    await expect(iterator.next()).rejects.toThrow('shutdown');
    expect(checkpoints.current()?.status).toBe('running');
    const orders = await collect(platform.streamAllOrders());
    expect(orders).toHaveLength(10);
    expect(sandbox.state.bulkOperations.size).toBe(1);
  });

  it('streams every customer with consent through a bulk operation, equal to listCustomers', async () => {
    const { sandbox, platform } = setup();
    seedFromGroceries(sandbox, groceries, { orders: 200, customers: 40 });
    const streamed = await collect(platform.streamAllCustomers());
    const paged = await platform.listCustomers({ limit: 250 });
    expect(streamed).toHaveLength(40);
    expect(streamed).toEqual(paged.items);
    expect(new Set(streamed.map((c) => c.emailConsent?.state ?? 'undeliverable'))).toEqual(
      new Set(['granted', 'none', 'withdrawn', 'pending', 'undeliverable']),
    );
  });

  it('a second bulk query while one runs is refused as BULK_BUSY (retryable)', async () => {
    const { sandbox, platform } = setup({ bulkPollsToComplete: 50 });
    seedFromGroceries(sandbox, groceries, { orders: 5 });
    await platform.client.request(BULK_RUN, { query: BULK_ORDERS_QUERY, groupObjects: false });
    await expect(collect(platform.streamAllCustomers())).rejects.toMatchObject({
      code: 'SHOPIFY.BULK_BUSY',
      retryable: true,
    });
  });

  it('gives up waiting after bulk.timeoutMs with a retryable error, and the next run waits for the same operation', async () => {
    const checkpoints = memoryCheckpointStore();
    const { sandbox, platform } = setup(
      { bulkPollsToComplete: 100 },
      { checkpoints, bulk: { pollIntervalMs: 1000, timeoutMs: 30_000 } },
    );
    seedFromGroceries(sandbox, groceries, { orders: 3 });
    await expect(collect(platform.streamAllOrders())).rejects.toMatchObject({
      code: 'SHOPIFY.BULK_TIMEOUT',
      retryable: true,
    });
    const patient = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      sleep,
      now,
      checkpoints,
      bulk: { pollIntervalMs: 1000 },
    });
    expect(await collect(patient.streamAllOrders())).toHaveLength(3);
    expect(sandbox.state.bulkOperations.size).toBe(1);
  });

  it('a failed bulk operation is reported, and the next import starts a new one', async () => {
    const checkpoints = memoryCheckpointStore();
    const { sandbox, platform } = setup({}, { checkpoints });
    seedFromGroceries(sandbox, groceries, { orders: 5 });
    sandbox.failNextBulkOperation('INTERNAL_SERVER_ERROR');
    await expect(collect(platform.streamAllOrders())).rejects.toMatchObject({
      code: 'SHOPIFY.BULK_FAILED',
      retryable: true,
    });
    expect(await collect(platform.streamAllOrders())).toHaveLength(5);
    expect(sandbox.state.bulkOperations.size).toBe(2);
  });
});
