/**
 * The customer page's actions over HTTP, with Mailchimp connected (its sandbox, through the real client): a test
 * email goes through Mailchimp's own "send a test" to the owner, and bad input on each form changes nothing.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { setupServer } from 'msw/node';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type OrderRecord, type Store, type Tactful } from '@tactful/core';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox, loadSpecValidator } from '@tactful/mailchimp/testing';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { startServer, type RunningServer } from './start.js';

const ADMIN = 'customer-actions-admin-token-0123';
const AUDIENCE = 'aud0000001';
const OWNER = 'owner@bean.example';
const auth = { authorization: `Bearer ${ADMIN}` };
const at = (d: number) => new Date(Date.UTC(2026, 2, d, 12));

const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
const mocks = setupServer(...sandbox.handlers);
let store: Store;
let tactful: Tactful;
let server: RunningServer;
let ada: string;

beforeAll(async () => {
  loadSpecValidator();
  mocks.listen({ onUnhandledRequest: 'bypass' });
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'customer-actions.myshopify.com' });
  await tactful.settings.update({
    requireDoubleOptIn: false,
    sender: { name: 'Bean & Leaf', email: OWNER, postalAddress: '1 Roastery Lane, Brussels' },
  });
  await tactful.products.upsert(
    ['tea', 'kettle', 'honey', 'coffee', 'grinder'].map((id) => ({
      id,
      title: id[0]!.toUpperCase() + id.slice(1),
      url: `https://bean.example/products/${id}`,
      available: true,
    })),
  );
  await tactful.consent.recordBatch(
    ['email_marketing', 'personalization'].map((purpose) => ({
      subject: { email: 'ada@example.com' },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: at(1),
      source: { system: 'shopify', eventId: `ada-${purpose}`, method: 'form' },
    })),
  );
  const baskets = [
    ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
    ...Array.from({ length: 4 }, () => ['tea', 'honey']),
  ];
  const orders: OrderRecord[] = baskets.map((lines, i) => ({
    id: `x${i}`,
    email: `x${i}@example.com`,
    createdAt: at(2),
    updatedAt: at(2),
    lines: lines.map((productId) => ({ productId, title: productId, quantity: 1 })),
  }));
  orders.push({
    id: 'ada-1',
    email: 'ada@example.com',
    createdAt: at(3),
    updatedAt: at(3),
    lines: [{ productId: 'tea', title: 'tea', quantity: 1 }],
  });
  await tactful.orders.ingest(orders, 'shopify');
  ada = (await tactful.audit.subjectIdOf('ada@example.com'))!;
  const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: AUDIENCE });
  const config = readServeConfig({ TACTFUL_ADMIN_TOKEN: ADMIN, TACTFUL_RATE_LIMIT: '10000' });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }), provider }), {
    host: '127.0.0.1',
    port: 0,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  mocks.close();
});

const post = (path: string, form: Record<string, string>) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
    redirect: 'manual',
  });

describe('customer actions with Mailchimp connected', () => {
  it('a test email goes through Mailchimp’s "send a test" to the owner; nobody in the audience is written or sent', async () => {
    const response = await post(`/admin/customers/${ada}/test-send`, { subject: 'Spring picks' });
    expect(response.status).toBe(303);
    expect(sandbox.state.testEmails).toHaveLength(1);
    const mail = sandbox.state.testEmails[0]!;
    expect(mail).toMatchObject({ to: OWNER, subject: '[TEST] Spring picks', fromName: 'Bean & Leaf', replyTo: OWNER });
    expect(mail.html).toContain('TEST EMAIL');
    expect(mail.html).toContain('Kettle');
    expect(mail.html).toContain('Because you bought Tea');
    expect(sandbox.member('ada@example.com')).toBeUndefined();
    expect(sandbox.state.campaigns.size).toBe(0);
    const audit = await tactful.audit.page({ subjectId: ada, action: 'campaign.test_sent' }, { limit: 5, offset: 0 });
    expect(audit.rows[0]?.details).toMatchObject({ via: 'mailchimp' });
    expect(await tactful.customers.emails(ada)).toEqual([]);
  });

  it('bad input on each form: a clear message, nothing changed', async () => {
    const before = sandbox.state.testEmails.length;
    const long = await post(`/admin/customers/${ada}/test-send`, { subject: 'x'.repeat(151) });
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('The subject line is longer than 150 characters. Nothing was sent.');
    expect(sandbox.state.testEmails).toHaveLength(before);

    const wrong = await post(`/admin/customers/${ada}/erase`, { confirm: 'bob@example.com' });
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain('is not this customer’s address');
    const empty = await post(`/admin/customers/${ada}/erase`, {});
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Type the customer’s address to confirm the erasure. Nothing was erased.');
    expect(await tactful.profiles.emailOf(ada)).toBe('ada@example.com');

    const unknown = await post('/admin/customers/no-such-person/erase', { confirm: 'ada@example.com' });
    expect(unknown.status).toBe(404);
    const list = await fetch(`${server.url}/admin/customers?consent.email_marketing=sometimes`, { headers: auth });
    expect(list.status).toBe(400);
    expect(await list.text()).toContain('&quot;sometimes&quot; is not a consent state');

    const brand = await post('/admin/brand', { brandName: 'Bean & Leaf', accentColor: '#12345', logoUrl: '' });
    expect(brand.status).toBe(400);
    expect(await brand.text()).toContain('the accent colour must be written #rrggbb');
    expect((await tactful.settings.get()).brand).toBeUndefined();
  });

  it('sending the preference link is audited (the owner’s action, on the customer)', async () => {
    const response = await post(`/admin/customers/${ada}/preference-link`, {});
    expect(response.status).toBe(303);
    const audit = await tactful.audit.page({ subjectId: ada, action: 'admin.action' }, { limit: 5, offset: 0 });
    expect(audit.rows[0]?.details).toEqual({ action: 'preference link sent' });
  });
});
