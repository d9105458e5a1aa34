/**
 * A person is more than an address, end to end: the app over real HTTP, the Shopify and Mailchimp sandboxes
 * through the real adapters, their webhooks into the app, the outbox delivered to both. One clock drives
 * Tactful and both sandboxes, so every event has the time the person acted at.
 */
import { setupServer } from 'msw/node';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTactful, isTactfulError, type Store, type Tactful } from '@tactful/core';
import { createShopifyPlatform } from '@tactful/shopify';
import { createShopifySandbox, type ShopifySandbox } from '@tactful/shopify/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox, type MailchimpSandbox } from '@tactful/mailchimp/testing';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';
import { rawStore, embeddedTestStore } from '@tactful/core/testing';

const SHOP = 'e2e-identity.myshopify.com';
const AUDIENCE = 'identityaud1';
const MC_SECRET = 'identity-mailchimp-webhook-secret-0123456789';
const ADMIN = 'e2e-identity-admin-token-0123456789';

let clock = new Date('2026-03-02T09:00:00.000Z');
const now = () => clock;
/** Each step happens a few minutes after the previous one (Mailchimp stamps webhooks to the second). */
const later = (minutes = 5) => {
  clock = new Date(clock.getTime() + minutes * 60_000);
};

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let shopify: ShopifySandbox;
let mailchimp: MailchimpSandbox;
let msw: ReturnType<typeof setupServer>;
let deliver: () => Promise<unknown>;
/** Mailchimp webhook deliveries held back (a late delivery), released by `releaseHeld`. */
let holdMailchimp = false;
const held: Array<() => Promise<{ status: number }>> = [];

beforeAll(async () => {
  shopify = createShopifySandbox({ shop: SHOP, now });
  mailchimp = createMailchimpSandbox({
    audiences: [{ id: AUDIENCE }],
    now,
    deliver: (url, init) => {
      const send = async () => {
        const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body });
        await res.arrayBuffer();
        return { status: res.status };
      };
      if (!holdMailchimp) return send();
      // Mailchimp retries a delivery until it is taken: the original attempt settles when it is released.
      return new Promise((resolve, reject) => {
        held.push(() =>
          send().then(
            (r) => (resolve(r), r),
            (e: unknown) => (reject(e), Promise.reject(e)),
          ),
        );
      });
    },
  });
  msw = setupServer(...shopify.handlers, ...mailchimp.handlers);
  msw.listen({ onUnhandledRequest: 'bypass' });
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP, now });
  const platform = createShopifyPlatform({
    shop: shopify.shop,
    accessToken: shopify.accessToken,
    fetch: shopify.fetch,
  });
  const provider = createMailchimpProvider({ apiKey: mailchimp.apiKey, audienceId: AUDIENCE });
  await tactful.settings.update({ connectedSystems: [platform.system, provider.system] });
  const dispatcher = tactful.outbox.dispatcher({ targets: tactful.targets({ platform, provider }) });
  deliver = () => dispatcher.drain();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    SHOPIFY_API_SECRET: shopify.apiSecret,
    MAILCHIMP_WEBHOOK_SECRET: MC_SECRET,
    TACTFUL_SHOP: SHOP,
  });
  // The provider lets the app confirm a Mailchimp subscribe against the audience before it counts.
  server = await startServer(createApp({ tactful, config, provider, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port: 0,
  });
  mailchimp.addWebhook(`${server.url}/mailchimp/webhooks/${MC_SECRET}`, { listId: AUDIENCE });
}, 120_000);

afterAll(async () => {
  await server?.close();
  msw?.close();
});

beforeEach(() => {
  holdMailchimp = false;
});

/** Waits for Mailchimp's webhooks to reach the app, then lets the inbox worker apply them. */
async function mailchimpWebhooks() {
  await mailchimp.flushWebhooks();
  await tactful.processInbox();
}

async function shopifyWebhook(topic: string, id: string) {
  const delivered = await shopify.deliverWebhook(
    topic,
    shopify.webhookBody(topic, id),
    `${server.url}/shopify/webhooks`,
  );
  expect(delivered.status).toBe(200);
  await tactful.processInbox();
}

/** A first-party sign-up on the shop's own form for both purposes, delivered to both systems. */
async function signUp(email: string, customerId: string) {
  for (const purpose of ['email_marketing', 'personalization'])
    await tactful.consent.record({
      subject: { email, externalIds: { shopify: customerId } },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: now(),
      source: { system: 'tactful', eventId: `signup:${customerId}:${purpose}`, method: 'form' },
    });
  await deliver();
}

