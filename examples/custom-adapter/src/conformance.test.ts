// The WooCommerce adapter against the published conformance suite, exactly as for Tactful's own adapters.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeCommercePlatform, type CommercePlatformOracle } from '@tactful/core/testing';
import { createWooCommercePlatform, readNewsletter, tactfulToNewsletterState, type NewsletterMeta } from './index.js';
import { createWooCommerceSandbox } from './testing/index.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

const fromNewsletter = { subscribed: 'granted', pending: 'pending', unsubscribed: 'withdrawn' } as const;

describeCommercePlatform({
  name: 'woocommerce (sandbox)',
  async create() {
    const sandbox = createWooCommerceSandbox();
    server.resetHandlers(...sandbox.handlers);
    const platform = createWooCommercePlatform({
      url: sandbox.url,
      consumerKey: sandbox.consumerKey,
      consumerSecret: sandbox.consumerSecret,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      sleep: async () => undefined,
    });
    const oracle: CommercePlatformOracle = {
      async seedCustomer({ email, firstName, lastName, consent }) {
        const meta: Record<string, NewsletterMeta> = {};
        if (consent && consent.state !== 'none') {
          meta.tactful_newsletter = {
            state: tactfulToNewsletterState[consent.state],
            level: consent.level ?? 'unknown',
            updated_at: consent.occurredAt.toISOString(),
          };
        }
        return sandbox.addCustomer({
          email,
          ...(firstName ? { first_name: firstName } : {}),
          ...(lastName ? { last_name: lastName } : {}),
          meta,
        });
      },
      async seedProduct({ title, price }) {
        return sandbox.addProduct({ name: title, ...(price ? { price } : {}) });
      },
      async seedOrder({ customerId, email, createdAt, cancelledAt, lines }) {
        return sandbox.addOrder({
          ...(customerId ? { customer_id: Number(customerId) } : {}),
          email: email ?? null,
          createdAt,
          ...(cancelledAt ? { status: 'cancelled' as const, modifiedAt: cancelledAt } : {}),
          lines: lines.map((l) => ({ product_id: Number(l.productId), quantity: l.quantity })),
        });
      },
      async readConsent(email) {
        const customer = sandbox.customerByEmail(email);
        const held = customer ? readNewsletter(customer, 'tactful_newsletter') : null;
        return held ? { state: fromNewsletter[held.state], occurredAt: new Date(held.updated_at) } : null;
      },
      async customerExists(email) {
        return sandbox.customerByEmail(email) !== null;
      },
      async injectFault(kind, times) {
        sandbox.failNext(
          kind === 'rate_limit'
            ? { status: 429, retryAfter: 0 }
            : kind === 'server_error'
              ? { status: 503 }
              : { status: 400 },
          times,
        );
      },
      async clearFaults() {
        sandbox.clearFaults();
      },
    };
    return { platform, oracle };
  },
});
