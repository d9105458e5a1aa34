import { readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySandbox, seedFromGroceries, seedFromOrdersCsv, sharedDataPath } from './index.js';

const sandbox = createShopifySandbox({ shop: 'sandbox-test.myshopify.com', bucket: { maximumAvailable: 1000, restoreRate: 50 } });
const server = setupServer(...sandbox.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => sandbox.clearFaults());
afterAll(() => server.close());

async function gql(query: string, variables: Record<string, unknown> = {}, token = sandbox.accessToken) {
  const response = await fetch(`${sandbox.adminUrl}/admin/api/2025-10/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any; extensions?: any } };
}

describe('shopify sandbox', () => {
  it('answers a valid query in the schema shape, with cost and throttle status', async () => {
    const customer = sandbox.addCustomer({ email: 'Ada@Example.com', firstName: 'Ada', consent: { state: 'SUBSCRIBED', level: 'CONFIRMED_OPT_IN', at: new Date('2025-02-01T10:00:00Z') } });
    const { status, body } = await gql(`{ customers(first: 5) { nodes { id defaultEmailAddress { emailAddress } emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt } } pageInfo { hasNextPage endCursor } } }`);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.customers.nodes[0]).toEqual({
      id: `gid://shopify/Customer/${customer.id}`,
      defaultEmailAddress: { emailAddress: 'ada@example.com' },
      emailMarketingConsent: { marketingState: 'SUBSCRIBED', marketingOptInLevel: 'CONFIRMED_OPT_IN', consentUpdatedAt: '2025-02-01T10:00:00Z' },
    });
    expect(body.extensions.cost.requestedQueryCost).toBeGreaterThan(0);
    expect(body.extensions.cost.throttleStatus.maximumAvailable).toBe(1000);
  });

  it('refuses a document that does not validate against the 2025-10 schema', async () => {
    const { status, body } = await gql(`{ customers(first: 5) { nodes { id notAField } } }`);
    expect(status).toBe(200);
    expect(body.data).toBeUndefined();
    expect(body.errors[0].message).toMatch(/notAField/);
  });

  it('refuses a connection without first or last, and a query above the max cost', async () => {
    expect((await gql(`{ customers { nodes { id } } }`)).body.errors[0].message).toMatch(/first or last/);
    const costly = await gql(`{ orders(first: 250) { nodes { id lineItems(first: 250) { nodes { id product { id } } } } } }`);
    expect(costly.body.errors[0].extensions.code).toBe('MAX_COST_EXCEEDED');
  });

  it('throttles when the bucket is short and refuses a bad token with 401', async () => {
    let throttled = false;
    for (let i = 0; i < 40 && !throttled; i++) {
      const { body } = await gql(`{ products(first: 100) { nodes { id title } } }`);
      throttled = body.errors?.[0]?.extensions?.code === 'THROTTLED';
    }
    expect(throttled).toBe(true);
    expect((await gql(`{ shop { name } }`, {}, 'shpat_wrong')).status).toBe(401);
  });

  it('serves injected faults in order', async () => {
    sandbox.failNext({ status: 503 });
    sandbox.failNext({ status: 429, retryAfter: 2 });
    expect((await gql(`{ shop { name } }`)).status).toBe(503);
    expect((await gql(`{ shop { name } }`)).status).toBe(429);
  });

  it('seeds from Groceries and from the Shopify orders export', () => {
    const groceries = createShopifySandbox();
    const summary = seedFromGroceries(groceries, { orders: 500 });
    expect(summary).toMatchObject({ orders: 500, products: 169 });
    expect(groceries.state.orders.size).toBe(500);
    const csv = createShopifySandbox();
    const fromCsv = seedFromOrdersCsv(csv, readFileSync(sharedDataPath('shopify/orders_export_sample.csv'), 'utf8'));
    expect(fromCsv.orders).toBe(19);
    expect(csv.state.orders.size).toBe(19);
    expect(fromCsv.lines).toBeGreaterThanOrEqual(19);
  });
});
