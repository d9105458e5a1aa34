/**
 * Issue 10 in a real browser (Debian's chromium through playwright-core): a customer corrects their name and
 * job title in the preference centre, says "not this" to a purchase (a gift) and to a whole category, and
 * then sees the change in the preference centre, in their export bundle, in the next campaign preview (the
 * owner's /admin/campaign?email=...), and — once the outbox has run — in both sandboxes: the Shopify
 * customer's fields and the Mailchimp member's merge fields. Screenshots: `screenshots` in test/support/browser.ts.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { readFileSync } from 'node:fs';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, freePort, releaseChromium, screenshots, sharedChromium } from '../support/browser.js';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createShopifyPlatform } from '@tactful/shopify';
import { createShopifySandbox } from '@tactful/shopify/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';
import { assertReasonTextTrue } from '../support/reasons.js';

const ADMIN = 'browser-test-admin-token-0123456789';
const EMAIL = 'erin@example.com';
const AUDIENCE = 'shapingaud01';

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
let msw: ReturnType<typeof setupServer>;
let preferencesUrl: string;
const shopify = createShopifySandbox({ shop: 'shaping-demo.myshopify.com' });
const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
const platform = createShopifyPlatform({ shop: shopify.shop, accessToken: shopify.accessToken, fetch: shopify.fetch });
const provider = createMailchimpProvider({ apiKey: mailchimp.apiKey, audienceId: AUDIENCE });
const pageErrors: string[] = [];

async function seedShop(t: Tactful): Promise<void> {
  const day = (d: number) => new Date(Date.UTC(2026, 5, d));
  await t.products.upsert([
    { id: 'tea', title: 'Sencha green tea', available: true, category: 'Tea' },
    { id: 'pot', title: 'Cast-iron teapot', available: true, category: 'Tea' },
    { id: 'toy', title: 'Wooden toy train', available: true, category: 'Toys' },
    { id: 'rails', title: 'Toy train rails', available: true, category: 'Toys' },
    { id: 'beans', title: 'Espresso beans', available: true, category: 'Coffee' },
    { id: 'grinder', title: 'Burr grinder', available: true, category: 'Coffee' },
  ]);
  const pairs = [
    ['tea', 'pot'],
    ['toy', 'rails'],
    ['beans', 'grinder'],
  ];
  const orders = Array.from({ length: 24 }, (_, i) => {
    const items = pairs[i % 3]!;
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
    customerId: 'c-erin',
    email: EMAIL,
    createdAt: day(26),
    updatedAt: day(26),
    lines: ['tea', 'toy', 'beans'].map((productId) => ({ productId, title: productId, quantity: 1 })),
  });
  await t.orders.ingest(orders, 'shopify');
  for (const purpose of ['email_marketing', 'personalization']) {
    await t.consent.record({
      subject: { email: EMAIL },
      purpose,
      state: 'granted',
      level: 'confirmed',
      occurredAt: day(27),
      source: { system: 'tactful', eventId: `erin-${purpose}`, method: 'double_opt_in_confirmation' },
    });
  }
  // What the other systems hold before the customer corrects it.
  shopify.addCustomer({ email: EMAIL, firstName: 'Erinn', lastName: 'Smtih', city: 'Ghent' });
  mailchimp.seedMember(EMAIL, 'subscribed', { mergeFields: { FNAME: 'Erinn', LNAME: 'Smtih' } });
  await t.profiles.ingestCustomers(
    [{ id: 'c-erin', email: EMAIL, firstName: 'Erinn', lastName: 'Smtih', city: 'Ghent', updatedAt: day(27) }],
    'shopify',
  );
  // The preview must not depend on the hour the test runs at.
  await t.contact.setPolicy({ quietHours: null });
  await t.settings.update({
    connectedSystems: ['shopify', 'mailchimp'],
    sender: { name: 'Leaf & Bean', email: 'hello@leaf.example', postalAddress: '3 Tea Row, 1000 Brussels, BE' },
  });
}

const shot = screenshots(() => page);

async function deliverOutbox(): Promise<void> {
  await tactful.outbox.dispatcher({ targets: tactful.targets({ platform, provider }) }).drain();
}

beforeAll(async () => {
  msw = setupServer(...shopify.handlers, ...mailchimp.handlers);
  msw.listen({ onUnhandledRequest: 'bypass' });
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: shopify.shop });
  await seedShop(tactful);
  const port = await freePort();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    PORT: String(port),
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }), provider }), {
    host: '127.0.0.1',
    port,
  });
  preferencesUrl = `${server.url}/preferences?token=${encodeURIComponent(await tactful.links.preferences((await tactful.audit.subjectIdOf(EMAIL))!))}`;
  browser = await sharedChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  collectPageErrors(page, pageErrors);
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
  msw?.close();
});

describe('customers correct and shape what is known about them, in a browser', () => {
  it('as a customer: correct a name and a job title, exclude a purchase and a category; the preference centre shows it', async () => {
    await page.goto(preferencesUrl);
    await page.getByRole('heading', { name: 'Correct your details' }).waitFor();
    const before = await page.locator('main').innerText();
    expect(before).toMatch(/because you bought\s+Wooden toy train/);
    expect(before).toMatch(/because you bought\s+Espresso beans/);
    await shot('20-shaping-before');

    await page.getByLabel('First name').fill('Erin');
    await page.getByLabel('Last name').fill('Smith');
    await page.getByLabel('Job title').fill('Tea taster');
    await page.getByRole('button', { name: 'Save my details' }).click();
    await page.getByText('Your choices are saved.').waitFor();

    await page.locator('tr[data-product="toy"] button', { hasText: 'Not this' }).click();
    await page.getByText('Your choices are saved.').waitFor();
    await page.locator('tr[data-category="Coffee"] button', { hasText: 'Not this category' }).click();
    await page.getByText('Your choices are saved.').waitFor();

    const after = await page.locator('main').innerText();
    expect(after).toMatch(/First name\s+Erin\s+customer/);
    expect(after).toMatch(/Job title\s+Tea taster\s+customer/);
    expect(after).toMatch(/Purchases you excluded\s+Wooden toy train/);
    expect(after).toMatch(/Categories you excluded\s+Coffee/);
    expect(await page.locator('tr[data-product="toy"]').innerText()).toMatch(/no \(you excluded it\)/);
    expect(await page.locator('tr[data-product="beans"]').innerText()).toMatch(/no \(you excluded its category\)/);
    // The recommendations now rest on the tea only, and say so.
    const why = await page.locator('h2:has-text("Why we recommend") + *').innerText();
    expect(why).toMatch(/Cast-iron teapot[\s\S]*because you bought\s+Sencha green tea/);
    expect(why).not.toContain('Wooden toy train');
    expect(why).not.toContain('Espresso beans');
    expect(why).not.toContain('Burr grinder');
    await shot('21-shaping-after');

    // Bad input is refused and changes nothing.
    await page.getByLabel('Birth date').fill('1990-04-02');
    await page.getByLabel('Country').fill('B1');
    await page.getByRole('button', { name: 'Save my details' }).click();
    expect(await page.locator('main').innerText()).toMatch(/Nothing was changed/);
    expect((await tactful.profiles.show(EMAIL)).profile!.attributes).not.toHaveProperty('birthDate');
    expect((await tactful.profiles.show(EMAIL)).profile!.attributes).not.toHaveProperty('country');
    // That refusal answered 400 on purpose; nothing else may be logged as an error.
    expect(pageErrors.splice(0)).toEqual([expect.stringMatching(/status of 400/)]);
  });

  it('the export bundle carries the corrections and the exclusions', async () => {
    await page.goto(preferencesUrl);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my data' }).click(),
    ]);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      profile: {
        attributes: Record<string, { value: unknown; source: string }>;
        preferences: { excludedProducts: string[]; excludedCategories: string[] };
      };
      audit: Array<{ action: string; details: Record<string, unknown> }>;
    };
    expect(bundle.profile.attributes.firstName).toMatchObject({ value: 'Erin', source: 'customer' });
    expect(bundle.profile.attributes.city).toMatchObject({ value: 'Ghent', source: 'shopify' });
    expect(bundle.profile.preferences).toMatchObject({ excludedProducts: ['toy'], excludedCategories: ['Coffee'] });
    const changes = bundle.audit.filter((a) => a.action === 'profile.changed' && a.details.source === 'customer');
    expect(changes.length).toBeGreaterThanOrEqual(3);
  });

  it('as the owner: the campaign preview shows only true reasons', async () => {
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.goto(`${server.url}/admin/campaign?email=${encodeURIComponent(EMAIL)}`);
    const main = await page.locator('main').innerText();
    expect(main).toContain(`${EMAIL} would receive the email now.`);
    const email = await page.locator('section.email').first().innerText();
    expect(email).toContain('Cast-iron teapot');
    expect(email).toMatch(/you bought Sencha green tea/i);
    for (const blocked of ['Wooden toy train', 'Toy train rails', 'Espresso beans', 'Burr grinder'])
      expect(email).not.toContain(blocked);
    await assertReasonTextTrue(tactful, EMAIL, email);
    await shot('22-shaping-campaign-preview');
  });

  it('after the outbox runs, Shopify holds the corrected names and Mailchimp the merge fields', async () => {
    await deliverOutbox();
    const customer = [...shopify.state.customers.values()].find((c) => c.email === EMAIL)!;
    expect(customer).toMatchObject({ firstName: 'Erin', lastName: 'Smith', city: 'Ghent' });
    expect(mailchimp.member(EMAIL)).toMatchObject({
      status: 'subscribed',
      merge_fields: { FNAME: 'Erin', LNAME: 'Smith' },
    });
    expect(await tactful.outbox.counts()).toMatchObject({ pending: 0, dead: 0 });
    // A later sync from Shopify (a customers/update echo with the old spelling) does not undo the correction.
    await tactful.profiles.ingestCustomers(
      [{ id: customer.id, email: EMAIL, firstName: 'Erinn', updatedAt: new Date() }],
      'shopify',
    );
    expect((await tactful.profiles.show(EMAIL)).profile!.attributes.firstName).toMatchObject({
      value: 'Erin',
      source: 'customer',
    });
    expect(pageErrors).toEqual([]);
  });
});
