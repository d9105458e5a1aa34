import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { Session } from '@shopify/shopify-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { InboundEvent, InboundMeta, InboundSink } from '@tactful/core';
import { memorySessionStorage, shopifyRoutes, signShopifyBody, verifyShopifyHmac } from '../index.js';
import { createShopifySandbox, shopifyDataPath } from '../testing/index.js';

/** The smallest honest sink: stores events, de-duplicates on (system, deliveryId). */
function memorySink(): InboundSink & {
  events: Array<{ shop: string; event: InboundEvent; meta: InboundMeta }>;
  fail: boolean;
} {
  const seen = new Set<string>();
  const sink = {
    events: [] as Array<{ shop: string; event: InboundEvent; meta: InboundMeta }>,
    fail: false,
    async receive(shop: string, event: InboundEvent, meta: InboundMeta) {
      if (sink.fail) throw new Error('database down');
      const key = `${meta.system}:${meta.deliveryId}`;
      if (seen.has(key)) return 'duplicate' as const;
      seen.add(key);
      sink.events.push({ shop, event, meta });
      return 'accepted' as const;
    },
  };
  return sink;
}

const sandbox = createShopifySandbox({ shop: 'hooks.myshopify.com', apiSecret: 'hook-secret' });
const sink = memorySink();
const sessions = memorySessionStorage();
const finished: string[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.use(
    '/shopify',
    shopifyRoutes(sink, {
      apiSecret: ['old-secret', 'hook-secret'],
      shops: [sandbox.shop],
      sessionStorage: sessions,
      onBulkOperationFinish: (_shop, id) => finished.push(id),
    }),
  );
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/shopify/webhooks`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  sink.events.length = 0;
  sink.fail = false;
});

const lastEvent = () => sink.events[sink.events.length - 1]?.event;

describe('HMAC', () => {
  const body = '{"foo": "bar"}';
  const header = 'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=';

  it("passes Shopify's published vector", () => {
    expect(verifyShopifyHmac(body, header, 'test_secret_key')).toBe(true);
    expect(verifyShopifyHmac(Buffer.from(body), header, ['rotated-out', 'test_secret_key'])).toBe(true);
  });

  it('fails when any byte of the body, the header or the secret changes', () => {
    for (let i = 0; i < body.length; i++) {
      const changed = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
      expect(verifyShopifyHmac(changed, header, 'test_secret_key')).toBe(false);
    }
    expect(verifyShopifyHmac(body, header.replace('B', 'C'), 'test_secret_key')).toBe(false);
    expect(verifyShopifyHmac(body, header, 'test_secret_kez')).toBe(false);
    expect(verifyShopifyHmac(body, undefined, 'test_secret_key')).toBe(false);
    expect(verifyShopifyHmac(body, 'short', 'test_secret_key')).toBe(false);
  });

  it('the route accepts the published vector and answers 401 to every one-byte change of it', async () => {
    const app = express();
    app.use(shopifyRoutes(sink, { apiSecret: 'test_secret_key', shops: ['vector.myshopify.com'] }));
    const vectorServer = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => vectorServer.once('listening', resolve));
    const at = `http://127.0.0.1:${(vectorServer.address() as AddressInfo).port}/webhooks`;
    const post = (payload: string) =>
      fetch(at, {
        method: 'POST',
        body: payload,
        headers: {
          'Content-Type': 'application/json',
          'X-Shopify-Hmac-Sha256': header,
          'X-Shopify-Topic': 'shop/update',
          'X-Shopify-Shop-Domain': 'vector.myshopify.com',
          'X-Shopify-Webhook-Id': 'vector',
        },
      });
    try {
      expect((await post(body)).status).toBe(200);
      for (let i = 0; i < body.length; i++) {
        const changed = body.slice(0, i) + String.fromCharCode(body.charCodeAt(i) ^ 1) + body.slice(i + 1);
        expect((await post(changed)).status).toBe(401);
      }
    } finally {
      await new Promise((resolve) => vectorServer.close(resolve));
    }
  });

  it('answers 401 for a changed byte and passes nothing on', async () => {
    const raw = sandbox.webhookBody('shop/redact');
    const good = (await sandbox.deliverWebhook('shop/redact', raw, url)).status;
    expect(good).toBe(200);
    const count = sink.events.length;
    const tampered = raw.replace('"shop_id":', '"shop_id": ');
    const response = await fetch(url, {
      method: 'POST',
      body: tampered,
      headers: {
        'X-Shopify-Topic': 'shop/redact',
        'X-Shopify-Shop-Domain': sandbox.shop,
        'X-Shopify-Webhook-Id': 'tampered-1',
        'X-Shopify-Hmac-Sha256': signShopifyBody(raw, 'hook-secret'), // signed before the byte changed
      },
    });
    expect(response.status).toBe(401);
    expect(sink.events.length).toBe(count);
    expect((await sandbox.deliverWebhook('shop/redact', raw, url, { secret: 'not-the-secret' })).status).toBe(401);
  });
});

