// src/conformance.test.ts: the published suite against the sandbox, exactly as Tactful's own adapters run it.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeCommercePlatform } from '@tactful/core/testing';
import { createAcmePlatform } from './01-platform.js';
import { createAcmeSandbox } from './03-sandbox.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeCommercePlatform({
  name: 'acme (sandbox)',
  async create() {
    const sandbox = createAcmeSandbox(); // a fresh store per test
    server.resetHandlers(...sandbox.handlers);
    const platform = createAcmePlatform({ baseUrl: sandbox.baseUrl, token: 'sandbox-token' });
    const find = (email: string) => sandbox.customers.find((c) => c.email.toLowerCase() === email.trim().toLowerCase());
    return {
      platform,
      // The oracle reads and seeds the backing system directly, never through the adapter under test.
      oracle: {
        seedCustomer: async ({ email, consent }) =>
          sandbox.addCustomer(
            email,
            consent && consent.state !== 'none' && consent.state !== 'pending'
              ? { subscribed: consent.state === 'granted', at: consent.occurredAt }
              : null,
          ),
        seedProduct: async ({ title, price }) => sandbox.addProduct(title, price ?? null),
        seedOrder: async ({ customerId, email, createdAt, cancelledAt, lines }) =>
          sandbox.addOrder({
            customerId: customerId ? Number(customerId) : null,
            email: email ?? null,
            createdAt,
            cancelledAt: cancelledAt ?? null,
            items: lines.map((l) => ({ productId: Number(l.productId), qty: l.quantity })),
          }),
        readConsent: async (email) => {
          const n = find(email)?.newsletter;
          return n ? { state: n.subscribed ? 'granted' : 'withdrawn', occurredAt: new Date(n.changed_at) } : null;
        },
        customerExists: async (email) => find(email) !== undefined,
        injectFault: async (kind, times) =>
          sandbox.failNext(kind === 'rate_limit' ? 429 : kind === 'server_error' ? 503 : 400, times),
        clearFaults: async () => sandbox.clearFaults(),
      },
    };
  },
});
