// src/conformance.live.test.ts: the same suite against a real development account, only when credentials are set.
import { describe, it } from 'vitest';
import { describeCommercePlatform, type CommercePlatformOracle } from '@tactful/core/testing';
import { createAcmePlatform } from './01-platform.js';

const token = process.env.ACME_TOKEN;
const baseUrl = process.env.ACME_URL ?? 'https://api.acme.example';

/** The oracle talks to the account's API directly (admin endpoints), never through the adapter. */
async function acme<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const liveOracle: CommercePlatformOracle = {
  seedCustomer: async ({ email, consent }) => {
    const newsletter =
      consent && consent.state !== 'none'
        ? { subscribed: consent.state === 'granted', changed_at: consent.occurredAt.toISOString() }
        : null;
    const created = await acme<{ id: number }>('POST', '/customers', { email, newsletter });
    return { id: String(created.id) };
  },
  seedProduct: async ({ title, price }) => ({
    id: String((await acme<{ id: number }>('POST', '/products', { name: title, price: price ?? null })).id),
  }),
  seedOrder: async ({ customerId, email, createdAt, cancelledAt, lines }) => {
    const items = lines.map((l) => ({ product_id: Number(l.productId), qty: l.quantity }));
    const created = await acme<{ id: number }>('POST', '/orders', {
      customer_id: customerId ? Number(customerId) : null,
      email,
      created_at: createdAt,
      cancelled_at: cancelledAt ?? null,
      items,
    });
    return { id: String(created.id) };
  },
  readConsent: async (email) => {
    const [c] = await acme<Array<{ newsletter: { subscribed: boolean; changed_at: string } | null }>>(
      'GET',
      `/customers?email=${encodeURIComponent(email)}`,
    );
    return c?.newsletter
      ? { state: c.newsletter.subscribed ? 'granted' : 'withdrawn', occurredAt: new Date(c.newsletter.changed_at) }
      : null;
  },
  customerExists: async (email) =>
    (await acme<unknown[]>('GET', `/customers?email=${encodeURIComponent(email)}`)).length > 0,
  // A live account cannot be told to fail: the fault tests are skipped below (their names are checked by the compiler).
  injectFault: async () => {
    throw new Error('a live account cannot inject faults');
  },
  clearFaults: async () => undefined,
};

if (token) {
  describeCommercePlatform({
    name: 'acme (live development account)',
    create: async () => ({ platform: createAcmePlatform({ baseUrl, token }), oracle: liveOracle }),
    skip: { retryableErrors: true, validationErrorNotRetryable: true },
  });
} else {
  describe('acme (live)', () =>
    it.skip('set ACME_TOKEN (and ACME_URL) to run the suite against a development account', () => undefined));
}
