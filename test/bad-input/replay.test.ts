/**
 * An attacker who holds one captured Shopify delivery: Shopify signs the body, not the topic, shop or
 * webhook id headers, and the secret is the same for every shop that installed the app. A captured body
 * replayed under another topic, another shop or a new id is refused or recognised, and a shop is erased
 * only when Shopify really uninstalled the app (shop/redact comes 48 hours after app/uninstalled).
 * Mailchimp signs nothing at all (only the secret in the URL): a forged subscribe grants nothing that
 * Mailchimp's own record of the member does not confirm.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifySandbox } from '@tactful/shopify/testing';
import { AUDIENCE, MAILCHIMP_SECRET, SHOP, SHOPIFY_SECRET, snapshot, startHarness, type Harness } from './harness.js';
import { rawStore } from '@tactful/core/testing';

let h: Harness;
const shop = createShopifySandbox({ shop: SHOP, apiSecret: SHOPIFY_SECRET });
const other = createShopifySandbox({ shop: 'another-shop.myshopify.com', apiSecret: SHOPIFY_SECRET });
const product = shop.addProduct({ title: 'Teapot' });
const customer = shop.addCustomer({ email: 'cy@example.com' });
const stranger = other.addCustomer({ email: 'di@example.com' });
const people = ['ann@example.com', 'bo@example.com', 'cy@example.com'];

beforeAll(async () => {
  h = await startHarness();
  for (const [i, email] of people.entries())
    await h.tactful.consent.record({
      subject: { email },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'confirmed',
      occurredAt: new Date('2026-03-01T10:00:00Z'),
      source: { system: 'cli', eventId: `seed-${i}`, method: 'form' },
    });
});
afterAll(async () => {
  await h?.close();
});

let ids = 0;
/** Posts a body with a valid HMAC under any headers, as anyone holding a captured delivery can. */
async function deliver(topic: string, body: string, headerShop = SHOP, webhookId = `replay-${++ids}`) {
  const { createHmac } = await import('node:crypto');
  const res = await fetch(h.url('/shopify/webhooks'), {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': headerShop,
      'x-shopify-webhook-id': webhookId,
      'x-shopify-hmac-sha256': createHmac('sha256', SHOPIFY_SECRET).update(body).digest('base64'),
    },
  });
  return { status: res.status, text: await res.text() };
}
const subjects = async () =>
  (
    await rawStore(h.store).query<{ n: number }>('select count(*)::int as n from subjects where shop_id = $1', [SHOP])
  )[0]!.n;

describe('a captured Shopify delivery, replayed', () => {
  const captured = shop.webhookBody('products/create', product.id);

  it('the genuine delivery is stored once', async () => {
    expect(await deliver('products/create', captured, SHOP, 'genuine-1')).toEqual({ status: 200, text: 'accepted' });
    await h.tactful.processInbox();
  });

  it('under X-Shopify-Topic: shop/redact and a new id, it is refused (400), stores nothing and erases nobody', async () => {
    const before = await snapshot(h.store);
    const res = await deliver('shop/redact', captured);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/shop\/redact webhook body lacks shop_id, shop_domain/);
    await h.tactful.processInbox();
    expect(await snapshot(h.store)).toEqual(before);
    expect(await subjects()).toBe(3);
  });

  it('under its own topic and a new id, it is recognised as a replay by its content and stores nothing', async () => {
    const before = await snapshot(h.store);
    expect(await deliver('products/create', captured)).toEqual({ status: 200, text: 'duplicate' });
    expect(await snapshot(h.store)).toEqual(before);
  });

  it.each([
    ['customers/redact', 'customers/data_request'],
    ['customers/data_request', 'customers/redact'],
    ['customers/redact', 'shop/redact'],
    ['customers/data_request', 'shop/redact'],
    ['shop/redact', 'app/uninstalled'],
    ['app/uninstalled', 'shop/redact'],
  ])('a %s body under the topic %s fails that topic’s schema (400) and stores nothing', async (from, to) => {
    const body = shop.webhookBody(from, customer.id, { dataRequestId: '77' });
    const before = await snapshot(h.store);
    const res = await deliver(to, body);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(new RegExp(`The ${to} webhook body (lacks|carries) `));
    expect(await snapshot(h.store)).toEqual(before);
  });

  it.each([
    ['shop/redact', () => other.webhookBody('shop/redact')],
    ['customers/redact', () => other.webhookBody('customers/redact', stranger.id)],
    ['app/uninstalled', () => other.webhookBody('app/uninstalled')],
  ])('a %s body of another shop under this shop’s header is refused (400)', async (topic, body) => {
    const before = await snapshot(h.store);
    const res = await deliver(topic, body());
    expect(res.status).toBe(400);
    expect(res.text).toContain('names the shop another-shop.myshopify.com, but X-Shopify-Shop-Domain says');
    expect(await snapshot(h.store)).toEqual(before);
  });

  it('a signed webhook for a shop this app does not serve is refused (403) and stored nowhere', async () => {
    const before = await snapshot(h.store);
    const res = await deliver('shop/redact', other.webhookBody('shop/redact'), other.shop);
    expect(res.status).toBe(403);
    expect(res.text).toContain('does not serve another-shop.myshopify.com');
    expect(await snapshot(h.store)).toEqual(before);
  });
});

