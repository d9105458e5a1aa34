import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTactfulError } from '@tactful/core';
import { createShopifyPlatform } from '../platform.js';
import {
  createShopifyFaultPlan,
  createShopifySandbox,
  serveShopifySandbox,
  shopifySandboxFetch,
  type SandboxHttpHost,
} from './index.js';

describe('shopify fault plan', () => {
  it('draws the same faults for the same seed, and counts them', () => {
    const draws = (seed: number) => {
      const plan = createShopifyFaultPlan({ seed, rate: 0.3, kinds: ['rate_limit', 'server_error', 'timeout'] });
      const out = Array.from({ length: 200 }, () =>
        plan.draw(['rate_limit', 'server_error', 'timeout', 'connection_reset']),
      );
      return { out, plan };
    };
    const a = draws(7);
    const b = draws(7);
    const c = draws(8);
    expect(a.out).toEqual(b.out);
    expect(a.out).not.toEqual(c.out);
    const injected = a.out.filter((k) => k !== null);
    expect(injected.length).toBeGreaterThan(30);
    expect(injected.length).toBeLessThan(100);
    expect(injected).not.toContain('connection_reset'); // not in the plan's kinds
    expect(a.plan.total()).toBe(injected.length);
    expect(a.plan.counts().rate_limit).toBe(injected.filter((k) => k === 'rate_limit').length);
  });

  it('draws nothing while paused', () => {
    const plan = createShopifyFaultPlan({ seed: 1, rate: 1 });
    plan.pause();
    expect(plan.draw(['server_error'])).toBeNull();
    plan.resume();
    expect(plan.draw(['server_error'])).toBe('server_error');
  });

  it('refuses a bad plan, naming every problem', () => {
    try {
      createShopifyFaultPlan({ seed: 1.5, rate: 2, kinds: ['nope' as never] });
      expect.unreachable();
    } catch (error) {
      expect(isTactfulError(error, 'CONFIG.INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/seed.*rate.*kinds/s);
    }
  });
});

describe('shopify sandbox over loopback HTTP with seeded faults', () => {
  const sandbox = createShopifySandbox({
    shop: 'faulty.myshopify.com',
    bucket: { maximumAvailable: 100_000, restoreRate: 10_000 },
  });
  let host: SandboxHttpHost;
  beforeAll(async () => {
    for (let i = 0; i < 120; i++)
      sandbox.addCustomer({ email: `c${i}@example.com`, consent: { state: i % 2 ? 'SUBSCRIBED' : 'NOT_SUBSCRIBED' } });
    host = await serveShopifySandbox(sandbox);
  });
  afterAll(() => host.close());

  it('the adapter reads every customer through 429s, 5xx, throttles, timeouts and connection resets', async () => {
    const plan = createShopifyFaultPlan({
      seed: 42,
      rate: 0.5,
      kinds: [
        'rate_limit',
        'rate_limit_no_retry_after',
        'server_error',
        'graphql_throttled',
        'timeout',
        'connection_reset',
      ],
      retryAfterSeconds: 0,
      holdMs: 400,
    });
    sandbox.setFaultPlan(plan);
    const platform = createShopifyPlatform({
      shop: sandbox.shop,
      accessToken: sandbox.accessToken,
      pageSize: 10,
      retry: { maxAttempts: 20, baseDelayMs: 1, maxDelayMs: 5 },
      fetch: shopifySandboxFetch(host.url, { timeoutMs: 200 }),
    });
    const emails: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await platform.listCustomers({ cursor, limit: 10 });
      emails.push(...page.items.map((c) => c.email ?? ''));
      cursor = page.nextCursor;
    } while (cursor);
    sandbox.setFaultPlan(null);
    await new Promise((resolve) => setTimeout(resolve, 500)); // held (timed-out) requests end after holdMs
    expect(new Set(emails).size).toBe(120);
    const counts = plan.counts();
    expect(plan.total()).toBeGreaterThan(5);
    expect(counts.connection_reset + counts.timeout).toBeGreaterThan(0);
    expect(host.stats.dropped).toBe(counts.connection_reset + counts.timeout);
  });

  it('delivers webhooks twice, out of order and for unknown shops when the plan says so', async () => {
    const received: Array<{ shop: string; id: string; topic: string }> = [];
    const receiver = http.createServer((req, res) => {
      received.push({
        shop: String(req.headers['x-shopify-shop-domain']),
        id: String(req.headers['x-shopify-webhook-id']),
        topic: String(req.headers['x-shopify-topic']),
      });
      req.resume();
      req.on('end', () => res.writeHead(200).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    const plan = createShopifyFaultPlan({
      seed: 3,
      rate: 0.6,
      kinds: ['webhook_duplicate', 'webhook_reorder', 'webhook_unknown_shop'],
    });
    sandbox.setFaultPlan(plan);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++)
      ids.push((await sandbox.deliverWebhook('customers/update', '{"id":1}', url)).webhookId);
    await sandbox.flushWebhooks();
    sandbox.setFaultPlan(null);
    receiver.close();
    const counts = plan.counts();
    const ours = received.filter((r) => r.shop === sandbox.shop);
    const others = received.filter((r) => r.shop !== sandbox.shop);
    // every delivery arrived at least once; duplicates carry the same id
    expect(new Set(ours.map((r) => r.id))).toEqual(new Set(ids));
    expect(ours.length).toBe(ids.length + counts.webhook_duplicate);
    expect(others.length).toBe(counts.webhook_unknown_shop);
    expect(others.every((r) => /^unknown-.*\.myshopify\.com$/.test(r.shop))).toBe(true);
    // a reordered delivery arrives after a later one
    expect(counts.webhook_reorder).toBeGreaterThan(0);
    const order = ours.map((r) => ids.indexOf(r.id));
    expect(order.some((v, i) => i > 0 && v < order[i - 1]!)).toBe(true);
  });
});
