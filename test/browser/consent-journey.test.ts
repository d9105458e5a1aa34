/**
 * The demo walked in a real browser (Debian's chromium through playwright-core): a customer subscribes
 * with both boxes, confirms, reads the preference centre, unsubscribes with one click; then the owner signs
 * in and sees each step on the dashboard and in the audit log. Screenshots: `screenshots` in test/support/browser.ts.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, freePort, releaseChromium, screenshots, sharedChromium } from '../support/browser.js';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';

const ADMIN = 'browser-test-admin-token-0123456789';
const EMAIL = 'erin@example.com';

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function seedShop(t: Tactful): Promise<void> {
  const day = (d: number) => new Date(Date.UTC(2026, 5, d));
  await t.products.upsert([
    { id: 'tea', title: 'Sencha green tea', available: true, category: 'tea' },
    { id: 'pot', title: 'Cast-iron teapot', available: true, category: 'teaware' },
    { id: 'beans', title: 'Espresso beans', available: true, category: 'coffee' },
    { id: 'grinder', title: 'Burr grinder', available: true, category: 'coffeeware' },
  ]);
  const orders = Array.from({ length: 16 }, (_, i) => {
    const items = i % 2 === 0 ? ['tea', 'pot'] : ['beans', 'grinder'];
    return {
      id: `seed-${i}`,
      customerId: `c-${i}`,
      email: `buyer${i}@example.com`,
      createdAt: day(1 + i),
      updatedAt: day(1 + i),
      lines: items.map((productId) => ({ productId, title: productId, quantity: 1 })),
    };
  });
  orders.push({
    id: 'erin-1',
    name: '#2001',
    customerId: 'c-erin',
    email: EMAIL,
    createdAt: day(20),
    updatedAt: day(20),
    lines: [{ productId: 'tea', title: 'tea', quantity: 1 }],
  } as (typeof orders)[number]);
  await t.orders.ingest(orders, 'shopify');
}

const shot = screenshots(() => page);

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'browser-demo.myshopify.com' });
  await seedShop(tactful);
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
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  collectPageErrors(page, pageErrors);
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
});

describe('consent journey in a browser', () => {
  it('as a customer: subscribe with both boxes, confirm, read the preference centre, unsubscribe with one click', async () => {
    await page.goto(`${server.url}/subscribe`);
    await page.getByLabel('Your email address').fill(EMAIL);
    await page.locator('input[name=purpose][value=email_marketing]').check();
    await page.locator('input[name=purpose][value=personalization]').check();
    await shot('01-subscribe');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await expect(page.getByRole('heading', { name: 'Check your inbox' }).isVisible()).resolves.toBe(true);

    // The demo inbox holds the confirmation email.
    await page.goto(`${server.url}/demo/mail`);
    const confirmation = page.locator(
      `article.mail[data-to="${EMAIL}"][data-subject="Please confirm your subscription"]`,
    );
    await confirmation.locator('a[data-link=confirm]').click();
    await page.getByRole('button', { name: 'Yes, confirm' }).click();
    await expect(page.getByRole('heading', { name: 'Subscription confirmed' }).isVisible()).resolves.toBe(true);

    await page.getByRole('link', { name: 'See what we hold and why' }).click();
    await page.getByRole('heading', { name: 'Your preferences' }).waitFor();
    const centre = await page.locator('main').innerText();
    expect(centre).toContain(EMAIL);
    expect(centre).toContain('#2001');
    expect(centre).toContain('Sencha green tea');
    expect(centre).toMatch(/Cast-iron teapot[\s\S]*because you bought Sencha green tea/);
    expect(await page.locator('input[name=purpose][value=email_marketing]').isChecked()).toBe(true);
    expect(await page.locator('input[name=purpose][value=personalization]').isChecked()).toBe(true);
    await shot('02-preference-centre');

    // The welcome email carries the RFC 8058 headers and the one-click link.
    await page.goto(`${server.url}/demo/mail`);
    const welcome = page.locator(`article.mail[data-to="${EMAIL}"][data-subject="Your subscription is confirmed"]`);
    expect(await welcome.locator('pre').first().innerText()).toContain(
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    );
    await welcome.locator('a[data-link=unsubscribe]').click();
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await expect(page.getByRole('heading', { name: 'You are unsubscribed' }).isVisible()).resolves.toBe(true);
    await shot('03-unsubscribed');

    const view = await tactful.consent.show(EMAIL);
    expect(view.purposes.map((p) => [p.purpose, p.state])).toEqual([
      ['email_marketing', 'withdrawn'],
      ['personalization', 'granted'],
    ]);
  });

  it('as the owner: the dashboard and the audit log show each step', async () => {
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    // Chart.js is served by the app and draws every chart.
    await page.waitForFunction(() => {
      const chart = (globalThis as unknown as { Chart?: { instances: Record<string, unknown> } }).Chart;
      return chart !== undefined && Object.keys(chart.instances).length === 4;
    });
    const summary = await page.locator('main').innerText();
    expect(summary).toMatch(/0 granted · 0 pending · 1 withdrawn/);
    expect(summary).toMatch(/1 opt-ins requested, 1 confirmed \(100%\), 1 one-click unsubscribes/);
    await shot('10-dashboard');

    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByLabel('Customer email').fill(EMAIL);
    await page.getByRole('button', { name: 'Filter' }).click();
    const log = await page.locator('table').innerText();
    for (const action of [
      'consent.opt_in_requested',
      'consent.opt_in_confirmed',
      'consent.unsubscribed',
      'consent.recorded',
    ])
      expect(log).toContain(action);
    await shot('11-audit-log');

    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'RFM groups' }).waitFor();
    await page.getByRole('button', { name: 'Preview' }).click();
    expect(await page.locator('main').innerText()).toMatch(/\d+ of \d+ profiles match/);
    await shot('12-segments');

    await page.getByRole('link', { name: 'Recommendations' }).click();
    await page.locator('select[name=product]').selectOption('tea');
    await page.getByRole('button', { name: 'Show related products' }).click();
    expect(await page.locator('main').innerText()).toContain('People who bought Sencha green tea also bought');
    await shot('13-recommendations');

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('Name emails are from').fill('Leaf & Bean');
    await page.getByLabel('Reply address').fill('hello@leaf.example');
    await page.getByLabel('Postal address').fill('3 Tea Row, 1000 Brussels, BE');
    await page.locator('form[action="/admin/sender"] button').click();
    await page.getByText('Saved.').waitFor();
    expect((await tactful.settings.get()).sender).toEqual({
      name: 'Leaf & Bean',
      email: 'hello@leaf.example',
      postalAddress: '3 Tea Row, 1000 Brussels, BE',
    });
    await shot('14-settings');

    // The campaign's dry run: Erin unsubscribed, so nobody would get it, and the page says why.
    await page.getByRole('link', { name: 'Campaign' }).click();
    await page.getByRole('button', { name: 'Dry run' }).click();
    const dry = await page.locator('section[aria-label="campaign result"]').innerText();
    expect(dry).toMatch(/Would get it now\s+0/);
    expect(dry).toMatch(/Not sent: email offers not granted\s+1/);
    await page.getByLabel("One customer's email").fill(EMAIL);
    await page.getByRole('button', { name: 'Preview their email' }).click();
    expect(await page.locator('main').innerText()).toContain(`${EMAIL} would not receive it: email offers not granted`);
    await shot('15-campaign');

    expect(pageErrors).toEqual([]);
  });
});
