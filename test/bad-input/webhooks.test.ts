/**
 * Bad input at the webhook doors: forged and missing Shopify HMACs, wrong Mailchimp secrets, malformed and
 * oversize bodies, wrong content types, missing headers. Each gets a clear status, and nothing is stored:
 * every table's row count and both chains' heads are the same after.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIENCE,
  HOSTILE,
  MAILCHIMP_SECRET,
  SHOP,
  SHOPIFY_SECRET,
  snapshot,
  startHarness,
  type Harness,
} from './harness.js';
import { shopifyDataPath } from '@tactful/shopify/testing';
import { mailchimpDataPath } from '@tactful/mailchimp/testing';
import { rawStore } from '@tactful/core/testing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const sign = (body: string | Buffer, secret = SHOPIFY_SECRET) =>
  createHmac('sha256', secret).update(body).digest('base64');
const orderBody = JSON.stringify(
  JSON.parse(readFileSync(shopifyDataPath('webhooks/orders__create.json'), 'utf8')).response,
);
const mailchimpSamples = (
  JSON.parse(readFileSync(mailchimpDataPath('webhook_samples.json'), 'utf8')) as {
    samples: Array<{ type?: string; raw_body: string }>;
  }
).samples;
/** Mailchimp's real subscribe body, and the real body without `type` (which must be refused). */
const mailchimpSubscribe = mailchimpSamples.find((s) => s.type === 'subscribe')!.raw_body;
const mailchimpUntyped = mailchimpSamples.find((s) => !/(^|&)type=/.test(s.raw_body))!.raw_body;

function shopifyHeaders(
  body: string | Buffer,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-shopify-topic': 'orders/create',
    'x-shopify-shop-domain': SHOP,
    'x-shopify-webhook-id': `wh-${Math.random().toString(36).slice(2)}`,
    'x-shopify-hmac-sha256': sign(body),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined));
}

interface Case {
  name: string;
  path: string;
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  says?: RegExp;
}

