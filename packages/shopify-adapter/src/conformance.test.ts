// The adapter against the published suite, exactly as an agency would run it.
import { setupServer } from 'msw/node';
import { afterAll, beforeAll } from 'vitest';
import { describeCommercePlatform, type CommercePlatformOracle } from '@tactful/core/testing';
import { createShopifyPlatform, tactfulToShopifyLevel, tactfulToShopifyState, mapShopifyConsent } from './index.js';
import { createShopifySandbox } from './testing/index.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describeCommercePlatform({
  name: 'shopify (sandbox)',
  async create() {
    const sandbox = createShopifySandbox();
    server.resetHandlers(...sandbox.handlers);
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
      bulk: { pollIntervalMs: 1 },
      sleep: async () => undefined,
    });
    const oracle: CommercePlatformOracle = {
      async seedCustomer({ email, firstName, lastName, consent }) {
        return sandbox.addCustomer({
          email,
          firstName: firstName ?? null,
          lastName: lastName ?? null,
          ...(consent
            ? {
                consent: {
                  state: tactfulToShopifyState[consent.state],
                  level:
                    consent.state === 'granted' || consent.state === 'pending'
                      ? tactfulToShopifyLevel[consent.level ?? 'unknown']
                      : null,
                  at: consent.occurredAt,
                },
              }
            : {}),
        });
      },
      async seedProduct({ title, price }) {
        return sandbox.addProduct({ title, ...(price ? { price } : {}) });
      },
      async seedOrder({ customerId, email, createdAt, cancelledAt, lines }) {
        return sandbox.addOrder({
          customerId: customerId ?? null,
          email: email ?? null,
          createdAt,
          cancelledAt: cancelledAt ?? null,
          lines,
        });
      },
      async readConsent(email) {
        const held = sandbox.readConsent(email);
        if (!held) return null;
        const mapped = mapShopifyConsent(held.marketingState, held.marketingOptInLevel);
        return mapped.kind === 'consent' ? { state: mapped.state, occurredAt: held.consentUpdatedAt } : null;
      },
      async customerExists(email) {
        return sandbox.readConsent(email) !== null;
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
