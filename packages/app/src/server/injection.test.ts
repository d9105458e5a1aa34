import { embeddedTestStore } from '@tactful/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { memoryMailbox } from './mail.js';
import { startServer, type RunningServer } from './start.js';

/** Text from the shop, customers and other systems that tries to become markup. */
const HOSTILE = `"'><img src=x onerror=alert(1)><script>alert(2)</script>`;
const ADMIN = 'injection-test-admin-token-0123456789';
let store: Store;
let tactful: Tactful;
let server: RunningServer;
const mailbox = memoryMailbox();
const auth = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'inject.myshopify.com' });
  await tactful.purposes.define({
    key: 'newsletter',
    title: `News ${HOSTILE}`,
    description: `Desc ${HOSTILE}`,
    documentUrl: 'https://inject.example/terms',
    clause: `Clause ${HOSTILE}`,
    version: `v${HOSTILE}`.slice(0, 60),
  });
  await tactful.products.upsert([
    { id: 'a', title: `Kettle ${HOSTILE}`, available: true, category: `Cat ${HOSTILE}` },
    { id: 'b', title: `Mug ${HOSTILE}`, available: true },
  ]);
  const day = (d: number) => new Date(Date.UTC(2026, 2, d));
  await tactful.orders.ingest(
    Array.from({ length: 6 }, (_, i) => ({
      id: `o${i}`,
      name: `#${HOSTILE}`,
      customerId: `c${i}`,
      email: "o'hara@example.com",
      createdAt: day(i + 1),
      updatedAt: day(i + 1),
      lines: [
        { productId: 'a', title: 'a', quantity: 1 },
        { productId: 'b', title: 'b', quantity: 1 },
      ],
    })),
    'shopify',
  );
  await tactful.consent.record({
    subject: { email: "o'hara@example.com" },
    purpose: 'personalization',
    state: 'granted',
    level: 'single',
    occurredAt: day(10),
    source: { system: 'shopify', eventId: `evt-${HOSTILE}`, method: 'import' },
  });
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: 'http://inject.test',
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }), mailer: mailbox }), {
    host: '127.0.0.1',
    port: 0,
  });
});

afterAll(async () => {
  await server?.close();
});

function expectInert(page: string): void {
  expect(page).not.toContain('<img src=x');
  expect(page).not.toContain('<script>alert');
  expect(page).not.toMatch(/onerror=alert\(1\)>/);
}

async function get(path: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${server.url}${path}`, { headers });
  return res.text();
}

describe('HTML injection', () => {
  it('purposes, products, orders and audit details render as text on every page', async () => {
    const subscribe = await get('/subscribe');
    expectInert(subscribe);
    expect(subscribe).toContain('News &quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;');

    const body = new URLSearchParams([
      ['email', "o'hara@example.com"],
      ['purpose', 'newsletter'],
      ['purpose', 'email_marketing'],
    ]);
    expectInert(await (await fetch(`${server.url}/subscribe`, { method: 'POST', body })).text());
    const confirm = new URL(mailbox.latestTo("o'hara@example.com")!.links.confirm!);
    expectInert(await get(`${confirm.pathname}${confirm.search}`));
    const confirmed = await (
      await fetch(`${server.url}/confirm`, {
        method: 'POST',
        body: new URLSearchParams({ token: confirm.searchParams.get('token')! }),
      })
    ).text();
    expectInert(confirmed);
    const prefs = new URL(mailbox.latestTo("o'hara@example.com")!.links.preferences!);
    const centre = await get(`${prefs.pathname}${prefs.search}`);
    expectInert(centre);
    expect(centre).toContain('o&#39;hara@example.com');
    expect(centre).toContain('Kettle &quot;&#39;&gt;');
    expectInert(await get('/demo/mail'));

    for (const path of [
      '/admin',
      '/admin/audit',
      '/admin/segments',
      '/admin/settings',
      '/admin/recommendations?product=a',
      `/admin/recommendations?customer=${encodeURIComponent("o'hara@example.com")}`,
      `/admin/campaign?email=${encodeURIComponent("o'hara@example.com")}`,
    ]) {
      expectInert(await get(path, auth));
    }
  });

  it('query parameters echoed into admin pages are escaped', async () => {
    const q = encodeURIComponent(HOSTILE);
    for (const path of [
      `/admin/audit?email=${q}`,
      `/admin/recommendations?product=${q}`,
      `/admin/recommendations?customer=${q}`,
      `/admin/segments?definition=${q}`,
      `/admin/login?next=${q}`,
    ]) {
      expectInert(await get(path, auth));
    }
    expectInert(await get(`/confirm?token=${q}`));
    expectInert(await get(`/unsubscribe?token=${q}`));
    expectInert(await get(`/preferences?token=${q}`));
  });
});

describe('admin purpose form', () => {
  it('defines a purpose, and refuses a javascript: terms URL with the reason, changing nothing', async () => {
    const form = (values: Record<string, string>) =>
      fetch(`${server.url}/admin/purposes`, {
        method: 'POST',
        headers: auth,
        body: new URLSearchParams(values),
        redirect: 'manual',
      });
    const bad = await form({
      key: 'sms',
      title: 'Texts',
      description: '',
      documentUrl: 'javascript:alert(1)',
      clause: '4.2',
      version: '1',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Nothing was changed');
    expect((await tactful.purposes.list()).map((p) => p.key)).not.toContain('sms');
    const ok = await form({
      key: 'sms',
      title: 'Texts',
      description: 'May we text you?',
      documentUrl: 'https://inject.example/terms#sms',
      clause: '4.2',
      version: '1',
    });
    expect(ok.status).toBe(303);
    expect((await tactful.purposes.list()).find((p) => p.key === 'sms')).toMatchObject({
      title: 'Texts',
      clause: '4.2',
    });
    expect(await get('/subscribe')).toContain('value="sms"');
  });
});