const big = Buffer.alloc(3 * 1024 * 1024, 'a');
const shopifyCases: Case[] = [
  {
    name: 'no HMAC header',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-hmac-sha256': undefined }),
    status: 401,
    says: /HMAC validation failed/,
  },
  {
    name: 'empty HMAC header',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-hmac-sha256': '' }),
    status: 401,
    says: /HMAC validation failed/,
  },
  {
    name: 'HMAC signed with another secret',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-hmac-sha256': sign(orderBody, 'not-the-secret') }),
    status: 401,
    says: /HMAC/,
  },
  {
    name: 'HMAC of another body',
    path: '/shopify/webhooks',
    body: orderBody.replace('"jon@example.com"', '"eve@example.com"'),
    headers: shopifyHeaders(orderBody),
    status: 401,
    says: /HMAC/,
  },
  {
    name: 'HMAC in hex instead of base64',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, {
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(orderBody).digest('hex'),
    }),
    status: 401,
  },
  {
    name: 'HMAC truncated',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-hmac-sha256': sign(orderBody).slice(0, 20) }),
    status: 401,
  },
  {
    name: 'HMAC header with SQL in it',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-hmac-sha256': HOSTILE[1] }),
    status: 401,
  },
  {
    name: 'signed, but no topic',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-topic': undefined }),
    status: 400,
    says: /X-Shopify-Topic/,
  },
  {
    name: 'signed, but no webhook id',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-webhook-id': undefined }),
    status: 400,
    says: /X-Shopify-Webhook-Id/,
  },
  {
    name: 'signed, shop domain with SQL',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-shop-domain': `x.myshopify.com'; drop table inbox; --` }),
    status: 400,
    says: /X-Shopify-Shop-Domain/,
  },
  {
    name: 'signed, shop domain not myshopify.com',
    path: '/shopify/webhooks',
    body: orderBody,
    headers: shopifyHeaders(orderBody, { 'x-shopify-shop-domain': 'evil.example.com' }),
    status: 400,
  },
  {
    name: 'signed, malformed JSON',
    path: '/shopify/webhooks',
    body: '{"id": 1, "email": ',
    headers: shopifyHeaders('{"id": 1, "email": '),
    status: 400,
    says: /not JSON/,
  },
  {
    name: 'signed, JSON that is not an object',
    path: '/shopify/webhooks',
    body: '[1,2,3]',
    headers: shopifyHeaders('[1,2,3]'),
    status: 400,
  },
  {
    name: 'signed, an order without an id',
    path: '/shopify/webhooks',
    body: '{"email":"a@example.com"}',
    headers: shopifyHeaders('{"email":"a@example.com"}'),
    status: 400,
    says: /lacks id, line_items/,
  },
  {
    name: 'signed, wrong content type and a body that is not JSON',
    path: '/shopify/webhooks',
    body: 'id=1&email=a%40example.com',
    headers: shopifyHeaders('id=1&email=a%40example.com', { 'content-type': 'application/x-www-form-urlencoded' }),
    status: 400,
  },
  {
    name: 'signed, but over the 2 MB limit',
    path: '/shopify/webhooks',
    body: big,
    headers: shopifyHeaders(big),
    status: 413,
  },
  {
    name: 'unsigned and over the limit',
    path: '/shopify/webhooks',
    body: big,
    headers: shopifyHeaders(big, { 'x-shopify-hmac-sha256': undefined }),
    status: 413,
  },
  { name: 'GET on the webhook URL', path: '/shopify/webhooks', method: 'GET', status: 404 },
];

const mailchimpCases: Case[] = [
  {
    name: 'wrong secret in the URL (POST)',
    path: '/mailchimp/webhooks/wrong-secret-wrong-secret-wrong-secret-00',
    body: mailchimpSubscribe,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
  },
  {
    name: 'the secret with one character changed',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET.slice(0, -1)}X`,
    body: mailchimpSubscribe,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
  },
  {
    name: 'a prefix of the secret',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET.slice(0, 10)}`,
    body: mailchimpSubscribe,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
  },
  {
    name: 'no secret at all',
    path: '/mailchimp/webhooks/',
    body: mailchimpSubscribe,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
  },
  {
    name: 'SQL in the secret',
    path: `/mailchimp/webhooks/${encodeURIComponent(HOSTILE[1])}`,
    body: mailchimpSubscribe,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 404,
  },
  {
    name: 'right secret, a body without type',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: mailchimpUntyped,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
    says: /MAILCHIMP.WEBHOOK_INVALID/,
  },
  {
    name: 'right secret, an unknown type',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: 'type=drop_table&data%5Bemail%5D=mc%40example.com',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
    says: /MAILCHIMP.WEBHOOK_INVALID/,
  },
  {
    name: 'right secret, a subscribe with an address that is not one',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: `type=subscribe&fired_at=2026-05-01+10%3A00%3A00&data%5Bemail%5D=${encodeURIComponent(HOSTILE[0])}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
  },
  {
    name: 'right secret, a JSON body instead of a form',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: JSON.stringify({ type: 'subscribe', data: { email: 'mc@example.com' } }),
    headers: { 'content-type': 'application/json' },
    status: 400,
  },
  {
    name: 'right secret, an empty body',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: '',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 400,
  },
  {
    name: 'right secret, over the 100 kB limit',
    path: `/mailchimp/webhooks/${MAILCHIMP_SECRET}`,
    body: `type=subscribe&data%5Bemail%5D=${'a'.repeat(200_000)}%40example.com`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 413,
  },
];

async function send(c: Case): Promise<{ status: number; text: string }> {
  const res = await fetch(h.url(c.path), {
    method: c.method ?? 'POST',
    ...(c.body !== undefined ? { body: c.body } : {}),
    headers: c.headers ?? {},
  });
  return { status: res.status, text: await res.text() };
}

describe.each([
  ['Shopify', shopifyCases],
  ['Mailchimp', mailchimpCases],
])('%s webhooks: bad input is refused and stores nothing', (_system, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await snapshot(h.store);
    const { status, text } = await send(c);
    expect(status).toBe(c.status);
    if (c.says) expect(text).toMatch(c.says);
    expect(text).not.toContain('<script>alert');
    expect(await snapshot(h.store)).toEqual(before);
  });
});

