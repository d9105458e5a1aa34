import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isTactfulError } from '@tactful/core';
import { createShopifyPlatform } from './index.js';
import { createShopifySandbox } from './testing/index.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup() {
  const sandbox = createShopifySandbox();
  server.use(...sandbox.handlers);
  const platform = createShopifyPlatform({
    shop: sandbox.shop,
    accessToken: sandbox.accessToken,
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
  });
  return { sandbox, platform };
}

describe('updateCustomer (rectification) against the sandbox', () => {
  it('corrects the names by email or by id, clears with null, leaves other fields alone', async () => {
    const { sandbox, platform } = setup();
    expect(platform.capabilities.customerUpdate).toBe(true);
    const ann = sandbox.addCustomer({ email: 'ann@example.com', firstName: 'Anne', lastName: 'Smth', city: 'Paris' });
    await platform.updateCustomer!({ email: 'ANN@example.com', firstName: 'Ann', lastName: 'Smith' });
    expect(ann).toMatchObject({ firstName: 'Ann', lastName: 'Smith', city: 'Paris' });
    await platform.updateCustomer!({ email: 'whatever@example.com', externalId: ann.id, lastName: null });
    expect(ann).toMatchObject({ firstName: 'Ann', lastName: null });
    // Read back through the API as well.
    const { items } = await platform.listCustomers();
    expect(items.find((c) => c.id === ann.id)).toMatchObject({ firstName: 'Ann', lastName: null });
  });

  it('a customer Shopify does not hold is no error and sends no mutation', async () => {
    const { sandbox, platform } = setup();
    await platform.updateCustomer!({ email: 'ghost@example.com', firstName: 'G' });
    expect(sandbox.requests.some((r) => /customerUpdate/.test(JSON.stringify(r)))).toBe(false);
  });

  it('a value Shopify refuses is a clear, non-retryable error', async () => {
    const { sandbox, platform } = setup();
    sandbox.addCustomer({ email: 'long@example.com', firstName: 'L' });
    const error = await platform.updateCustomer!({ email: 'long@example.com', firstName: 'x'.repeat(300) }).catch(
      (e: unknown) => e,
    );
    expect(isTactfulError(error, 'SHOPIFY.CUSTOMER_UPDATE_FAILED')).toBe(true);
    expect((error as { retryable: boolean; message: string }).retryable).toBe(false);
    expect((error as Error).message).toMatch(/firstName: First name is too long/);
  });
});