async function marketingState(email: string): Promise<string | null> {
  try {
    const shown = await tactful.consent.show(email);
    return shown.purposes.find((p) => p.purpose === 'email_marketing')?.state ?? 'none';
  } catch (error) {
    if (isTactfulError(error, 'SUBJECT.NOT_FOUND')) return null;
    throw error;
  }
}

/** The merchant edits the customer's email in the Shopify admin; Shopify sends customers/update. */
async function shopifyEmailChange(customerId: string, email: string) {
  const c = shopify.state.customers.get(customerId)!;
  shopify.addCustomer({
    id: c.id,
    email,
    firstName: c.firstName,
    lastName: c.lastName,
    createdAt: c.createdAt,
    updatedAt: now(),
    consent: {
      state: c.consent.marketingState,
      level: c.consent.marketingOptInLevel,
      at: c.consent.consentUpdatedAt,
    },
  });
  await shopifyWebhook('customers/update', customerId);
}

async function auditText(): Promise<string> {
  let text = '';
  for await (const chunk of tactful.audit.export('jsonl')) text += chunk;
  return text;
}

describe('a real change in another system is heard, an echo of our own write is not', () => {
  it('an unsubscribe in Mailchimp after a re-subscribe on its form withdraws, in Tactful and in Shopify', async () => {
    const ann = shopify.addCustomer({ email: 'ann@identity.example', firstName: 'Ann' });
    await signUp('ann@identity.example', ann.id);
    expect(mailchimp.member('ann@identity.example', AUDIENCE)?.status).toBe('subscribed');

    // 1. The one-click link in an email: withdrawn, and both systems are told.
    later();
    const token = await tactful.consent.unsubscribeToken('ann@identity.example', 'email_marketing');
    await tactful.consent.unsubscribe(token);
    await deliver();
    expect(mailchimp.member('ann@identity.example', AUDIENCE)?.status).toBe('unsubscribed');
    expect(shopify.readConsent('ann@identity.example')?.marketingState).toBe('UNSUBSCRIBED');

    // 2. She signs up again on Mailchimp's own form: a first-party opt-in, heard.
    later();
    mailchimp.actions.subscribe('ann@identity.example', { listId: AUDIENCE, ip: '198.51.100.4' });
    await mailchimpWebhooks();
    expect(await marketingState('ann@identity.example')).toBe('granted');
    await deliver();
    expect(shopify.readConsent('ann@identity.example')?.marketingState).toBe('SUBSCRIBED');

    // 3. She unsubscribes in Mailchimp: Tactful never wrote "unsubscribed" since, so this is her, not an echo.
    later();
    mailchimp.actions.unsubscribe('ann@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    expect(await marketingState('ann@identity.example')).toBe('withdrawn');
    await deliver();
    expect(shopify.readConsent('ann@identity.example')?.marketingState).toBe('UNSUBSCRIBED');
    const history = await tactful.consent.history('ann@identity.example');
    const last = history.events.filter((e) => e.purpose === 'email_marketing').at(-1)!;
    expect(last).toMatchObject({ state: 'withdrawn', echo: false });
  });

  it('Shopify changing its mind twice in a row is heard both times', async () => {
    const bea = shopify.addCustomer({ email: 'bea@identity.example', firstName: 'Bea' });
    await signUp('bea@identity.example', bea.id);
    later();
    await shopify.setConsent('bea@identity.example', { state: 'UNSUBSCRIBED', at: now() });
    await shopifyWebhook('customers_email_marketing_consent/update', bea.id);
    expect(await marketingState('bea@identity.example')).toBe('withdrawn');
    await deliver();
    expect(mailchimp.member('bea@identity.example', AUDIENCE)?.status).toBe('unsubscribed');
    // The customer opts in again at checkout, then out again: both are hers.
    later();
    await tactful.consent.record({
      subject: { email: 'bea@identity.example' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: now(),
      source: { system: 'tactful', eventId: `bea-again`, method: 'form' },
    });
    await deliver();
    expect(shopify.readConsent('bea@identity.example')?.marketingState).toBe('SUBSCRIBED');
    later();
    await shopify.setConsent('bea@identity.example', { state: 'UNSUBSCRIBED', at: now() });
    await shopifyWebhook('customers_email_marketing_consent/update', bea.id);
    expect(await marketingState('bea@identity.example')).toBe('withdrawn');
  });
});

describe('an address change moves the whole person', () => {
  it('after a Mailchimp upemail, the new address has the orders, the purchases and the profile', async () => {
    const product = shopify.addProduct({ title: 'Green tea', productType: 'tea' });
    const other = shopify.addProduct({ title: 'Teapot', productType: 'kitchen' });
    const cal = shopify.addCustomer({ email: 'cal@identity.example', firstName: 'Cal' });
    // He buys before he ever gives consent: the orders name him by address only.
    const order = shopify.addOrder({
      customerId: cal.id,
      lines: [
        { productId: product.id, quantity: 1 },
        { productId: other.id, quantity: 1 },
      ],
    });
    await shopifyWebhook('orders/create', order.id);
    later();
    await signUp('cal@identity.example', cal.id);
    expect((await tactful.recommend.forCustomer('cal@identity.example')).purchases).toBe(1);

    later();
    mailchimp.actions.changeEmail('cal@identity.example', 'cal.new@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();

    const exported = await tactful.privacy.export('cal.new@identity.example');
    expect(exported.orders.map((o) => o.orderId)).toEqual([order.id]);
    expect((await tactful.recommend.forCustomer('cal.new@identity.example')).purchases).toBe(1);
    expect((await tactful.profiles.show('cal.new@identity.example')).profile?.orders.count).toBe(1);
    // The old address is history now, not a second person.
    await expect(tactful.consent.show('cal@identity.example')).rejects.toMatchObject({ code: 'SUBJECT.NOT_FOUND' });
  });

  it('after a Shopify customers/update with a new address, the person is found by the new one', async () => {
    const dan = shopify.addCustomer({ email: 'dan@identity.example', firstName: 'Dan' });
    await signUp('dan@identity.example', dan.id);
    later();
    await shopifyEmailChange(dan.id, 'dan.new@identity.example');
    expect(await marketingState('dan.new@identity.example')).toBe('granted');
    const dan2 = await tactful.audit.subjectIdOf('dan.new@identity.example');
    expect(dan2).not.toBeNull();
    // Mailchimp still has him at the old address: his unsubscribe there is his, and does not move him back.
    later();
    mailchimp.actions.unsubscribe('dan@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    expect(await marketingState('dan.new@identity.example')).toBe('withdrawn');
    expect(await tactful.audit.subjectIdOf('dan.new@identity.example')).toBe(dan2);
    expect(await tactful.audit.subjectIdOf('dan@identity.example')).toBeNull();
  });

  it('customers/redact naming the Shopify id and the old address erases the person under the new address', async () => {
    const eve = shopify.addCustomer({ email: 'eve@identity.example', firstName: 'Eve' });
    await signUp('eve@identity.example', eve.id);
    await tactful.profiles.setAttributes('eve@identity.example', { firstName: 'Eve', city: 'Lyon' });
    later();
    // Mailchimp learns the new address; Shopify still holds the old one.
    mailchimp.actions.changeEmail('eve@identity.example', 'eve.new@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    expect(await marketingState('eve.new@identity.example')).toBe('granted');

    later();
    await shopifyWebhook('customers/redact', eve.id);
    expect(await marketingState('eve.new@identity.example')).toBeNull();
    expect(await marketingState('eve@identity.example')).toBeNull();
    // Both addresses are suppressed: an import bringing either back is refused.
    for (const email of ['eve@identity.example', 'eve.new@identity.example'])
      await expect(
        tactful.consent.record({
          subject: { email },
          purpose: 'email_marketing',
          state: 'granted',
          level: 'single',
          occurredAt: now(),
          source: { system: 'shopify', eventId: `eve-import-${email}`, method: 'import' },
        }),
      ).rejects.toMatchObject({ code: 'CONSENT.SUPPRESSED' });
  });
});

describe('an erased address stays erased', () => {
  it("an admin's address change onto an erased address, then a guest order, does not make it contactable", async () => {
    const fay = shopify.addCustomer({ email: 'fay@identity.example', firstName: 'Fay' });
    const gus = shopify.addCustomer({ email: 'gus@identity.example', firstName: 'Gus' });
    await signUp('fay@identity.example', fay.id);
    await signUp('gus@identity.example', gus.id);
    later();
    await tactful.privacy.erase('fay@identity.example', { reason: 'customer request', compact: false });
    await deliver();

    later();
    mailchimp.actions.changeEmail('gus@identity.example', 'fay@identity.example', {
      listId: AUDIENCE,
      source: 'admin',
    });
    await mailchimpWebhooks();
    const guest = shopify.addOrder({
      email: 'fay@identity.example',
      lines: [{ productId: shopify.addProduct({ title: 'Mug' }).id, quantity: 1 }],
    });
    await shopifyWebhook('orders/create', guest.id);

    expect(await marketingState('fay@identity.example')).toBeNull();
    expect(await tactful.audit.subjectIdOf('fay@identity.example')).toBeNull();
    // Gus keeps his own address in Tactful; the refusal is audited, naming no address.
    expect(await marketingState('gus@identity.example')).toBe('granted');
    // Mailchimp is told to move his member back: the erased address is not left live there either.
    await deliver();
    expect(mailchimp.member('fay@identity.example', AUDIENCE)).toBeUndefined();
    expect(mailchimp.member('gus@identity.example', AUDIENCE)?.status).toBe('subscribed');
    const audit = await auditText();
    expect(audit).toMatch(/"action":"subject.email_change_refused".*"reason":"suppressed"/);
    expect(audit).not.toContain('fay@identity.example');
  });

  it('an opt-in made before the erasure but delivered after it does not grant again', async () => {
    const hal = shopify.addCustomer({ email: 'hal@identity.example', firstName: 'Hal' });
    await signUp('hal@identity.example', hal.id);
    later();
    mailchimp.actions.unsubscribe('hal@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    expect(await marketingState('hal@identity.example')).toBe('withdrawn');
    // He signs up again on Mailchimp's form; the webhook is late.
    later();
    holdMailchimp = true;
    mailchimp.actions.subscribe('hal@identity.example', { listId: AUDIENCE, ip: '198.51.100.9' });
    later();
    await tactful.privacy.erase('hal@identity.example', { reason: 'customer request', compact: false });
    later();
    holdMailchimp = false;
    for (const send of held.splice(0)) expect((await send()).status).toBe(200);
    const report = await tactful.processInbox();
    expect(report.refused).toBe(1);
    expect(await marketingState('hal@identity.example')).toBeNull();
  });
});

describe('event ids chosen by the caller', () => {
  it('an address inside an event id is not readable in the audit log or the ledger after erasure', async () => {
    await tactful.consent.record({
      subject: { email: 'ivy@identity.example' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: now(),
      source: { system: 'tactful', eventId: 'pz-form:ivy@identity.example', method: 'form' },
    });
    // A replay under the same id is still recognised as one.
    const replay = await tactful.consent.record({
      subject: { email: 'ivy@identity.example' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: now(),
      source: { system: 'tactful', eventId: 'pz-form:ivy@identity.example', method: 'form' },
    });
    expect(replay.status).toBe('duplicate');
    later();
    await tactful.privacy.erase('ivy@identity.example', { reason: 'customer request', compact: false });
    expect(await auditText()).not.toContain('ivy@identity.example');
    const rows = await rawStore(store).query<{ source_event_id: string }>(
      'select source_event_id from consent_ledger where shop_id = $1',
      [SHOP],
    );
    expect(rows.map((r) => r.source_event_id).join('\n')).not.toContain('ivy@identity.example');
  });
});

describe('two people in Tactful who are one', () => {
  it('a Shopify change onto another person’s address is refused and audited; the merge is explicit and complete', async () => {
    const kim = shopify.addCustomer({ email: 'kim@identity.example', firstName: 'Kim' });
    await signUp('kim@identity.example', kim.id);
    const tea = shopify.addProduct({ title: 'Oolong', productType: 'tea' });
    const order = shopify.addOrder({ customerId: kim.id, lines: [{ productId: tea.id, quantity: 1 }] });
    await shopifyWebhook('orders/create', order.id);
    // Kim also signed up on Mailchimp's form with her work address: a second person to Tactful.
    later();
    mailchimp.actions.subscribe('kim@work.identity.example', { listId: AUDIENCE, ip: '198.51.100.12' });
    await mailchimpWebhooks();
    later();
    mailchimp.actions.unsubscribe('kim@work.identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    const work = await tactful.audit.subjectIdOf('kim@work.identity.example');
    const home = await tactful.audit.subjectIdOf('kim@identity.example');
    expect(work).not.toBe(home);

    // The merchant gives her Shopify account the work address: it belongs to another person in Tactful.
    later();
    await shopifyEmailChange(kim.id, 'kim@work.identity.example');
    expect(await tactful.audit.subjectIdOf('kim@identity.example')).toBe(home);
    expect(await auditText()).toMatch(/"action":"subject.email_change_refused".*"reason":"belongs-to-another"/);

    // The merchant merges them: one person, both histories, the withdrawal of the work address kept.
    later();
    const merged = await tactful.profiles.merge('kim@identity.example', 'kim@work.identity.example');
    expect(merged).toMatchObject({ keptSubjectId: home, mergedSubjectId: work });
    const history = (await tactful.consent.history('kim@identity.example')).events;
    expect(history.filter((e) => e.purpose === 'email_marketing').map((e) => e.state)).toEqual([
      'granted',
      'granted',
      'withdrawn',
    ]);
    expect(await marketingState('kim@identity.example')).toBe('withdrawn');
    const bundle = await tactful.privacy.export('kim@work.identity.example');
    expect(bundle.subject.subjectId).toBe(home);
    expect(bundle.identifiers.filter((i) => i.kind === 'email').map((i) => i.value)).toEqual(
      expect.arrayContaining(['kim@identity.example', 'kim@work.identity.example']),
    );
    expect(bundle.orders.map((o) => o.orderId)).toEqual([order.id]);
    expect(bundle.audit.some((a) => a.subjectId === work && a.action === 'subject.registered')).toBe(true);
    expect(bundle.audit.some((a) => a.action === 'subject.merged')).toBe(true);
    // Both systems are told the merged state.
    await deliver();
    expect(shopify.state.customers.get(kim.id)?.consent.marketingState).toBe('UNSUBSCRIBED');
    await expect(tactful.consent.show('kim@work.identity.example')).rejects.toMatchObject({
      code: 'SUBJECT.NOT_FOUND',
    });
  });
});

describe('every system follows an address change', () => {
  it('a Shopify change moves the Mailchimp member, unsubscribed as she left, and its upemail coming back late moves nothing', async () => {
    const jo = shopify.addCustomer({ email: 'jo@identity.example', firstName: 'Jo' });
    await signUp('jo@identity.example', jo.id);
    later();
    const token = await tactful.consent.unsubscribeToken('jo@identity.example', 'email_marketing');
    await tactful.consent.unsubscribe(token);
    await deliver();
    expect(mailchimp.member('jo@identity.example', AUDIENCE)?.status).toBe('unsubscribed');

    // This audience's webhook also hears API changes, so Tactful's own move comes back as an upemail.
    const echo = mailchimp.addWebhook(`${server.url}/mailchimp/webhooks/${MC_SECRET}`, {
      listId: AUDIENCE,
      sources: { api: true, user: false, admin: false },
    });
    try {
      later();
      await shopifyEmailChange(jo.id, 'jo.new@identity.example');
      const subjectId = await tactful.audit.subjectIdOf('jo.new@identity.example');
      holdMailchimp = true;
      await deliver();
      // The same member under the new address: still unsubscribed, never resubscribed by the move.
      expect(mailchimp.member('jo@identity.example', AUDIENCE)).toBeUndefined();
      expect(mailchimp.member('jo.new@identity.example', AUDIENCE)?.status).toBe('unsubscribed');
      // Shopify reported the change: it is not told it back.
      expect(shopify.state.customers.get(jo.id)?.email).toBe('jo.new@identity.example');

      // She changes her address again in Shopify before the upemail of the first move arrives.
      later();
      await shopifyEmailChange(jo.id, 'jo.newer@identity.example');
      holdMailchimp = false;
      expect(held.length).toBeGreaterThan(0);
      for (const send of held.splice(0)) expect((await send()).status).toBe(200);
      await tactful.processInbox();
      expect(await tactful.audit.subjectIdOf('jo.newer@identity.example')).toBe(subjectId);
      await deliver();
      expect(mailchimp.member('jo.newer@identity.example', AUDIENCE)?.status).toBe('unsubscribed');
      expect(await marketingState('jo.newer@identity.example')).toBe('withdrawn');
      const audit = await auditText();
      const changes = audit.split('\n').filter((l) => l.includes('"subject.email_changed"') && l.includes(subjectId!));
      expect(changes).toHaveLength(2);
      expect(audit).toMatch(/"action":"sync.delivered".*"kind":"subject.email_change".*"target":"mailchimp"/);
    } finally {
      for (const event of Object.keys(echo.events) as Array<keyof typeof echo.events>) echo.events[event] = false;
    }
  });

  it('a Mailchimp upemail changes the Shopify customer, and a stale customers/update with the old address moves nobody back', async () => {
    const lu = shopify.addCustomer({ email: 'lu@identity.example', firstName: 'Lu' });
    await signUp('lu@identity.example', lu.id);
    later();
    mailchimp.actions.changeEmail('lu@identity.example', 'lu.new@identity.example', { listId: AUDIENCE });
    await mailchimpWebhooks();
    // Before Tactful's change reaches Shopify, Shopify reports the customer (a name edit) with the old address.
    later();
    shopify.state.customers.get(lu.id)!.firstName = 'Lucie';
    await shopifyWebhook('customers/update', lu.id);
    expect(await tactful.audit.subjectIdOf('lu.new@identity.example')).not.toBeNull();
    expect(await tactful.audit.subjectIdOf('lu@identity.example')).toBeNull();

    await deliver();
    expect(shopify.state.customers.get(lu.id)?.email).toBe('lu.new@identity.example');
    expect(shopify.readConsent('lu.new@identity.example')?.marketingState).toBe('SUBSCRIBED');
    // Shopify's own report of the change is no change either.
    await shopifyWebhook('customers/update', lu.id);
    expect(await marketingState('lu.new@identity.example')).toBe('granted');
    expect(mailchimp.member('lu.new@identity.example', AUDIENCE)?.status).toBe('subscribed');
  });

  it("the customer's own correction reaches both systems", async () => {
    const mo = shopify.addCustomer({ email: 'mo@identity.example', firstName: 'Mo' });
    await signUp('mo@identity.example', mo.id);
    later();
    await tactful.profiles.changeEmail('mo@identity.example', 'mo.fixed@identity.example', {
      type: 'customer',
      id: 'preference-centre',
    });
    await deliver();
    expect(shopify.state.customers.get(mo.id)?.email).toBe('mo.fixed@identity.example');
    expect(mailchimp.member('mo.fixed@identity.example', AUDIENCE)?.status).toBe('subscribed');
    expect(mailchimp.member('mo@identity.example', AUDIENCE)).toBeUndefined();
  });
});

describe('erasure reaches every address and id the person ever had', () => {
  it('Mailchimp deletes a member per past address, Shopify erases each customer id, each outcome audited', async () => {
    const nia = shopify.addCustomer({ email: 'nia@identity.example', firstName: 'Nia' });
    const nia2 = shopify.addCustomer({ email: 'nia@work.identity.example', firstName: 'Nia' });
    await signUp('nia@identity.example', nia.id);
    await signUp('nia@work.identity.example', nia2.id);
    later();
    // Her address changes in Shopify (the member follows in Mailchimp)...
    await shopifyEmailChange(nia.id, 'nia.new@identity.example');
    await deliver();
    // ...and she signs up again on Mailchimp's form with the old one: a late event about an old address.
    later();
    mailchimp.actions.subscribe('nia@identity.example', { listId: AUDIENCE, ip: '198.51.100.20' });
    await mailchimpWebhooks();
    // The merchant learns the work address is hers too.
    later();
    await tactful.profiles.merge('nia.new@identity.example', 'nia@work.identity.example');
    await deliver();
    for (const email of ['nia@identity.example', 'nia.new@identity.example', 'nia@work.identity.example'])
      expect(mailchimp.member(email, AUDIENCE)).toBeDefined();

    later();
    await tactful.privacy.erase('nia.new@identity.example', { reason: 'customer request', compact: false });
    await deliver();
    for (const email of ['nia@identity.example', 'nia.new@identity.example', 'nia@work.identity.example'])
      expect(mailchimp.member(email, AUDIENCE)).toBeUndefined();
    expect(shopify.state.erasureRequests.map((r) => r.customerId)).toEqual(expect.arrayContaining([nia.id, nia2.id]));
    const audit = await auditText();
    expect(audit).toMatch(/"action":"sync.delivered".*"kind":"subject.erase".*"target":"mailchimp"/);
    expect(audit).toMatch(/"action":"sync.delivered".*"kind":"subject.erase".*"target":"shopify"/);
    expect(audit).not.toContain('nia@');
    // A sync or import naming any of her addresses or ids is refused.
    for (const [email, id] of [
      ['nia@identity.example', nia.id],
      ['nia@work.identity.example', nia2.id],
      ['nia.new@identity.example', undefined],
    ] as const)
      await expect(
        tactful.consent.record({
          subject: { email, ...(id ? { externalIds: { shopify: id } } : {}) },
          purpose: 'email_marketing',
          state: 'granted',
          level: 'single',
          occurredAt: now(),
          source: { system: 'shopify', eventId: `nia-import-${email}`, method: 'import' },
        }),
      ).rejects.toMatchObject({ code: 'CONSENT.SUPPRESSED' });
  });
});
