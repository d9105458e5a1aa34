import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTactful, type Store } from '@tactful/core';
import { signShopifyBody } from '@tactful/shopify';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { startServer, type RunningServer } from './start.js';
import { rawStore, embeddedTestStore } from '@tactful/core/testing';

const MC_SECRET = 'mailchimp-webhook-secret-0123456789abcdef';
const SHOPIFY_SECRET = 'shopify-client-secret';
let store: Store;
let server: RunningServer;
const logLines: string[] = [];

beforeAll(async () => {
  store = await embeddedTestStore();
  const tactful = await createTactful({ store, shop: 'adapters.myshopify.com' });
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: 'adapter-test-admin-token-0123',
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    MAILCHIMP_WEBHOOK_SECRET: MC_SECRET,
    TACTFUL_RATE_LIMIT: '5',
  });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  server = await startServer(createApp({ tactful, config, logger }), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('mounted adapters', () => {
  it('Shopify webhooks: 401 without a valid HMAC, stored in the inbox with one', async () => {
    const body = JSON.stringify({ id: 1, email: 'x@example.com' });
    const unsigned = await fetch(`${server.url}/shopify/webhooks`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-shopify-hmac-sha256': 'bad' },
    });
    expect(unsigned.status).toBe(401);
    const headers = {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': signShopifyBody(body, SHOPIFY_SECRET),
      'x-shopify-topic': 'customers/redact',
      'x-shopify-shop-domain': 'adapters.myshopify.com',
      'x-shopify-webhook-id': 'wh-1',
    };
    const signed = await fetch(`${server.url}/shopify/webhooks`, {
      method: 'POST',
      body: JSON.stringify({
        shop_id: 1,
        shop_domain: 'adapters.myshopify.com',
        customer: { id: 7, email: 'x@example.com' },
        orders_to_redact: [],
      }),
      headers,
    });
    // The body above differs from the signed one: still refused.
    expect(signed.status).toBe(401);
    const redact = JSON.stringify({
      shop_id: 1,
      shop_domain: 'adapters.myshopify.com',
      customer: { id: 7, email: 'x@example.com' },
      orders_to_redact: [],
    });
    const ok = await fetch(`${server.url}/shopify/webhooks`, {
      method: 'POST',
      body: redact,
      headers: { ...headers, 'x-shopify-hmac-sha256': signShopifyBody(redact, SHOPIFY_SECRET) },
    });
    expect(ok.status).toBe(200);
    const [row] = await rawStore(store).query<{ n: number }>(
      "select count(*)::int as n from inbox where shop_id = 'adapters.myshopify.com' and system = 'shopify'",
    );
    expect(row!.n).toBe(1);
  });

  it('Shopify customers/data_request: processed into a bundle the merchant downloads from the admin, audited', async () => {
    const tactful = await createTactful({ store, shop: 'adapters.myshopify.com' });
    await tactful.consent.record({
      subject: { email: 'ivy@example.com' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: new Date('2026-01-01T00:00:00Z'),
      source: { system: 'cli', eventId: 'ivy-1', method: 'form' },
    });
    const body = JSON.stringify({
      shop_id: 1,
      shop_domain: 'adapters.myshopify.com',
      orders_requested: [],
      customer: { id: 8, email: 'ivy@example.com', phone: null },
      data_request: { id: 9911 },
    });
    const res = await fetch(`${server.url}/shopify/webhooks`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': signShopifyBody(body, SHOPIFY_SECRET),
        'x-shopify-topic': 'customers/data_request',
        'x-shopify-shop-domain': 'adapters.myshopify.com',
        'x-shopify-webhook-id': 'wh-dr-1',
      },
    });
    expect(res.status).toBe(200);
    expect((await tactful.processInbox()).processed).toBeGreaterThanOrEqual(1);
    const auth = { authorization: 'Bearer adapter-test-admin-token-0123' };
    const list = await fetch(`${server.url}/admin/data-requests`, { headers: auth });
    expect(list.status).toBe(200);
    expect(await list.text()).toContain('9911');
    const download = await fetch(`${server.url}/admin/data-requests/9911.json`, { headers: auth });
    expect(download.status).toBe(200);
    expect(await download.text()).toContain('ivy@example.com');
    expect((await fetch(`${server.url}/admin/data-requests/9911.json`)).status).toBe(401);
    expect((await fetch(`${server.url}/admin/data-requests/nope.json`, { headers: auth })).status).toBe(404);
    let audit = '';
    for await (const chunk of tactful.audit.export('jsonl')) audit += chunk;
    expect(audit).toMatch(/"action":"data.exported".*"to":"merchant"/);
  });

  it('Mailchimp webhooks: the secret URL answers, any other is 404, and the secret never reaches the log', async () => {
    expect((await fetch(`${server.url}/mailchimp/webhooks/${MC_SECRET}`)).status).toBe(200);
    expect((await fetch(`${server.url}/mailchimp/webhooks/wrong-secret-wrong-secret-wrong-secret`)).status).toBe(404);
    const all = logLines.join('\n');
    expect(all).toContain('/mailchimp/webhooks/:redacted');
    expect(all).not.toContain(MC_SECRET);
  });
});

describe('rate limits', () => {
  it('public pages answer 429 past the limit per minute; health is not limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await fetch(`${server.url}/subscribe`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // RFC 8058 POSTs come from the mailbox providers' few addresses: they have their own, higher limit.
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${server.url}/unsubscribe?token=forged.token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(res.status).toBe(400);
    }
  });

  it('bodies over the limit are refused with 413', async () => {
    const json = await fetch(`${server.url}/admin/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'x'.repeat(200_000) }),
    });
    expect(json.status).toBe(413);
    const form = await fetch(`${server.url}/admin/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `a=${'x'.repeat(40_000)}`,
    });
    expect(form.status).toBe(413);
  });
});
