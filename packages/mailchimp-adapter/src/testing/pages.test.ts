/**
 * The list-manage pages an email's links open. No msw here: the pages are reached in-process through the
 * sandbox's fetch and over real loopback HTTP, and the webhook reaches Tactful's real webhook route.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailchimpWebhookRoutes } from '../index.js';
import {
  createMailchimpSandbox,
  createMemoryInboundSink,
  loadSpecValidator,
  mailchimpDataPath,
  serveMailchimpSandbox,
  type MailchimpSandbox,
} from './index.js';

const LIST = 'aud0000001';
const T0 = new Date('2026-03-02T09:00:00Z');
const SECRET = 'p'.repeat(48);
const sink = createMemoryInboundSink();
let receiver: Server;
let receiverUrl = '';

beforeAll(async () => {
  loadSpecValidator();
  const app = express().use(mailchimpWebhookRoutes(sink, { tenants: [{ shop: 'shop-1', secret: SECRET }] }));
  receiver = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/mailchimp/webhooks/${SECRET}`;
});
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

/** The decoded Unsubscribe link of an email (the template writes `<a href="*|UNSUB|*">Unsubscribe</a>`). */
function unsubscribeLink(html: string): string {
  const href = /<a href="([^"]+)">Unsubscribe<\/a>/.exec(html)?.[1];
  if (!href) throw new Error('the email has no Unsubscribe link');
  return href.replace(/&amp;/g, '&');
}

/** A subscribed member with a journey email in their inbox. */
async function memberWithEmail(sandbox: MailchimpSandbox, email: string): Promise<string> {
  sandbox.seedMember(email, 'subscribed', { mergeFields: { FNAME: 'Josh', LNAME: 'Beemster' } });
  const { journeyId, stepId } = sandbox.journeys.create('After a purchase');
  const response = await sandbox.fetch(
    `${sandbox.baseUrl}/customer-journeys/journeys/${journeyId}/steps/${stepId}/actions/trigger`,
    {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ email_address: email }),
    },
  );
  expect(response.status).toBe(204);
  return sandbox.renderJourney(journeyId, stepId, email) ?? '';
}

