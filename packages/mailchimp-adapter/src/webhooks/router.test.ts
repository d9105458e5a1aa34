import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { setupServer } from 'msw/node';
import { http, passthrough } from 'msw';
import { createMailchimpProvider, mailchimpWebhookRoutes, parseMailchimpWebhook } from '../index.js';
import { createMailchimpSandbox, createMemoryInboundSink, mailchimpDataPath } from '../testing/index.js';

const samples = JSON.parse(readFileSync(mailchimpDataPath('webhook_samples.json'), 'utf8')) as {
  samples: Array<{ type: string; raw_body: string }>;
};
const sample = (type: string) => {
  const found = samples.samples.find((s) => s.type.startsWith(type));
  if (!found) throw new Error(`no ${type} sample`);
  return found.raw_body;
};

const SECRET = 'a'.repeat(24) + 'b'.repeat(24);
const sink = createMemoryInboundSink();
const sandbox = createMailchimpSandbox({ audiences: [{ id: 'aud0000001' }] });
const msw = setupServer(...sandbox.handlers);
/** shop-1's audience, read through the real client before a webhook may grant consent; shop-2 has none. */
const members = createMailchimpProvider(
  { apiKey: sandbox.apiKey, audienceId: 'aud0000001', retry: { retries: 0 } },
  { sleep: async () => {} },
);
const app = express();
app.use(
  mailchimpWebhookRoutes(sink, {
    tenants: [
      { shop: 'shop-1', secret: SECRET, members },
      { shop: 'shop-2', secret: 'c'.repeat(48) },
    ],
  }),
);
let httpServer: Server;
let base = '';

beforeAll(async () => {
  httpServer = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
  msw.use(http.all(`${base}/*`, () => passthrough()));
  msw.listen({ onUnhandledRequest: 'error' });
});
afterAll(async () => {
  msw.close();
  await new Promise((resolve) => httpServer.close(resolve));
});

