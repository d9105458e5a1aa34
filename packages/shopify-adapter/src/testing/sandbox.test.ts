import { readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySandbox, seedFromGroceries, seedFromOrdersCsv } from './index.js';
import { readGroceries } from '../../../../test/support/groceries.js';

const groceries = readGroceries();

const sandbox = createShopifySandbox({
  shop: 'sandbox-test.myshopify.com',
  bucket: { maximumAvailable: 1000, restoreRate: 50 },
});
const server = setupServer(...sandbox.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
// A test's own shop (server.use) answers before the shared one, its bulk result URLs too: it goes after the test.
afterEach(() => {
  sandbox.clearFaults();
  server.resetHandlers();
});
afterAll(() => server.close());

async function gql(
  query: string,
  variables: Record<string, unknown> = {},
  token = sandbox.accessToken,
  shop: { adminUrl: string } = sandbox,
) {
  const response = await fetch(`${shop.adminUrl}/admin/api/2025-10/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any; extensions?: any } };
}

describe('shopify sandbox', () => {
  it('answers a valid query in the schema shape, with cost and throttle status', async () => {
    const customer = sandbox.addCustomer({
      email: 'Ada@Example.com',
      firstName: 'Ada',
      consent: { state: 'SUBSCRIBED', level: 'CONFIRMED_OPT_IN', at: new Date('2025-02-01T10:00:00Z') },
    });
    const { status, body } = await gql(
      `{ customers(first: 5) { nodes { id defaultEmailAddress { emailAddress } emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt } } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customers.nodes[0]).toEqual({
      id: `gid://shopify/Customer/${customer.id}`,
      defaultEmailAddress: { emailAddress: 'ada@example.com' },
      emailMarketingConsent: {
        marketingState: 'SUBSCRIBED',
        marketingOptInLevel: 'CONFIRMED_OPT_IN',
        consentUpdatedAt: '2025-02-01T10:00:00Z',
      },
    });
    expect(body.extensions.cost.requestedQueryCost).toBe(2 + 5 * 3); // first: 5 customers × (customer + 2 objects)
    expect(body.extensions.cost.actualQueryCost).toBe(2 + 1 * 3); // one customer came back: the rest is refunded
    expect(body.extensions.cost.throttleStatus.maximumAvailable).toBe(1000);
  });

  it('refuses a document that does not validate against the 2025-10 schema', async () => {
    const { status, body } = await gql(`{ customers(first: 5) { nodes { id notAField } } }`);
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors[0]).toMatchObject({
      message: "Field 'notAField' doesn't exist on type 'Customer'",
      extensions: { code: 'undefinedField', typeName: 'Customer', fieldName: 'notAField' },
    });
  });

  it('refuses a connection without first or last, and a query above the max cost', async () => {
    expect((await gql(`{ customers { nodes { id } } }`)).body.errors[0].message).toMatch(/first or last/);
    const costly = await gql(
      `{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id product { id } } } } } }`,
    );
    expect(costly.body.errors[0].extensions.code).toBe('MAX_COST_EXCEEDED');
  });

  it('throttles when the bucket is short and refuses a bad token with 401', async () => {
    // A shop of its own on a stopped clock: its bucket never refills, so throttling does not depend on how fast the
    // machine runs, and the shared shop's bucket stays full for the tests after this one (draining it made them
    // fail on a loaded machine).
    const at = new Date('2026-01-01T00:00:00Z');
    const shop = createShopifySandbox({
      shop: 'throttle.myshopify.com',
      bucket: { maximumAvailable: 1000, restoreRate: 50 },
      now: () => at,
    });
    server.use(...shop.handlers);
    for (let i = 0; i < 100; i++) shop.addProduct({ title: `Throttle ${i}` });
    let throttled = false;
    for (let i = 0; i < 40 && !throttled; i++) {
      const { body } = await gql(`{ products(first: 100) { nodes { id title } } }`, {}, shop.accessToken, shop);
      throttled = body.errors?.[0]?.extensions?.code === 'THROTTLED';
    }
    expect(throttled).toBe(true);
    expect(shop.throttleStatus().currentlyAvailable).toBeLessThan(100);
    expect(sandbox.throttleStatus().currentlyAvailable).toBeGreaterThan(900);
    expect((await gql(`{ shop { name } }`, {}, 'shpat_wrong')).status).toBe(401);
  });

  it('serves injected faults in order', async () => {
    sandbox.failNext({ status: 503 });
    sandbox.failNext({ status: 429, retryAfter: 2 });
    expect((await gql(`{ shop { name } }`)).status).toBe(503);
    expect((await gql(`{ shop { name } }`)).status).toBe(429);
  });

  it('runs a bulk operation: JSONL at the result URL, children with __parentId; one at a time; invalid queries refused', async () => {
    const product = sandbox.addProduct({ title: 'Bulk tea' });
    const order = sandbox.addOrder({ lines: [{ productId: product.id, quantity: 2 }, { productId: product.id }] });
    const run = `mutation R($q: String!) { bulkOperationRunQuery(query: $q, groupObjects: true) { bulkOperation { id status } userErrors { field message code } } }`;
    const invalid = await gql(run, { q: '{ orders { edges { node { id nope } } } }' });
    expect(invalid.body.data.bulkOperationRunQuery.userErrors[0]).toMatchObject({ field: ['query'], code: 'INVALID' });
    const started = await gql(run, {
      q: '{ orders { edges { node { id name lineItems { edges { node { id quantity } } } } } } }',
    });
    const id = started.body.data.bulkOperationRunQuery.bulkOperation.id;
    expect(started.body.data.bulkOperationRunQuery.bulkOperation.status).toBe('CREATED');
    const busy = await gql(run, { q: '{ products { edges { node { id } } } }' });
    expect(busy.body.data.bulkOperationRunQuery.userErrors[0].code).toBe('OPERATION_IN_PROGRESS');
    let op: { status: string; url: string | null; objectCount: string };
    do
      op = (
        await gql(`query P($id: ID!) { node(id: $id) { ... on BulkOperation { status url objectCount } } }`, { id })
      ).body.data.node;
    while (op.status !== 'COMPLETED');
    const lines = (await (await fetch(op.url!)).text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const mine = lines.filter(
      (l) => l.id === `gid://shopify/Order/${order.id}` || l.__parentId === `gid://shopify/Order/${order.id}`,
    );
    expect(mine).toEqual([
      { id: `gid://shopify/Order/${order.id}`, name: order.name },
      {
        id: `gid://shopify/LineItem/${order.lines[0]!.id}`,
        quantity: 2,
        __parentId: `gid://shopify/Order/${order.id}`,
      },
      {
        id: `gid://shopify/LineItem/${order.lines[1]!.id}`,
        quantity: 1,
        __parentId: `gid://shopify/Order/${order.id}`,
      },
    ]);
    expect(Number(op.objectCount)).toBe(lines.length);
  });

  it('applies Shopify consent rules: REDACTED cannot be set, unknown customers are refused', async () => {
    const customer = sandbox.addCustomer({ email: 'rules@example.com' });
    const update = `mutation U($input: CustomerEmailMarketingConsentUpdateInput!) { customerEmailMarketingConsentUpdate(input: $input) { customer { id } userErrors { field message code } } }`;
    const redacted = await gql(update, {
      input: {
        customerId: `gid://shopify/Customer/${customer.id}`,
        emailMarketingConsent: { marketingState: 'REDACTED' },
      },
    });
    expect(redacted.body.data.customerEmailMarketingConsentUpdate.userErrors[0].code).toBe('INCLUSION');
    const unknown = await gql(update, {
      input: { customerId: 'gid://shopify/Customer/1', emailMarketingConsent: { marketingState: 'SUBSCRIBED' } },
    });
    expect(unknown.body.data.customerEmailMarketingConsentUpdate.userErrors[0].field).toEqual(['input', 'customerId']);
    expect(sandbox.readConsent('rules@example.com')?.marketingState).toBe('NOT_SUBSCRIBED');
  });

  it('pages by other sort keys (and the schema default PROCESSED_AT) without gaps or duplicates', async () => {
    const shop = createShopifySandbox({ shop: 'sorting.myshopify.com' });
    server.use(...shop.handlers);
    const made = [5, 1, 4, 2, 3].map((day) =>
      shop.addOrder({ createdAt: new Date(Date.UTC(2025, 0, day)), lines: [] }),
    );
    const byDay = [...made]
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((o) => `gid://shopify/Order/${o.id}`);
    const call = async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${shop.adminUrl}/admin/api/2025-10/graphql.json`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': shop.accessToken },
        body: JSON.stringify({ query, variables }),
      });
      return (
        (await response.json()) as {
          data: { orders: { nodes: Array<{ id: string }>; pageInfo: { hasNextPage: boolean; endCursor: string } } };
        }
      ).data.orders;
    };
    for (const sortKey of ['CREATED_AT', null]) {
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page = await call(
          `query O($after: String, $sortKey: OrderSortKeys) { orders(first: 2, after: $after, sortKey: $sortKey) { nodes { id } pageInfo { hasNextPage endCursor } } }`,
          { after, ...(sortKey ? { sortKey } : {}) },
        );
        seen.push(...page.nodes.map((n) => n.id));
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(byDay);
    }
  });

  it('seeds from Groceries and from the Shopify orders export', () => {
    const shop = createShopifySandbox();
    const summary = seedFromGroceries(shop, groceries, { orders: 500 });
    expect(summary).toMatchObject({ orders: 500, products: 169 });
    expect(shop.state.orders.size).toBe(500);
    const csv = createShopifySandbox();
    const ordersExport = new URL('../../test-data/orders_export_sample.csv', import.meta.url);
    const fromCsv = seedFromOrdersCsv(csv, readFileSync(ordersExport, 'utf8'));
    expect(fromCsv.orders).toBe(19);
    expect(csv.state.orders.size).toBe(19);
    expect(fromCsv.lines).toBeGreaterThanOrEqual(19);
  });

  it('seeding from Groceries without its files says which file is missing and adds nothing', () => {
    const shop = createShopifySandbox();
    expect(() => seedFromGroceries(shop, { baskets: groceries.baskets, items: '' })).toThrow(
      /no products in data\.items.*groceries_items\.csv/,
    );
    expect(() => seedFromGroceries(shop, { baskets: '\n', items: groceries.items })).toThrow(
      /no baskets in data\.baskets/,
    );
    expect(shop.state.products.size + shop.state.customers.size + shop.state.orders.size).toBe(0);
  });
});