describe('Mailchimp sandbox: the list-manage pages of an email', () => {
  it("Unsubscribe asks first, then unsubscribes the member and fires Mailchimp's unsubscribe webhook; a GET changes nothing", async () => {
    const sandbox = createMailchimpSandbox({ audiences: [{ id: LIST }], now: () => T0 });
    sandbox.addWebhook(receiverUrl, { sources: { user: true, admin: true, api: false } });
    const link = unsubscribeLink(await memberWithEmail(sandbox, 'josh@example.com'));
    expect(link.startsWith(`https://${sandbox.dc}.list-manage.com/unsubscribe?`)).toBe(true);

    const ask = await sandbox.fetch(link);
    expect(ask.status).toBe(200);
    const form = await ask.text();
    expect(form).toContain('josh@example.com');
    expect(sandbox.member('josh@example.com')?.status).toBe('subscribed');
    expect(sandbox.state.deliveries).toEqual([]);

    const action = /<form method="post" action="([^"]+)">/.exec(form)?.[1] ?? '';
    const fields = [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
      ([, n, v]): [string, string] => [n ?? '', v ?? ''],
    );
    const done = await sandbox.fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('Unsubscribe successful');
    expect(sandbox.member('josh@example.com')).toMatchObject({ status: 'unsubscribed', unsubscribe_reason: 'manual' });
    await sandbox.flushWebhooks();

    // Mailchimp's body: every field of the real unsubscribe sample, from the member's own click (source user).
    const [delivery] = sandbox.state.deliveries;
    expect(delivery).toMatchObject({ type: 'unsubscribe', source: 'user', status: 200 });
    const samples = JSON.parse(readFileSync(mailchimpDataPath('webhook_samples.json'), 'utf8')) as {
      samples: Array<{ type: string; raw_body: string }>;
    };
    const real = new URLSearchParams(samples.samples.find((s) => s.type === 'unsubscribe')?.raw_body);
    const sent = new URLSearchParams(delivery?.body);
    expect([...new Set(sent.keys())].sort()).toEqual(expect.arrayContaining([...new Set(real.keys())]));
    expect(Object.fromEntries(sent)).toMatchObject({
      type: 'unsubscribe',
      fired_at: '2026-03-02 09:00:00',
      'data[action]': 'unsub',
      'data[reason]': 'manual',
      'data[email]': 'josh@example.com',
      'data[list_id]': LIST,
      'data[merges][FNAME]': 'Josh',
    });
    expect(sent.get('data[campaign_id]')).toMatch(/^journey-\d+-\d+$/);

    // It arrived at Tactful's webhook route as the member's withdrawal, at the time Mailchimp fired it.
    const arrived = sink.received.filter(
      (r) => r.event.kind === 'consent' && r.event.consent.email === 'josh@example.com',
    );
    expect(arrived).toHaveLength(1);
    expect(arrived[0]).toMatchObject({
      shop: 'shop-1',
      event: { kind: 'consent', consent: { state: 'withdrawn', method: 'form', occurredAt: T0 } },
      meta: { system: 'mailchimp', topic: 'unsubscribe' },
    });

    // Following the link again changes nothing and fires nothing.
    expect(await (await sandbox.fetch(link)).text()).toContain('Already unsubscribed');
    await sandbox.fetch(action, { method: 'POST', body: new URLSearchParams(fields) });
    await sandbox.flushWebhooks();
    expect(sandbox.state.deliveries).toHaveLength(1);
  });

  it('a link naming no member is a 404 page; the profile page edits the name and fires the profile webhook', async () => {
    const bodies: string[] = [];
    const sandbox = createMailchimpSandbox({
      audiences: [{ id: LIST }],
      now: () => T0,
      deliver: async (_url, init) => {
        if (init.body) bodies.push(init.body);
        return { status: 200 };
      },
    });
    sandbox.addWebhook('https://receiver.example/hook');
    const link = unsubscribeLink(await memberWithEmail(sandbox, 'ann@example.com'));
    expect((await sandbox.fetch(link.replace(/e=[0-9a-f]+/, 'e=0000000000'))).status).toBe(404);
    expect((await sandbox.fetch(link.replace(/id=[^&]+/, 'id=otherlist'))).status).toBe(404);

    // *|UPDATE_PROFILE|* renders the same query on /profile.
    const profile = link.replace('/unsubscribe?', '/profile?');
    expect(await (await sandbox.fetch(profile)).text()).toContain('value="Josh"');
    const form = new URL(profile).searchParams;
    form.set('FNAME', 'Joshua');
    const posted = await sandbox.fetch(`${sandbox.listManageUrl}/profile/post`, { method: 'POST', body: form });
    expect(posted.status).toBe(200);
    expect(sandbox.member('ann@example.com')?.merge_fields.FNAME).toBe('Joshua');
    await sandbox.flushWebhooks();
    expect(sandbox.state.deliveries.map((d) => `${d.type}:${d.source}`)).toEqual(['profile:user']);
    expect(new URLSearchParams(bodies[0]).get('data[merges][FNAME]')).toBe('Joshua');
  });

  it('served with pages, the links point at the host and work over real HTTP, offline', async () => {
    const sandbox = createMailchimpSandbox({ audiences: [{ id: LIST }], now: () => T0 });
    const host = await serveMailchimpSandbox(sandbox, { pages: true });
    try {
      expect(host.pagesUrl).toBe(sandbox.listManageUrl);
      expect(host.baseUrl).toBe(`${host.pagesUrl}/3.0`);
      const link = unsubscribeLink(await memberWithEmail(sandbox, 'bo@example.com'));
      expect(link.startsWith(`${host.pagesUrl}/unsubscribe?`)).toBe(true);
      const ask = await fetch(link);
      expect(ask.status).toBe(200);
      const query = new URL(link).searchParams;
      const done = await fetch(`${host.pagesUrl}/unsubscribe/post`, { method: 'POST', body: query });
      expect(await done.text()).toContain('Unsubscribe successful');
      expect(sandbox.member('bo@example.com')?.status).toBe('unsubscribed');
      // The API is still answered on the same host.
      const ping = await fetch(`${host.baseUrl}/ping`, {
        headers: { authorization: `Basic ${Buffer.from(`any:${sandbox.apiKey}`).toString('base64')}` },
      });
      expect(ping.status).toBe(200);
    } finally {
      await host.close();
    }
  });
});
