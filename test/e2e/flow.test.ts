/**
 * End to end, over real HTTP and the real adapters: Shopify's signed `orders/paid` webhook reaches the running
 * app → its worker stores the flow's step with its due time → the injected clock moves past the delay → the
 * same worker (`tactful serve` starts it) triggers the Mailchimp Customer Journey step, and the sandbox renders
 * the email with every required line → a second run (what `tactful flows run` calls) sends nothing. Beside it,
 * a customer who withdraws through Shopify's consent webhook between the order and the due time gets nothing,
 * and their step says why.
 */
import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { rawStore, embeddedTestStore } from '@tactful/core/testing';
import { createApp, readServeConfig, startServer, type RunningServer } from '@tactful/app';
import { createMailchimpProvider } from '@tactful/mailchimp';
import {
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpSandbox,
  type MailchimpSandboxHost,
} from '@tactful/mailchimp/testing';
import { createShopifyPlatform } from '@tactful/shopify';
import { createShopifySandbox, type ShopifySandbox } from '@tactful/shopify/testing';
import { startWorkers } from '../../packages/app/src/server/workers.js';
import { bothConsentsGranted, teaAndCoffeeHistory } from '../support/flow-shop.js';

const SHOP = 'e2e-flow.myshopify.com';
const AUDIENCE = 'e2eflow001';
const ADMIN = 'e2e-flow-admin-token-0123456789';
const SENDER = { name: 'Bean & Leaf', email: 'hello@bean.example', postalAddress: '1 Roastery Lane, Brussels' };
const DAY = 86_400_000;
// Noon UTC on a Monday: inside the flow's window (09:00-20:00 in the shop's zone, UTC) and outside quiet hours.
const T0 = new Date('2026-03-02T12:00:00Z');
const ANN = 'ann@example.com'; // keeps both consents: gets the email
const BO = 'bo@example.com'; // withdraws in Shopify before the step is due: gets nothing

let now = T0;
let store: Store;
let tactful: Tactful;
let shopify: ShopifySandbox;
let mailchimp: MailchimpSandbox;
let mailchimpHost: MailchimpSandboxHost;
let server: RunningServer;
let workers: { stop(): Promise<void> };
let provider: ReturnType<typeof createMailchimpProvider>;
let journey: { journeyId: number; stepId: number };
const productIds = new Map<string, string>(); // 'tea' → the Shopify product id

beforeAll(async () => {
  shopify = createShopifySandbox({ shop: SHOP, now: () => now });
  mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }], now: () => now });
  mailchimpHost = await serveMailchimpSandbox(mailchimp);
  provider = createMailchimpProvider({
    apiKey: mailchimp.apiKey,
    audienceId: AUDIENCE,
    baseUrl: mailchimpHost.baseUrl,
  });
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP, now: () => now });
  await tactful.settings.update({ sender: SENDER });

  // The catalogue as Shopify holds it, read through the Shopify adapter (its ids are Shopify's).
  for (const name of ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'])
    productIds.set(
      name,
      shopify.addProduct({ title: name[0]!.toUpperCase() + name.slice(1), price: '10.00', createdAt: T0 }).id,
    );
  const platform = createShopifyPlatform({ shop: SHOP, accessToken: shopify.accessToken, fetch: shopify.fetch });
  await tactful.products.upsert((await platform.listProducts({ limit: 50 })).items);
  // Other customers' baskets (weeks old: history, not triggers) make tea go with kettle, honey and cups.
  await tactful.orders.ingest(
    teaAndCoffeeHistory(new Date(T0.getTime() - 30 * DAY)).map((o) => ({
      ...o,
      lines: o.lines.map((l) => ({ ...l, productId: productIds.get(l.productId)! })),
    })),
    'shopify',
  );
  // Both customers agreed to email offers (confirmed) and to personal recommendations, in Shopify and Mailchimp.
  await tactful.consent.recordBatch(
    bothConsentsGranted([ANN, BO], new Date(T0.getTime() - 40 * DAY)).map((e) => ({
      ...e,
      evidence: { clause: '4.2', policyVersion: '3' },
    })),
  );
  for (const email of [ANN, BO]) {
    shopify.addCustomer({
      email,
      firstName: email === ANN ? 'Ann' : 'Bo',
      createdAt: new Date(T0.getTime() - 40 * DAY),
      consent: { state: 'SUBSCRIBED', level: 'CONFIRMED_OPT_IN', at: new Date(T0.getTime() - 40 * DAY) },
    });
    mailchimp.seedMember(email, 'subscribed');
  }

  // The owner made a journey with the Customer Journeys API trigger in Mailchimp, and turned the flow on with it.
  journey = mailchimp.journeys.create('Goes well with your order');
  await tactful.flows.set('post-purchase', {
    enabled: true,
    delayDays: 7,
    // Nobody held out here: the holdout has its own tests (packages/core/src/flows/flows.test.ts, the fault oracle).
    holdoutShare: 0,
    journeyId: String(journey.journeyId),
    stepId: String(journey.stepId),
  });

  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_SHOP: SHOP,
    TACTFUL_RATE_LIMIT: '100000',
    SHOPIFY_API_SECRET: shopify.apiSecret,
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }), provider }), {
    host: '127.0.0.1',
    port: 0,
  });
  // The background work `tactful serve` starts: the inbox, and the flows' due steps (every 50 ms here, not 60 s).
  workers = startWorkers(tactful, pino({ level: 'silent' }), {
    intervalMs: 50,
    flows: { provider, publicUrl: server.url, intervalMs: 50 },
  });
}, 120_000);