const post = (secret: string, body: string) =>
  fetch(`${base}/mailchimp/webhooks/${secret}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });

describe('parsing the real webhook bodies', () => {
  it('subscribe becomes a granted consent at fired_at (UTC), first-party when Mailchimp has the opt-in IP', () => {
    const { event } = parseMailchimpWebhook(sample('subscribe'));
    expect(event).toEqual({
      kind: 'consent',
      externalId: 'e7c77d3852',
      consent: {
        email: 'agentsmith@snowplowtest.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'unknown',
        occurredAt: new Date('2014-11-04T09:42:31Z'),
        sourceEventId: 'subscribe:e7c77d3852:2014-11-04T09:42:31.000Z',
        method: 'form',
        rawState: 'subscribed',
      },
    });
  });

  it('on a double opt-in audience, a self-made subscribe is a confirmed double opt-in', () => {
    expect(parseMailchimpWebhook(sample('subscribe'), { doubleOptIn: true }).event).toMatchObject({
      kind: 'consent',
      consent: { level: 'confirmed', method: 'double_opt_in_confirmation' },
    });
  });

  it('unsubscribe becomes a withdrawal with its reason', () => {
    const { event } = parseMailchimpWebhook(sample('unsubscribe'));
    expect(event).toMatchObject({
      kind: 'consent',
      consent: {
        email: 'josh@snowplowanalytics.com',
        state: 'withdrawn',
        rawState: 'unsubscribed:unsub:manual',
        occurredAt: new Date('2014-10-22T13:10:40Z'),
      },
    });
  });

  it('the other types: upemail, cleaned (not a withdrawal), campaign, profile', () => {
    expect(
      parseMailchimpWebhook(
        'type=upemail&fired_at=2009-03-26+22%3A15%3A09&data%5Blist_id%5D=a6b5da1054&data%5Bnew_id%5D=51da8c3259&data%5Bnew_email%5D=api%2Bnew%40mailchimp.com&data%5Bold_email%5D=API%2Bold%40mailchimp.com',
      ).event,
    ).toEqual({
      kind: 'customer_email_changed',
      oldEmail: 'api+old@mailchimp.com',
      newEmail: 'api+new@mailchimp.com',
      occurredAt: new Date('2009-03-26T22:15:09Z'),
    });
    expect(
      parseMailchimpWebhook(
        'type=cleaned&fired_at=2009-03-26+22%3A01%3A00&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_id%5D=4fjk2ma9xd&data%5Breason%5D=hard&data%5Bemail%5D=api%2Bcleaned%40mailchimp.com',
      ).event,
    ).toEqual({
      kind: 'undeliverable',
      email: 'api+cleaned@mailchimp.com',
      reason: 'hard',
      occurredAt: new Date('2009-03-26T22:01:00Z'),
    });
    expect(
      parseMailchimpWebhook(
        'type=campaign&fired_at=2009-03-26+21%3A31%3A21&data%5Bid%5D=5aa2102003&data%5Bsubject%5D=Test+Campaign+Subject&data%5Bstatus%5D=sent&data%5Breason%5D=&data%5Blist_id%5D=a6b5da1054',
      ).event,
    ).toEqual({
      kind: 'campaign_sent',
      campaignId: '5aa2102003',
      occurredAt: new Date('2009-03-26T21:31:21Z'),
    });
    expect(
      parseMailchimpWebhook(
        'type=profile&fired_at=2009-03-26+21%3A31%3A21&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=MailChimp',
      ).event,
    ).toMatchObject({
      kind: 'customer',
      customer: { email: 'api@mailchimp.com', firstName: 'MailChimp' },
    });
  });
});

describe('the webhook route', () => {
  it("answers Mailchimp's verification GET with 200, and 404 for a wrong secret", async () => {
    expect((await fetch(`${base}/mailchimp/webhooks/${SECRET}`)).status).toBe(200);
    expect((await fetch(`${base}/mailchimp/webhooks/${SECRET.slice(1)}x`)).status).toBe(404);
    expect((await post('wrong', sample('subscribe'))).status).toBe(404);
    expect(sink.received).toHaveLength(0);
  });

  it('stores each real body for the right shop with a body-hash delivery id; a replay is a duplicate', async () => {
    sandbox.seedMember('agentsmith@snowplowtest.com', 'subscribed', { at: new Date('2014-11-04T09:42:31Z') });
    const first = await post(SECRET, sample('subscribe'));
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true, outcome: 'accepted' });
    const replay = await post(SECRET, sample('subscribe'));
    expect(await replay.json()).toEqual({ ok: true, outcome: 'duplicate' });
    await post('c'.repeat(48), sample('unsubscribe'));
    expect(sink.received.map((r) => [r.shop, r.meta.topic, r.meta.system])).toEqual([
      ['shop-1', 'subscribe', 'mailchimp'],
      ['shop-2', 'unsubscribe', 'mailchimp'],
    ]);
    expect(sink.received[0]?.meta.deliveryId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a body without type gets 400 and changes nothing', async () => {
    const before = sink.received.length;
    const response = await post(SECRET, sample('no-type'));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('MAILCHIMP.WEBHOOK_INVALID');
    expect(sink.received.length).toBe(before);
  });

  it('refuses short secrets and missing shops at construction', () => {
    expect(() => mailchimpWebhookRoutes(sink, { tenants: [{ shop: 's', secret: 'short' }] })).toThrow(/32 characters/);
    expect(() => mailchimpWebhookRoutes(sink, { secret: SECRET })).toThrow(/shop/);
    expect(() => mailchimpWebhookRoutes(sink, {})).toThrow(/secret/);
    expect(() => mailchimpWebhookRoutes(sink, { shop: 'one', secret: SECRET })).not.toThrow();
  });
});

describe('Mailchimp signs nothing: a grant counts only as its API confirms it', () => {
  const subscribe = (email: string, ip = '198.51.100.9') =>
    `type=subscribe&fired_at=2026-05-01+10%3A00%3A00&data%5Bid%5D=f00d&data%5Bemail%5D=${encodeURIComponent(email)}&data%5Bip_opt%5D=${ip}&data%5Blist_id%5D=aud0000001`;

  it('a forged subscribe for a member who unsubscribed in Mailchimp grants nothing', async () => {
    sandbox.seedMember('gone@example.com', 'unsubscribed', { at: new Date('2026-04-01T00:00:00Z') });
    const before = sink.received.length;
    const res = await post(SECRET, subscribe('gone@example.com'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, outcome: 'unconfirmed' });
    expect(sink.received.length).toBe(before);
  });

  it('a forged subscribe for an address Mailchimp does not hold grants nothing', async () => {
    const before = sink.received.length;
    expect(await (await post(SECRET, subscribe('stranger@example.com'))).json()).toMatchObject({
      outcome: 'unconfirmed',
    });
    expect(sink.received.length).toBe(before);
  });

  it("a subscribe Mailchimp confirms carries Mailchimp's opt-in time and evidence, not the body's", async () => {
    const optedIn = new Date('2026-03-15T08:00:00Z');
    sandbox.seedMember('added@example.com', 'subscribed', { at: optedIn }); // added by the account: no ip_opt
    await post(SECRET, subscribe('added@example.com', '203.0.113.66'));
    expect(sink.received.at(-1)?.event).toMatchObject({
      kind: 'consent',
      consent: { email: 'added@example.com', state: 'granted', method: 'admin', occurredAt: optedIn },
    });
  });

  it('a shop without its audience at hand stores no subscribe and no address change, but still every withdrawal', async () => {
    const other = 'c'.repeat(48);
    const before = sink.received.length;
    expect(await (await post(other, subscribe('x@example.com'))).json()).toMatchObject({ outcome: 'unconfirmed' });
    const upemail =
      'type=upemail&fired_at=2026-05-01+10%3A00%3A00&data%5Blist_id%5D=l&data%5Bnew_email%5D=eve%40example.com&data%5Bold_email%5D=ann%40example.com';
    expect(await (await post(other, upemail)).json()).toMatchObject({ outcome: 'unconfirmed' });
    expect(sink.received.length).toBe(before);
    const unsubscribe =
      'type=unsubscribe&fired_at=2026-05-01+10%3A00%3A00&data%5Bemail%5D=ann%40example.com&data%5Blist_id%5D=l';
    expect(await (await post(other, unsubscribe)).json()).toMatchObject({ outcome: 'accepted' });
  });

  it('a forged upemail (the old address is still a member, the new one is not) changes nothing', async () => {
    sandbox.seedMember('ann@example.com', 'subscribed');
    const before = sink.received.length;
    const upemail =
      'type=upemail&fired_at=2026-05-01+10%3A00%3A00&data%5Blist_id%5D=aud0000001&data%5Bnew_email%5D=eve%40example.com&data%5Bold_email%5D=ann%40example.com';
    expect(await (await post(SECRET, upemail)).json()).toMatchObject({ outcome: 'unconfirmed' });
    expect(sink.received.length).toBe(before);
  });

  it('when Mailchimp cannot be asked, the delivery is answered 503 so Mailchimp retries it', async () => {
    sandbox.seedMember('later@example.com', 'subscribed');
    sandbox.faults.failAlways('server_error');
    try {
      expect((await post(SECRET, subscribe('later@example.com'))).status).toBe(503);
    } finally {
      sandbox.faults.clear();
    }
  });
});

describe('webhooks fired by the sandbox', () => {
  it('registers with sources { user, admin } and not api: our own writes do not echo back', async () => {
    const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: 'aud0000001' });
    await provider.registerWebhook(`${base}/mailchimp/webhooks/${SECRET}`);
    expect(sandbox.state.audiences.get('aud0000001')?.webhooks[0]?.sources).toEqual({
      user: true,
      admin: true,
      api: false,
    });
    const before = sink.received.length;

    await provider.pushMembers([
      {
        email: 'echo@example.com',
        consent: {
          email: 'echo@example.com',
          purpose: 'email_marketing',
          state: 'granted',
          level: 'confirmed',
          occurredAt: new Date(),
          firstParty: false,
        },
      },
    ]);
    await sandbox.flushWebhooks();
    expect(sink.received.length).toBe(before);

    sandbox.actions.unsubscribe('echo@example.com', { campaignId: 'camp123' });
    sandbox.actions.changeEmail('echo@example.com', 'new-echo@example.com');
    sandbox.actions.clean('new-echo@example.com');
    await sandbox.flushWebhooks();
    const events = sink.received.slice(before).map((r) => r.event);
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'consent',
        consent: expect.objectContaining({ email: 'echo@example.com', state: 'withdrawn', method: 'form' }),
      }),
      expect.objectContaining({
        kind: 'customer_email_changed',
        oldEmail: 'echo@example.com',
        newEmail: 'new-echo@example.com',
      }),
      expect.objectContaining({ kind: 'undeliverable', email: 'new-echo@example.com', reason: 'hard' }),
    ]);
    expect(sandbox.state.deliveries.every((d) => d.status === 200)).toBe(true);
  });

  it('Mailchimp refuses to register a URL that does not answer its verification GET', async () => {
    const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: 'aud0000001' });
    await expect(provider.registerWebhook(`${base}/mailchimp/webhooks/not-the-secret`)).rejects.toMatchObject({
      code: 'MAILCHIMP.BAD_REQUEST',
    });
  });
});