describe('a forged Mailchimp subscribe (only the URL secret needed)', () => {
  const forged = (email: string) =>
    `type=subscribe&fired_at=2026-05-01+10%3A00%3A00&data%5Bid%5D=abc&data%5Bemail%5D=${encodeURIComponent(email)}&data%5Bip_opt%5D=198.51.100.23&data%5Blist_id%5D=${AUDIENCE}`;
  const post = async (body: string) => {
    const res = await fetch(h.url(`/mailchimp/webhooks/${MAILCHIMP_SECRET}`), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    return { status: res.status, json: (await res.json()) as { outcome?: string } };
  };
  const marketing = async (email: string) =>
    (await h.tactful.consent.show(email)).purposes.find((c) => c.purpose === 'email_marketing');

  it('does not re-grant a person who withdrew and is unsubscribed in Mailchimp; nothing is stored', async () => {
    await h.tactful.consent.record({
      subject: { email: 'wes@example.com' },
      purpose: 'email_marketing',
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: new Date('2026-04-01T10:00:00Z'),
      source: { system: 'cli', eventId: 'wes-out', method: 'form' },
    });
    h.mailchimp.seedMember('wes@example.com', 'unsubscribed', {
      listId: AUDIENCE,
      at: new Date('2026-04-01T10:00:00Z'),
    });
    await h.tactful.processInbox();
    const before = await snapshot(h.store);
    expect(await post(forged('wes@example.com'))).toEqual({ status: 200, json: { ok: true, outcome: 'unconfirmed' } });
    await h.tactful.processInbox();
    expect(await snapshot(h.store)).toEqual(before);
    expect((await marketing('wes@example.com'))?.state).toBe('withdrawn');
  });

  it('a subscribe Mailchimp confirms is recorded with Mailchimp’s evidence, not the body’s', async () => {
    const optedIn = new Date('2026-04-20T09:00:00Z');
    h.mailchimp.seedMember('flo@example.com', 'subscribed', { listId: AUDIENCE, at: optedIn });
    expect((await post(forged('flo@example.com'))).json.outcome).toBe('accepted');
    await h.tactful.processInbox();
    const [event] = (await h.tactful.consent.history('flo@example.com')).events.filter(
      (e) => e.purpose === 'email_marketing',
    );
    expect(event).toMatchObject({ state: 'granted', source: { system: 'mailchimp', method: 'admin' } });
    expect(new Date(event!.occurredAt).toISOString()).toBe(optedIn.toISOString());
  });
});

// Last: it erases the shop.
describe('shop/redact is honoured only after the app was uninstalled', () => {
  const redact = shop.webhookBody('shop/redact');
  let present = 0;

  it('while the app is installed, a genuine-looking shop/redact is kept with its reason and erases nobody', async () => {
    present = await subjects();
    expect(present).toBeGreaterThanOrEqual(3);
    expect((await deliver('shop/redact', redact)).status).toBe(200);
    expect(await h.tactful.processInbox()).toMatchObject({ refused: 1 });
    expect(await subjects()).toBe(present);
    const [row] = await rawStore(h.store).query<{ last_error: string }>(
      "select last_error from inbox where topic = 'shop/redact' and shop_id = $1",
      [SHOP],
    );
    expect(row!.last_error).toMatch(/^PRIVACY\.SHOP_INSTALLED: .*not uninstalled/);
  });

  it('right after app/uninstalled it is still refused; 48 hours later it erases the shop', async () => {
    expect((await deliver('app/uninstalled', shop.webhookBody('app/uninstalled'))).status).toBe(200);
    expect((await deliver('shop/redact', redact)).status).toBe(200);
    expect(await h.tactful.processInbox()).toMatchObject({ processed: 1, refused: 1 });
    expect(await subjects()).toBe(present);
    h.advance(48 * 60 * 60 * 1000);
    expect((await deliver('shop/redact', redact)).status).toBe(200);
    expect(await h.tactful.processInbox()).toMatchObject({ refused: 0 });
    expect(await subjects()).toBe(0);
  });
});
