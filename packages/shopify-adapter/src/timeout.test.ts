import { describe, expect, it } from 'vitest';
import { createShopifyPlatform } from './platform.js';
import { createShopifySandbox } from './testing/index.js';

describe('request timeout', () => {
  it('a call Shopify never answers is abandoned after timeoutMs, retried, then a retryable SHOPIFY.TIMEOUT', async () => {
    let calls = 0;
    // A connection that hangs: it answers only by failing when the request is aborted.
    const hanging = (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        calls += 1;
        init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      });
    const platform = createShopifyPlatform({
      shop: 'hang.myshopify.com',
      accessToken: 'shpat_x',
      fetch: hanging,
      timeoutMs: 100,
      retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
      sleep: async () => undefined,
    });
    const started = Date.now();
    await expect(platform.listCustomers({ limit: 5 })).rejects.toMatchObject({
      code: 'SHOPIFY.TIMEOUT',
      retryable: true,
    });
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a call that answers in time is unaffected, and a bad timeout is refused', async () => {
    const sandbox = createShopifySandbox({ shop: 'ok.myshopify.com' });
    sandbox.addCustomer({ email: 'ada@example.com' });
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      fetch: sandbox.fetch,
      timeoutMs: 5_000,
    });
    expect((await platform.listCustomers({ limit: 5 })).items.map((c) => c.email)).toEqual(['ada@example.com']);
    expect(() => createShopifyPlatform({ shop: sandbox.shop, accessToken: sandbox.accessToken, timeoutMs: 0 })).toThrow(
      /timeoutMs/,
    );
  });
});