afterAll(async () => {
  await workers?.stop();
  await server?.close();
  await mailchimpHost?.close();
});

/** POSTs a webhook to the app as Shopify does: the raw body, HMAC-SHA256 of it with the app's secret, base64. */
async function shopifyWebhook(topic: string, body: string): Promise<number> {
  const response = await fetch(`${server.url}/shopify/webhooks`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': createHmac('sha256', shopify.apiSecret).update(body, 'utf8').digest('base64'),
      'x-shopify-shop-domain': SHOP,
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': now.toISOString(),
      'x-shopify-api-version': '2025-10',
    },
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits for the app's background worker to get somewhere (it runs on its own timer). */
async function until<T>(what: string, check: () => Promise<T | null | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the app's worker did not get to: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

interface StepRow {
  order_id: string;
  status: string;
  due_at: Date;
  reason: string | null;
  send_key: string | null;
  product_ids: string[];
}

async function stepOf(orderId: string): Promise<StepRow | undefined> {
  const [row] = await rawStore(store).query<StepRow>(
    'select order_id, status, due_at, reason, send_key, product_ids from flow_steps where shop_id = $1 and order_id = $2',
    [SHOP, orderId],
  );
  return row;
}

const count = async (sql: string) => (await rawStore(store).query<{ n: number }>(sql, [SHOP]))[0]!.n;

function decode(html: string): string {
  return html
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

describe('orders/paid webhook → scheduled step → the clock moves → the journey email, exactly once', () => {
  it('runs the whole way; a withdrawal before the due time exits the step; a second run sends nothing', async () => {
    // 1. Ann pays for tea, Bo for coffee; Shopify sends the signed orders/paid webhooks to the app.
    const orderOf = (email: string, product: string) =>
      shopify.addOrder({
        customerId: [...shopify.state.customers.byId.values()].find((c) => c.email === email)!.id,
        createdAt: T0,
        lines: [{ productId: productIds.get(product)!, quantity: 1, price: '10.00' }],
      });
    const annOrder = orderOf(ANN, 'tea');
    const boOrder = orderOf(BO, 'coffee');
    now = new Date(T0.getTime() + 60_000);
    for (const order of [annOrder, boOrder])
      expect(await shopifyWebhook('orders/paid', shopify.webhookBody('orders/paid', order.id))).toBe(200);

    // 2. The worker takes them from the inbox: one step per order, stored with its due time (7 days, same hour).
    const scheduled = await until('the steps are scheduled', async () => {
      const [a, b] = [await stepOf(annOrder.id), await stepOf(boOrder.id)];
      return a && b ? [a, b] : null;
    });
    for (const step of scheduled) {
      expect(step.status).toBe('scheduled');
      expect(step.due_at.toISOString()).toBe('2026-03-09T12:00:00.000Z');
    }
    // A replay of the same webhook (Shopify retries) adds no second step.
    expect(await shopifyWebhook('orders/paid', shopify.webhookBody('orders/paid', annOrder.id))).toBe(200);
    await until('the replay is processed', async () =>
      (await count('select count(*)::int as n from inbox where shop_id = $1 and processed_at is null')) === 0
        ? true
        : null,
    );
    expect(await count('select count(*)::int as n from flow_steps where shop_id = $1')).toBe(2);

    // 3. Three days later Bo unsubscribes in Shopify; its consent webhook reaches the app (Mailchimp still
    //    holds Bo as subscribed: only the check at send time can stop the email).
    now = new Date(T0.getTime() + 3 * DAY);
    const bo = await shopify.setConsent(BO, { state: 'UNSUBSCRIBED', at: now });
    expect(
      await shopifyWebhook(
        'customers_email_marketing_consent/update',
        shopify.webhookBody('customers_email_marketing_consent/update', bo.id),
      ),
    ).toBe(200);
    await until('the withdrawal is recorded', async () =>
      (await tactful.consent.show(BO)).purposes.find((p) => p.purpose === 'email_marketing')?.state === 'withdrawn'
        ? true
        : null,
    );
    // Not due yet: the worker keeps running and sends nothing.
    expect(mailchimp.journeys.triggers()).toEqual([]);

    // 4. The clock moves past the delay; the worker runs what is due.
    now = new Date(T0.getTime() + 7 * DAY + 3_600_000);
    const decided = (orderId: string) =>
      until(`the step of order ${orderId} is decided`, async () => {
        const step = await stepOf(orderId);
        return step && ['sent', 'held_out', 'exited', 'skipped'].includes(step.status) ? step : null;
      });
    const sent = await decided(annOrder.id);
    const exited = await decided(boOrder.id);
    expect(sent.status).toBe('sent');
    expect(exited.status).toBe('exited');
    expect(sent.send_key).toBe(`flow:post-purchase:${annOrder.id}`);
    expect(exited.reason).toBe('email offers not granted');
    expect(exited.send_key).toBeNull();

    // 5. Mailchimp's journey step was triggered once, for Ann only, and sent the email it rendered from her fields.
    expect(mailchimp.journeys.triggers()).toEqual([{ ...journey, email: ANN, at: now }]);
    expect(mailchimp.emails(BO)).toEqual([]);
    const emails = mailchimp.journeys.emails(ANN);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ subject: 'Goes well with your order', sentAt: now });
    const html = mailchimp.renderJourney(journey.journeyId, journey.stepId, ANN)!;
    const text = decode(html);
    // Every required line (docs/flows.md, "What the email says"):
    // the reason, naming the order's product and its date;
    expect(text).toContain('Because you bought Tea on 2 March 2026.');
    // the related products, and only those, each linked with the flow's UTM parameters;
    const related = ['kettle', 'honey', 'cups'];
    expect([...sent.product_ids].sort()).toEqual(related.map((p) => productIds.get(p)!).sort());
    for (const name of related) {
      const title = name[0]!.toUpperCase() + name.slice(1);
      expect(text).toContain(`>${title}</a>`);
    }
    expect(text).not.toContain('>Tea</a>');
    expect(text).not.toContain('>Coffee</a>');
    const linked = [...text.matchAll(/href="([^"]*utm_source=tactful[^"]*)"/g)].map((m) => new URL(m[1]!));
    expect(new Set(linked.map((u) => u.searchParams.get('utm_content')))).toEqual(
      new Set(related.map((p) => productIds.get(p)!)),
    );
    for (const url of linked) expect(url.searchParams.get('utm_campaign')).toBe('flow-post-purchase');
    // the consent line, with its date, clause and version;
    expect(text).toContain(
      'You receive this because you agreed to email offers on 21 January 2026 (clause 4.2, version 3).',
    );
    // the signed preference-centre link (it opens Ann's page) and Mailchimp's unsubscribe link;
    const prefs = text.match(/href="([^"]*\/preferences\?token=[^"]+)"/)?.[1];
    expect(prefs?.startsWith(`${server.url}/preferences?token=`)).toBe(true);
    const page = await fetch(prefs!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(ANN);
    expect(text).toContain(`href="${mailchimp.listManageUrl}/unsubscribe?u=sandbox&id=${AUDIENCE}`);
    // and no merge tag left unfilled.
    expect(text).not.toMatch(/\*\|/);
    // The send is recorded once (the contact policy's caps see it) and audited once.
    expect(await count('select count(*)::int as n from contact_sends where shop_id = $1')).toBe(1);
    expect(await count("select count(*)::int as n from audit_log where shop_id = $1 and action = 'flow.sent'")).toBe(1);

    // 6. A second run, a day later, as `tactful flows run` runs it: nothing is due, nothing is sent.
    await workers.stop();
    now = new Date(T0.getTime() + 8 * DAY);
    const again = await tactful.flows.runDue(
      { provider, publicUrl: server.url, actor: { type: 'cli', id: 'flows run' } },
      { instanceId: 'cron' },
    );
    expect(again).toMatchObject({ leased: 0, sent: 0, resumed: 0, failed: [] });
    expect(mailchimp.journeys.triggers()).toHaveLength(1);
    expect(mailchimp.emails()).toHaveLength(1);
    expect(await count('select count(*)::int as n from contact_sends where shop_id = $1')).toBe(1);
    expect(await count("select count(*)::int as n from audit_log where shop_id = $1 and action = 'flow.sent'")).toBe(1);
    expect((await stepOf(annOrder.id))?.status).toBe('sent');
    expect((await stepOf(boOrder.id))?.status).toBe('exited');
  }, 120_000);
});