describe("webhook samples (the package's data/webhooks)", () => {
  const dir = shopifyDataPath('webhooks');
  const expected: Record<string, InboundEvent['kind'] | null> = {
    'app/uninstalled': 'uninstalled',
    'customers/create': 'customer',
    'customers/update': 'customer',
    'customers/delete': null,
    'customers/data_request': 'data_request',
    'customers/redact': 'erase_customer',
    'shop/redact': 'erase_shop',
    'customers_email_marketing_consent/update': null, // the sample's consent is all null: nothing to record
    'customers_marketing_consent/update': null, // SMS consent is not Tactful's business
    'orders/create': 'order',
    'orders/updated': 'order',
    'orders/paid': 'order',
    'orders/cancelled': 'order',
  };
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('covers all 13 samples', () => {
    expect(files).toHaveLength(13);
  });

  for (const file of files) {
    const sample = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { name: string; response: unknown };
    it(`${sample.name} parses and is acknowledged`, async () => {
      expect(Object.keys(expected)).toContain(sample.name);
      // The samples name their shop as a placeholder; a delivery names the shop it is for.
      const body = JSON.stringify(sample.response)
        .replaceAll('{shop}.myshopify.com', sandbox.shop)
        .replace('"myshopify_domain":null', `"myshopify_domain":"${sandbox.shop}"`);
      const delivered = await sandbox.deliverWebhook(sample.name, body, url);
      expect(delivered.status).toBe(200);
      const kind = expected[sample.name];
      if (kind === null) expect(sink.events).toHaveLength(0);
      else {
        expect(lastEvent()?.kind).toBe(kind);
        expect(sink.events[0]!.meta).toMatchObject({
          system: 'shopify',
          deliveryId: delivered.webhookId,
          topic: sample.name,
        });
      }
    });
  }

  it('orders/create: ids from admin_graphql_api_id, emails lower-cased, times as Dates', async () => {
    const sample = JSON.parse(readFileSync(`${dir}/orders__create.json`, 'utf8')) as {
      response: Record<string, unknown>;
    };
    await sandbox.deliverWebhook('orders/create', JSON.stringify(sample.response), url);
    const event = lastEvent();
    if (event?.kind !== 'order') throw new Error('expected an order');
    expect(event.order.id).toBe('820982911946154508');
    expect(event.order.customerId).toBe('115310627314723954');
    expect(event.order.email).toBe('jon@example.com');
    expect(event.order.cancelledAt).toEqual(new Date('2022-01-01T00:00:00Z'));
    expect(event.order.lines.length).toBeGreaterThan(0);
    expect(event.order.lines.every((l) => typeof l.productId === 'string')).toBe(true);
  });
});