describe('the same doors accept good input (so the refusals above are not a door that is always shut)', () => {
  it('a correctly signed order and a Mailchimp subscribe at the secret URL are stored once each', async () => {
    const [inboxBefore] = await rawStore(h.store).query<{ n: number }>('select count(*)::int as n from inbox');
    const id = 'wh-good-1';
    const ok = await fetch(h.url('/shopify/webhooks'), {
      method: 'POST',
      body: orderBody,
      headers: shopifyHeaders(orderBody, { 'x-shopify-webhook-id': id }),
    });
    expect(ok.status).toBe(200);
    const replay = await fetch(h.url('/shopify/webhooks'), {
      method: 'POST',
      body: orderBody,
      headers: shopifyHeaders(orderBody, { 'x-shopify-webhook-id': id }),
    });
    expect(await replay.text()).toBe('duplicate');
    // Mailchimp signs nothing: a subscribe is stored only as the audience confirms it (the sample's member).
    h.mailchimp.seedMember('agentsmith@snowplowtest.com', 'subscribed', { listId: AUDIENCE });
    const mc = await fetch(h.url(`/mailchimp/webhooks/${MAILCHIMP_SECRET}`), {
      method: 'POST',
      body: mailchimpSubscribe,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(mc.status).toBe(200);
    const [inboxAfter] = await rawStore(h.store).query<{ n: number }>('select count(*)::int as n from inbox');
    expect(inboxAfter!.n - inboxBefore!.n).toBe(2);
  });
});

describe('signed deliveries whose content the database cannot hold', () => {
  it('an order with a NUL character is refused for good at processing (kept with the reason, no parameters), stores nothing, and does not hold up the next delivery', async () => {
    const poisoned = JSON.stringify({
      id: 77,
      admin_graphql_api_id: 'gid://shopify/Order/77',
      email: 'nul@example.com',
      created_at: '2026-01-01T00:00:00Z',
      line_items: [{ product_id: 5, title: 'a\u0000b', quantity: 1 }],
    });
    const good = JSON.stringify({
      id: 78,
      admin_graphql_api_id: 'gid://shopify/Order/78',
      email: 'ok@example.com',
      created_at: '2026-01-01T00:00:01Z',
      line_items: [{ product_id: 6, title: 'Tea', quantity: 1 }],
    });
    await h.tactful.processInbox();
    for (const [id, body] of [
      ['nul-1', poisoned],
      ['nul-2', good],
    ] as const) {
      const res = await fetch(h.url('/shopify/webhooks'), {
        method: 'POST',
        body,
        headers: shopifyHeaders(body, { 'x-shopify-webhook-id': id }),
      });
      expect(res.status).toBe(200);
    }
    const [before] = await rawStore(h.store).query<{ orders: number; products: number }>(
      "select (select count(*)::int from orders where order_id = 'gid://shopify/Order/77' or order_id = '77') as orders, (select count(*)::int from products) as products",
    );
    const report = await h.tactful.processInbox();
    expect(report).toEqual({ processed: 1, failed: 0, refused: 1 });
    const [row] = await rawStore(h.store).query<{
      processed: boolean;
      attempts: number;
      last_error: string;
      payload: unknown;
    }>(
      "select processed_at is not null as processed, attempts, last_error, payload_enc as payload from inbox where delivery_id = 'nul-1'",
    );
    expect(row).toMatchObject({ processed: true, attempts: 1, payload: null });
    expect(row!.last_error).toMatch(/^DATABASE\.22/);
    expect(row!.last_error).not.toContain('nul@example.com');
    const [after] = await rawStore(h.store).query<{ orders: number; products: number }>(
      "select (select count(*)::int from orders where order_id = 'gid://shopify/Order/77' or order_id = '77') as orders, (select count(*)::int from products) as products",
    );
    expect(after!.orders).toBe(before!.orders);
    expect(after!.products).toBe(before!.products + 1);
  });
});
