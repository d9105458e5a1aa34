/**
 * The owner's customer pages walked in a real browser (Debian's chromium through playwright-core): find a
 * customer by email, read their consent story, download their data, send themselves a test of the customer's
 * email (the demo inbox holds it), refuse bad input on every new form with nothing changed, brand the customer
 * pages, and erase with a typed confirmation. Every admin and customer page fits 390 px and 1280 px without
 * sideways scrolling. Screenshots: `screenshots` in test/support/browser.ts.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import pino from 'pino';
import { createTactful, type OrderRecord, type Store, type Tactful } from '@tactful/core';
import {
  collectPageErrors,
  freePort,
  releaseChromium,
  screenshots,
  sharedChromium,
  sidewaysOverflow,
} from '../support/browser.js';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';
import { signPreferencesToken } from '../../packages/app/src/server/signed-links.js';

const ADMIN = 'browser-test-admin-token-customers-0123';
const EMAIL = 'rosalind.franklin-longaddress@laboratory.example.com';
const UNSUBSCRIBED = 'ada@example.com';
const OWNER = 'owner.of.a.very.long.shop.address@bean-and-leaf.example';

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
let subjectId: string;
const pageErrors: string[] = [];

/** The browser's `getComputedStyle`, typed for the callbacks run in the page (the tests compile without the DOM lib). */
type Styles = {
  getComputedStyle(
    el: unknown,
    pseudo?: string,
  ): { backgroundColor: string; cursor: string; display: string; content: string };
};

const day = (d: number) => new Date(Date.UTC(2026, 5, d, 12));

async function seedShop(t: Tactful): Promise<void> {
  await t.settings.update({
    requireDoubleOptIn: false,
    sender: { name: 'Bean & Leaf', email: OWNER, postalAddress: '1 Roastery Lane, 1000 Brussels, BE' },
  });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder', 'filters'].map((id) => ({
      id,
      title: id === 'tea' ? 'Sencha green tea' : id[0]!.toUpperCase() + id.slice(1),
      url: `https://bean.example/products/${id}`,
      price: '€10.00',
      category: ['tea', 'kettle', 'honey', 'cups'].includes(id) ? 'tea' : 'coffee',
      available: true,
    })),
  );
  await t.consent.recordBatch(
    ['email_marketing', 'personalization'].map((purpose, i) => ({
      subject: { email: EMAIL },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: day(2),
      source: { system: 'tactful', eventId: `rf-${i}`, method: 'form' },
      evidence: {
        ip: '203.0.113.7',
        userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)',
        formId: 'footer-signup',
        clause: '4.2',
        policyVersion: '3',
      },
    })),
  );
  const baskets = [
    ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
    ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
    ...Array.from({ length: 4 }, () => ['coffee', 'filters']),
  ];
  const orders: OrderRecord[] = baskets.map((items, i) => ({
    id: `seed-${i}`,
    email: `buyer${i}@example.com`,
    createdAt: day(1),
    updatedAt: day(1),
    lines: items.map((productId) => ({ productId, title: productId, quantity: 1 })),
  }));
  orders.push({
    id: 'rf-1',
    name: '#3001',
    email: EMAIL,
    createdAt: day(3),
    updatedAt: day(3),
    currency: 'EUR',
    totalPrice: '12.00',
    lines: [{ productId: 'tea', title: 'tea', quantity: 1, price: '12.00' }],
  });
  await t.orders.ingest(orders, 'shopify');
  // Someone who unsubscribed: no email of theirs to test.
  await t.consent.record({
    subject: { email: UNSUBSCRIBED },
    purpose: 'email_marketing',
    state: 'withdrawn',
    occurredAt: day(4),
    source: { system: 'shopify', eventId: 'ada-1', method: 'admin' },
  });
  await t.profiles.setAttributes(EMAIL, { firstName: 'Rosalind', city: 'London' }, 'shopify');
  await t.preferences.exclude(EMAIL, { category: 'coffee' });
}