describe('deliveries from the sandbox', () => {
  it('keeps ids above 2^53 exact', async () => {
    const product = sandbox.addProduct({ title: 'Kettle' });
    const customer = sandbox.addCustomer({ email: 'Big@Example.com' });
    const order = sandbox.addOrder({ customerId: customer.id, lines: [{ productId: product.id, quantity: 3 }] });
    const raw = sandbox.webhookBody('orders/create', order.id);
    expect(raw).toContain(`"product_id":${product.id}`); // a bare integer, as Shopify sends it
    expect(
      String((JSON.parse(raw) as { line_items: Array<{ product_id: number }> }).line_items[0]!.product_id),
    ).not.toBe(product.id); // JSON.parse would lose digits
    await sandbox.deliverWebhook('orders/create', raw, url);
    const event = lastEvent();
    if (event?.kind !== 'order') throw new Error('expected an order');
    expect(event.order).toMatchObject({ id: order.id, customerId: customer.id, email: 'big@example.com' });
    expect(event.order.lines[0]).toMatchObject({ productId: product.id, quantity: 3 });
    expect(BigInt(event.order.lines[0]!.productId)).toBeGreaterThan(2n ** 53n);
  });

  it('a consent change carries its original time and the Shopify state', async () => {
    const customer = sandbox.addCustomer({ email: 'consent@example.com' });
    const at = new Date('2025-02-03T04:05:06Z');
    await sandbox.setConsent('consent@example.com', { state: 'UNSUBSCRIBED', at });
    await sandbox.deliverWebhook(
      'customers_email_marketing_consent/update',
      sandbox.webhookBody('customers_email_marketing_consent/update', customer.id),
      url,
    );
    expect(lastEvent()).toEqual({
      kind: 'consent',
      externalId: customer.id,
      consent: {
        email: 'consent@example.com',
        purpose: 'email_marketing',
        state: 'withdrawn',
        level: 'unknown',
        occurredAt: at,
        sourceEventId: `${customer.id}:UNSUBSCRIBED:${at.toISOString()}`,
        method: 'sync',
        rawState: 'UNSUBSCRIBED',
      },
    });
    await sandbox.setConsent('consent@example.com', { state: 'INVALID', at });
    await sandbox.deliverWebhook(
      'customers_email_marketing_consent/update',
      sandbox.webhookBody('customers_email_marketing_consent/update', customer.id),
      url,
    );
    expect(lastEvent()).toMatchObject({ kind: 'undeliverable', email: 'consent@example.com', occurredAt: at });
  });

  it('a sandbox with a webhook URL notifies changes as Shopify would', async () => {
    const shop = createShopifySandbox({ shop: 'hooks.myshopify.com', apiSecret: 'hook-secret', webhookUrl: url });
    const product = shop.addProduct({ title: 'Pan' });
    const order = shop.addOrder({ email: 'Guest@Example.com', lines: [{ productId: product.id }] });
    expect((await shop.notify('orders/create', order.id)).status).toBe(200);
    expect(lastEvent()).toMatchObject({
      kind: 'order',
      order: { id: order.id, email: 'guest@example.com', cancelledAt: null },
    });
    const at = new Date('2025-07-01T00:00:00Z');
    await shop.cancelOrder(order.id, at);
    expect(lastEvent()).toMatchObject({ kind: 'order', order: { id: order.id, cancelledAt: at } });
    expect(shop.webhooks.map((w) => w.topic)).toEqual(['orders/create', 'orders/cancelled']);
  });

  it('products/update and products/delete keep the catalogue fresh', async () => {
    const product = sandbox.addProduct({ title: 'Mug', price: '7.00', tracksInventory: true, totalInventory: 0 });
    await sandbox.deliverWebhook('products/update', sandbox.webhookBody('products/update', product.id), url);
    expect(lastEvent()).toMatchObject({
      kind: 'product',
      product: {
        id: product.id,
        title: 'Mug',
        price: '7.00',
        available: false,
        status: 'active',
        url: `https://${sandbox.shop}/products/mug`,
      },
    });
    await sandbox.deliverWebhook('products/delete', sandbox.webhookBody('products/delete', product.id), url);
    expect(lastEvent()).toMatchObject({ kind: 'product_deleted', productId: product.id });
  });

  it('a replay of the same X-Shopify-Webhook-Id is acknowledged and ignored', async () => {
    const customer = sandbox.addCustomer({ email: 'twice@example.com' });
    const body = sandbox.webhookBody('customers/update', customer.id);
    const first = await sandbox.deliverWebhook('customers/update', body, url, { webhookId: 'replayed-delivery' });
    const second = await sandbox.deliverWebhook('customers/update', body, url, { webhookId: 'replayed-delivery' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(sink.events.filter((e) => e.meta.deliveryId === 'replayed-delivery')).toHaveLength(1);
  });

  it('answers 500 when the sink cannot store it, so Shopify retries', async () => {
    sink.fail = true;
    expect((await sandbox.deliverWebhook('shop/redact', sandbox.webhookBody('shop/redact'), url)).status).toBe(500);
  });

  it('refuses missing headers and a body that is not JSON with 400', async () => {
    const post = (body: string, headers: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        body,
        headers: { 'X-Shopify-Hmac-Sha256': signShopifyBody(body, 'hook-secret'), ...headers },
      });
    expect((await post('{}', { 'X-Shopify-Topic': 'orders/create' })).status).toBe(400);
    expect(
      (
        await post('not json', {
          'X-Shopify-Topic': 'orders/create',
          'X-Shopify-Shop-Domain': sandbox.shop,
          'X-Shopify-Webhook-Id': 'x1',
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await post('{"id": 1}', {
          'X-Shopify-Topic': 'orders/create',
          'X-Shopify-Shop-Domain': sandbox.shop,
          'X-Shopify-Webhook-Id': 'x2',
        })
      ).status,
    ).toBe(400);
  });

  it('says so when a body parser ran before the router (the raw body is gone)', async () => {
    const app = express();
    app.use(express.json());
    app.use(shopifyRoutes(sink, { apiSecret: 'hook-secret', shops: [sandbox.shop] }));
    const early = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => early.once('listening', resolve));
    try {
      const response = await sandbox.deliverWebhook(
        'shop/redact',
        sandbox.webhookBody('shop/redact'),
        `http://127.0.0.1:${(early.address() as AddressInfo).port}/webhooks`,
      );
      expect(response.status).toBe(500);
      expect(sink.events).toHaveLength(0);
    } finally {
      await new Promise((resolve) => early.close(resolve));
    }
  });

  it('bulk_operations/finish reaches the waiting import', async () => {
    await sandbox.deliverWebhook(
      'bulk_operations/finish',
      { admin_graphql_api_id: 'gid://shopify/BulkOperation/77', status: 'completed' },
      url,
    );
    expect(finished).toContain('gid://shopify/BulkOperation/77');
  });
});

describe('compliance topics', () => {
  it('customers/redact hands over the customer and orders_to_redact', async () => {
    const customer = sandbox.addCustomer({ email: 'Forget.Me@example.com' });
    const order = sandbox.addOrder({ customerId: customer.id, lines: [] });
    const delivered = await sandbox.deliverWebhook(
      'customers/redact',
      sandbox.webhookBody('customers/redact', customer.id),
      url,
    );
    expect(lastEvent()).toEqual({
      kind: 'erase_customer',
      email: 'forget.me@example.com',
      externalId: customer.id,
      orderIds: [order.id],
      requestId: delivered.webhookId,
    });
  });

  it('customers/data_request hands over the request id and orders_requested', async () => {
    const customer = sandbox.addCustomer({ email: 'export@example.com' });
    const order = sandbox.addOrder({ customerId: customer.id, lines: [] });
    await sandbox.deliverWebhook(
      'customers/data_request',
      sandbox.webhookBody('customers/data_request', customer.id, { dataRequestId: '9999' }),
      url,
    );
    expect(lastEvent()).toEqual({
      kind: 'data_request',
      email: 'export@example.com',
      externalId: customer.id,
      orderIds: [order.id],
      requestId: '9999',
    });
  });

  it("app/uninstalled removes the shop's sessions; shop/redact is handed over with the platform's shop id", async () => {
    await sessions.storeSession(
      new Session({
        id: `offline_${sandbox.shop}`,
        shop: sandbox.shop,
        state: 's',
        isOnline: false,
        accessToken: 'shpat_x',
      }),
    );
    const platformShopId = String(JSON.parse(sandbox.webhookBody('shop/redact')).shop_id);
    await sandbox.deliverWebhook('app/uninstalled', sandbox.webhookBody('app/uninstalled'), url);
    expect(lastEvent()).toEqual({ kind: 'uninstalled', platformShopId });
    expect(await sessions.findSessionsByShop(sandbox.shop)).toEqual([]);
    await sandbox.deliverWebhook('shop/redact', sandbox.webhookBody('shop/redact'), url);
    expect(lastEvent()).toMatchObject({ kind: 'erase_shop', platformShopId });
  });
});

describe('replays: Shopify signs the body, not the topic, shop or webhook id headers', () => {
  /** A delivery signed with the app's secret, as an attacker holding a captured body can make one. */
  const post = (topic: string, body: string, shop = sandbox.shop) =>
    fetch(url, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-Shopify-Topic': topic,
        'X-Shopify-Hmac-Sha256': signShopifyBody(body, 'hook-secret'),
        'X-Shopify-Shop-Domain': shop,
        'X-Shopify-Webhook-Id': `replay-${Math.random().toString(36).slice(2)}`,
      },
    });
  const customer = sandbox.addCustomer({ email: 'replayed@example.com' });
  const product = sandbox.addProduct({ title: 'Teapot' });
  const order = sandbox.addOrder({ customerId: customer.id, lines: [{ productId: product.id }] });
  const bodies: Record<string, string> = {
    'orders/create': sandbox.webhookBody('orders/create', order.id),
    'customers/update': sandbox.webhookBody('customers/update', customer.id),
    'customers_email_marketing_consent/update': sandbox.webhookBody(
      'customers_email_marketing_consent/update',
      customer.id,
    ),
    'products/create': sandbox.webhookBody('products/create', product.id),
    'products/delete': sandbox.webhookBody('products/delete', product.id),
    'customers/redact': sandbox.webhookBody('customers/redact', customer.id),
    'customers/data_request': sandbox.webhookBody('customers/data_request', customer.id, { dataRequestId: '5' }),
    'shop/redact': sandbox.webhookBody('shop/redact'),
    'app/uninstalled': sandbox.webhookBody('app/uninstalled'),
  };
  /** Topics whose bodies are alike by design (Shopify sends the same resource for each). */
  const sameShape = (a: string, b: string) =>
    a === b ||
    [a, b].every((t) => t.startsWith('orders/')) ||
    [a, b].every((t) => t.startsWith('customers/') && !t.includes('redact') && !t.includes('data_request')) ||
    [a, b].every((t) => t === 'products/create' || t === 'products/update');
  const topics = [...Object.keys(bodies), 'orders/paid', 'orders/cancelled', 'customers/create', 'products/update'];
  const crossed = Object.entries(bodies).flatMap(([from, body]) =>
    topics.filter((to) => !sameShape(from, to)).map((to) => [from, to, body] as const),
  );

  it.each(crossed)('a %s body under the topic %s is refused (400) and passed on to nobody', async (_from, to, body) => {
    const count = sink.events.length;
    const res = await post(to, body);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(new RegExp(`The ${to} webhook body (lacks|carries) .*it is not a ${to} body`));
    expect(sink.events.length).toBe(count);
  });

  it('each body under its own topic is accepted, with a digest of topic and body (none for shop/redact)', async () => {
    for (const [topic, body] of Object.entries(bodies)) {
      const res = await sandbox.deliverWebhook(topic, body, url);
      expect(res.status, topic).toBe(200);
    }
    const digests = sink.events.slice(-8).map((e) => [e.meta.topic, e.meta.contentHash]);
    expect(digests.find(([t]) => t === 'shop/redact')?.[1]).toBeUndefined();
    const others = digests.filter(([t]) => t !== 'shop/redact').map(([, d]) => d);
    expect(others.every((d) => typeof d === 'string' && /^[0-9a-f]{64}$/.test(d))).toBe(true);
    expect(new Set(others).size).toBe(others.length);
  });

  it('a compliance or uninstall body from another shop is refused under this shop’s header (400)', async () => {
    const other = createShopifySandbox({ shop: 'other-shop.myshopify.com', apiSecret: 'hook-secret' });
    const someone = other.addCustomer({ email: 'x@example.com' });
    for (const [topic, body] of [
      ['shop/redact', other.webhookBody('shop/redact')],
      ['customers/redact', other.webhookBody('customers/redact', someone.id)],
      ['customers/data_request', other.webhookBody('customers/data_request', someone.id)],
      ['app/uninstalled', other.webhookBody('app/uninstalled')],
    ] as const) {
      const count = sink.events.length;
      const res = await post(topic, body);
      expect(res.status, topic).toBe(400);
      expect(await res.text()).toMatch(/names the shop other-shop\.myshopify\.com, but X-Shopify-Shop-Domain says/);
      expect(sink.events.length).toBe(count);
    }
  });

  it('a signed webhook for a shop this app does not serve is refused (403) and stored nowhere', async () => {
    const other = createShopifySandbox({ shop: 'other-shop.myshopify.com', apiSecret: 'hook-secret' });
    const count = sink.events.length;
    const res = await post('shop/redact', other.webhookBody('shop/redact'), other.shop);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/does not serve other-shop\.myshopify\.com/);
    expect(sink.events.length).toBe(count);
  });

  it('a replayed app/uninstalled (a duplicate) leaves the sessions alone', async () => {
    const keep = new Session({ id: 'offline_keep', shop: sandbox.shop, state: 's', isOnline: false, accessToken: 't' });
    const body = sandbox.webhookBody('app/uninstalled').replace('}', ',"updated_at":"2026-01-01T00:00:00Z"}');
    await sandbox.deliverWebhook('app/uninstalled', body, url, { webhookId: 'uninstall-1' });
    await sessions.storeSession(keep);
    await sandbox.deliverWebhook('app/uninstalled', body, url, { webhookId: 'uninstall-1' });
    expect(await sessions.findSessionsByShop(sandbox.shop)).toHaveLength(1);
  });
});