const shot = screenshots(() => page);

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'customers-demo.myshopify.com' });
  await seedShop(tactful);
  subjectId = (await tactful.audit.subjectIdOf(EMAIL))!;
  const port = await freePort();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    PORT: String(port),
    TACTFUL_RATE_LIMIT: '10000',
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port,
  });
  browser = await sharedChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  collectPageErrors(page, pageErrors);
  await page.goto(`${server.url}/admin`);
  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
});

describe('customers in a browser, as the owner', () => {
  it('finds a customer by email and reads their consent story in plain words; the look is audited', async () => {
    await page.getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('heading', { name: 'Customers' }).waitFor();
    expect(await page.locator('#customers tbody tr').count()).toBe(2);
    await page.getByLabel('Email address').fill(EMAIL.toUpperCase());
    await page.getByRole('button', { name: 'Search' }).click();
    expect(await page.locator('#customers tbody tr').count()).toBe(1);
    await shot('20-customers-search');
    await page.getByRole('link', { name: EMAIL }).click();
    await page.getByRole('heading', { name: EMAIL }).waitFor();
    const story = await page.locator('#consent-story').innerText();
    expect(story).toMatch(/agreed to Email offers, through form in tactful under clause 4\.2, version 3/i);
    expect(story).toContain('IP address 203.0.113.7');
    expect(story).toContain('form “footer-signup”');
    const main = await page.locator('main').innerText();
    expect(main).toMatch(/First name\s+Rosalind\s+shopify/);
    expect(main).toContain('#3001');
    expect(main).toContain('Never use the category coffee.');
    expect(await page.locator('#recommendations').innerText()).toMatch(
      /Kettle[\s\S]*because you bought Sencha green tea/,
    );
    await shot('21-customer-page');
    const viewed = await tactful.audit.page({ subjectId, action: 'subject.viewed' }, { limit: 10, offset: 0 });
    expect(viewed.total).toBeGreaterThanOrEqual(1);
    expect(viewed.rows[0]).toMatchObject({ actorType: 'admin', details: { view: 'customer page' } });
    // The audit log names the person and links to them.
    await page.goto(`${server.url}/admin/audit?action=subject.viewed`);
    await page.locator(`a[href="/admin/customers/${subjectId}"]`).first().click();
    await page.getByRole('heading', { name: EMAIL }).waitFor();
  });

  it('downloads the customer’s data: the bundle holds the views of their page', async () => {
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#export').click()]);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      subject: { email: string };
      audit: Array<{ action: string; actorType: string }>;
    };
    expect(bundle.subject.email).toBe(EMAIL);
    expect(bundle.audit.some((a) => a.action === 'subject.viewed' && a.actorType === 'admin')).toBe(true);
    expect(bundle.audit.some((a) => a.action === 'data.exported')).toBe(true);
  });

  it('sends themselves a test of the customer’s email; the demo inbox has it, the customer was sent nothing', async () => {
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    await page.getByRole('button', { name: 'Send me a test' }).click();
    await page.getByText('The test email is on its way to your address').waitFor();
    await page.goto(`${server.url}/demo/mail`);
    const mail = page.locator(`article.mail[data-to="${OWNER}"][data-subject="[TEST] Picked for you"]`);
    expect(await mail.count()).toBe(1);
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    await frame.waitForLoadState('load');
    const body = await frame.locator('body').innerText();
    expect(body).toContain('TEST EMAIL');
    expect(body).toContain('Kettle');
    await shot('22-test-email-in-demo-inbox');
    expect(await page.locator(`article.mail[data-to="${EMAIL}"]`).count()).toBe(0);
    expect(await tactful.customers.emails(subjectId)).toEqual([]);
    expect((await tactful.audit.page({ subjectId, action: 'campaign.test_sent' }, { limit: 5, offset: 0 })).total).toBe(
      1,
    );
  });

  it('bad input on each new form: a clear message, nothing changed', async () => {
    await page.goto(`${server.url}/admin/customers?email=not-an-address`);
    expect(await page.locator('[role=alert]').innerText()).toContain('"not-an-address" is not an email address');
    expect(await page.locator('#customers').count()).toBe(0);
    await page.goto(`${server.url}/admin/customers?after=bogus`);
    expect(await page.locator('[role=alert]').innerText()).toContain('cursor');
    await page.goto(`${server.url}/admin/customers?segment=nope`);
    expect(await page.locator('[role=alert]').innerText()).toContain('No saved segment "nope"');

    // The erasure asks for the address, typed exactly.
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    await page.getByLabel('Type their address to confirm').fill('someone.else@example.com');
    await page.getByRole('button', { name: 'Erase this customer' }).click();
    expect(await page.locator('[role=alert]').innerText()).toContain('is not this customer’s address');
    expect(await tactful.audit.subjectIdOf(EMAIL)).toBe(subjectId);
    expect(await tactful.profiles.emailOf(subjectId)).toBe(EMAIL);

    // A test email to a customer who would get none: refused with the reason, nothing sent.
    const other = (await tactful.audit.subjectIdOf(UNSUBSCRIBED))!;
    await page.goto(`${server.url}/admin/customers/${other}`);
    await page.getByRole('button', { name: 'Send me a test' }).click();
    expect(await page.locator('[role=alert]').innerText()).toMatch(
      /would get no email now \(email offers not granted\)/,
    );
    expect((await tactful.audit.page({ action: 'campaign.test_sent' }, { limit: 5, offset: 0 })).total).toBe(1);

    // The shop's brand: a colour that is not #rrggbb and a logo that is not https are refused, nothing saved.
    await page.goto(`${server.url}/admin/settings`);
    await page.getByLabel('Shop name').fill('Bean & Leaf Tea House');
    await page.getByLabel('Accent colour (#rrggbb, empty for the default)').fill('red');
    await page.locator('#brand-form button').click();
    expect(await page.locator('[role=alert]').innerText()).toMatch(
      /accent colour must be written #rrggbb.*Nothing was changed/,
    );
    await page.getByLabel('Accent colour (#rrggbb, empty for the default)').fill('#1A7F5A');
    await page.getByLabel('Logo URL (https://…, empty for none)').fill('http://cdn.example.com/logo.png');
    await page.locator('#brand-form button').click();
    expect(await page.locator('[role=alert]').innerText()).toMatch(
      /logo URL must start with https:\/\/.*Nothing was changed/,
    );
    expect((await tactful.settings.get()).brand).toBeUndefined();
    await shot('23-brand-refused');
  });

  it('the customer pages carry the shop’s brand; Tactful only in the powered-by line', async () => {
    await page.goto(`${server.url}/admin/settings`);
    await page.getByLabel('Shop name').fill('Bean & Leaf Tea House');
    await page.getByLabel('Accent colour (#rrggbb, empty for the default)').fill('#1A7F5A');
    await page.getByLabel('Logo URL (https://…, empty for none)').fill('');
    await page.locator('#brand-form button').click();
    await page.getByText('Saved.').waitFor();
    expect((await tactful.settings.get()).brand).toEqual({
      name: 'Bean & Leaf Tea House',
      logoUrl: null,
      accentColor: '#1a7f5a',
    });
    const token = await signPreferencesToken(tactful, subjectId);
    for (const path of ['/subscribe', '/preferences', `/preferences?token=${encodeURIComponent(token)}`]) {
      await page.goto(`${server.url}${path}`);
      expect(await page.locator('header.top').innerText()).toBe('Bean & Leaf Tea House');
      expect(await page.locator('footer.powered').innerText()).toBe('Consent and preferences powered by Tactful');
      expect(await page.evaluate('getComputedStyle(document.body).getPropertyValue("--accent").trim()')).toBe(
        '#1a7f5a',
      );
    }
    await shot('24-branded-preference-centre');
  });

  it('on a phone (390 px) and a desk (1280 px) no admin or customer page scrolls sideways; tables stack on a phone', async () => {
    const token = await signPreferencesToken(tactful, subjectId);
    const nav = await page.$$eval('header.top nav a', (links) => links.map((a) => a.getAttribute('href') ?? ''));
    await page.goto(`${server.url}/admin`);
    const admin = await page.$$eval('header.top nav a', (links) => links.map((a) => a.getAttribute('href') ?? ''));
    expect(admin).toContain('/admin/customers');
    const pages = [
      ...new Set([...nav, ...admin]),
      `/admin/customers/${subjectId}`,
      `/admin/customers?email=${encodeURIComponent(EMAIL)}`,
      `/admin/audit?subject=${subjectId}`,
      '/subscribe',
      '/preferences',
      `/preferences?token=${encodeURIComponent(token)}`,
    ];
    expect(
      await sidewaysOverflow(
        page,
        pages.map((path) => `${server.url}${path}`),
      ),
    ).toEqual([]);
    await page.setViewportSize({ width: 390, height: 860 });
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    // A stacked row shows each cell under its column's name.
    const cell = page.locator('#orders-table tbody td').first();
    expect(await cell.getAttribute('data-label')).toBe('Order');
    expect(await cell.evaluate((td) => (globalThis as unknown as Styles).getComputedStyle(td).display)).toBe('block');
    expect(
      await cell.evaluate((td) => (globalThis as unknown as Styles).getComputedStyle(td, '::before').content),
    ).toBe('"Order"');
    await shot('25-customer-page-390');
    await page.goto(`${server.url}/admin/customers`);
    await shot('26-customers-390');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('a disabled button looks disabled', async () => {
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    const look = (el: unknown) => {
      const style = (globalThis as unknown as Styles).getComputedStyle(el);
      return { bg: style.backgroundColor, cursor: style.cursor };
    };
    const enabled = await page.getByRole('button', { name: 'Send me a test' }).evaluate(look);
    // Without a sender identity there is nowhere to send a test: the button is there, disabled, and looks it.
    const sender = (await tactful.settings.get()).sender!;
    await tactful.settings.update({ sender: undefined } as unknown as Parameters<Tactful['settings']['update']>[0]);
    try {
      await page.reload();
      const button = page.getByRole('button', { name: 'Send me a test' });
      expect(await button.isDisabled()).toBe(true);
      const disabled = await button.evaluate(look);
      expect(disabled.cursor).toBe('not-allowed');
      expect(disabled.bg).not.toBe(enabled.bg);
      expect(enabled.cursor).toBe('pointer');
      await shot('27-disabled-test-button');
    } finally {
      await tactful.settings.update({ sender });
    }
  });

  it('the merge link opens the merge page with this customer kept, waiting for the other address', async () => {
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    await page.locator('#merge').click();
    await page.getByRole('heading', { name: 'Merge two people' }).waitFor();
    expect(await page.locator('input[name=keep]').inputValue()).toBe(EMAIL);
    expect(await page.locator('input[name=other]').inputValue()).toBe('');
    expect(await page.locator('[role=alert]').count()).toBe(0);
  });

  it('erases the customer after the typed confirmation; they are gone from the list', async () => {
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    await page.getByLabel('Type their address to confirm').fill(EMAIL);
    await page.getByRole('button', { name: 'Erase this customer' }).click();
    await page.getByRole('heading', { name: 'Customer erased' }).waitFor();
    await shot('28-customer-erased');
    expect(await tactful.profiles.emailOf(subjectId)).toBeNull();
    await page.goto(`${server.url}/admin/customers?email=${encodeURIComponent(EMAIL)}`);
    expect(await page.locator('#no-customers').innerText()).toBe('No customer matches.');
    await page.goto(`${server.url}/admin/customers/${subjectId}`);
    expect(await page.locator('[role=alert]').innerText()).toContain('no customer under this address');
    // Refusals answer their catalogued status on purpose (bad input 400, the erased customer's page 404, a test
    // for someone who would get no email 409); nothing else failed.
    expect(pageErrors.filter((e) => !/status of (400|404|409) /.test(e))).toEqual([]);
  });
});
