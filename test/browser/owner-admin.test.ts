/**
 * The owner's own work in a real browser (Debian's chromium through playwright-core), without the CLI or
 * environment variables: connect Mailchimp (a sandbox served over loopback HTTP; a wrong key is refused with
 * Mailchimp's reason and nothing is stored), pick the audience, watch the dashboard's checklist turn green, build a
 * segment with the form and its live count, keep a product out of recommendations from the explorer. Every page
 * touched is checked for sideways scrolling at 390 and 1280 px. Screenshots: `screenshots` in test/support/browser.ts.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import {
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpSandbox,
  type MailchimpSandboxHost,
} from '@tactful/mailchimp/testing';
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

const ADMIN = 'owner-admin-browser-token-0123456789';
const EMAIL = 'olga@example.com';
const AUDIENCE = 'shopaud001';

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let mailchimp: MailchimpSandbox;
let mailchimpHost: MailchimpSandboxHost;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

/** A picture served by the app itself in demo mode (the tile of /demo/product-image.svg). */
let picture: (title: string) => string;

async function seedShop(t: Tactful): Promise<void> {
  const day = (d: number) => new Date(Date.UTC(2026, 5, d));
  await t.products.upsert([
    {
      id: 'coffee',
      title: 'House coffee',
      available: true,
      category: 'Coffee',
      price: '9.50',
      imageUrl: picture('coffee'),
    },
    {
      id: 'filters',
      title: 'Paper filters',
      available: true,
      category: 'Coffee',
      price: '3.20',
      imageUrl: picture('filters'),
    },
    {
      id: 'mug',
      title: 'Stoneware mug',
      available: true,
      category: 'Kitchen',
      price: '12.00',
      imageUrl: picture('mug'),
    },
    { id: 'gift', title: 'Gift card 25', available: true, category: 'Gift cards', price: '25.00' },
    { id: 'tea', title: 'Sencha tea', available: true, category: 'Tea', price: '7.00' },
    // A long category name: its option must not widen the page on a phone.
    {
      id: 'kettle',
      title: 'Gooseneck kettle',
      available: true,
      category: 'Brewing equipment for pour-over and other slow coffee methods',
      price: '49.00',
    },
  ]);
  const baskets = [
    ...Array.from({ length: 12 }, () => ['coffee', 'filters', 'mug']),
    ...Array.from({ length: 8 }, () => ['coffee', 'filters', 'gift']),
    ...Array.from({ length: 6 }, () => ['tea']),
  ];
  const orders = baskets.map((items, i) => ({
    id: `seed-${i}`,
    customerId: `c-${i}`,
    email: `buyer${i}@example.com`,
    createdAt: day(1 + (i % 20)),
    updatedAt: day(1 + (i % 20)),
    lines: items.map((productId) => ({ productId, title: productId, quantity: 1 })),
  }));
  orders.push({
    id: 'olga-1',
    customerId: 'c-olga',
    email: EMAIL,
    createdAt: day(22),
    updatedAt: day(22),
    lines: [{ productId: 'coffee', title: 'coffee', quantity: 1 }],
  });
  await t.orders.ingest(orders, 'shopify');
  for (const [i, email] of [EMAIL, 'buyer1@example.com', 'buyer2@example.com'].entries())
    for (const purpose of ['personalization', 'email_marketing'])
      await t.consent.record({
        subject: { email },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt: day(23),
        source: { system: 'tactful', eventId: `grant-${i}-${purpose}`, method: 'double_opt_in_confirmation' },
      });
}

const shot = screenshots(() => page);

/** The pages that are wider than the window at 390 or 1280 px (none is the goal), with a screenshot at 390. */
async function overflow(paths: string[]): Promise<string[]> {
  const wide = await sidewaysOverflow(
    page,
    paths.map((path) => `${server.url}${path}`),
    (url) =>
      shot(
        `owner-390-${url
          .slice(server.url.length)
          .replace(/[^a-z0-9]+/gi, '-')
          .replace(/^-|-$/g, '')}`,
      ),
  );
  await page.setViewportSize({ width: 1280, height: 900 });
  return wide;
}

/** Waits until the live count shows `n`. */
async function liveCount(n: string): Promise<void> {
  await page.waitForFunction(
    (want) =>
      (
        globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }
      ).document.querySelector('#segment-live [data-live-count]')?.textContent === want,
    n,
  );
}

async function post(path: string, form: Record<string, string>): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body: new URLSearchParams(form),
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
}

beforeAll(async () => {
  mailchimp = createMailchimpSandbox({
    audiences: [
      { id: 'otheraud01', name: 'Old newsletter', doubleOptIn: false },
      { id: AUDIENCE, name: 'Shop customers', doubleOptIn: true },
    ],
  });
  mailchimpHost = await serveMailchimpSandbox(mailchimp);
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'owner-browser.myshopify.com' });
  const port = await freePort();
  picture = (title) => `http://127.0.0.1:${port}/demo/product-image.svg?title=${encodeURIComponent(title)}`;
  await seedShop(tactful);
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    PORT: String(port),
    TACTFUL_RATE_LIMIT: '10000',
  });
  server = await startServer(
    createApp({ tactful, config, logger: pino({ level: 'silent' }), mailchimpBaseUrl: mailchimpHost.baseUrl }),
    { host: '127.0.0.1', port },
  );
  browser = await sharedChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  collectPageErrors(page, pageErrors);
  await page.goto(`${server.url}/admin`);
  await page.getByLabel('Admin token').fill(ADMIN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
  await mailchimpHost?.close();
});

describe('the owner runs the admin alone', () => {
  it('connects Mailchimp: a wrong key is refused with Mailchimp’s reason and nothing stored; the right one, an audience, and the checklist turns green', async () => {
    // Before anything: the dashboard says what is missing, each with a link to fix it.
    const before = page.locator('section.checklist');
    expect(await before.locator('li[data-done="no"]').count()).toBeGreaterThanOrEqual(4);
    await shot('owner-01-dashboard-checklist');
    await before.locator('li[data-check="provider"] a', { hasText: 'Fix it' }).click();
    await page.getByRole('heading', { name: 'Connections' }).waitFor();

    // A key of the wrong shape, then a well-formed key Mailchimp refuses.
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Check and connect' }).click();
    expect(await page.getByRole('alert').innerText()).toMatch(
      /API key looks like 32 hex characters.*Nothing was stored/,
    );
    await page.getByLabel('API key').fill(`${'f'.repeat(32)}-${mailchimp.dc}`);
    await page.getByRole('button', { name: 'Check and connect' }).click();
    const refusal = await page.getByRole('alert').innerText();
    expect(refusal).toContain('Mailchimp refused this key');
    expect(refusal).toContain('API Key Invalid');
    expect(refusal).toContain('Nothing was stored');
    await shot('owner-02-wrong-key');
    expect(await tactful.connections.get('mailchimp')).toBeNull();
    expect((await tactful.audit.page({ action: 'connection.changed' }, { limit: 5, offset: 0 })).total).toBe(0);

    // The right key: kept encrypted, shown by its last four characters, then the audience is picked.
    await page.getByLabel('API key').fill(mailchimp.apiKey);
    await page.getByRole('button', { name: 'Check and connect' }).click();
    await page.getByText('Mailchimp accepted the key').waitFor();
    expect(await page.locator('main').innerText()).not.toContain(mailchimp.apiKey);
    expect(await page.locator('main').innerText()).toContain(mailchimp.apiKey.slice(-4));
    await page.getByLabel(/Shop customers/).check();
    await shot('owner-03-pick-audience');
    await page.getByRole('button', { name: 'Use this audience' }).click();
    await page.getByText('Mailchimp is connected').waitFor();
    const audience = mailchimp.state.audiences.get(AUDIENCE)!;
    expect(audience.webhooks.map((w) => w.url)).toEqual([expect.stringMatching(`^${server.url}/mailchimp/webhooks/`)]);
    expect([...audience.mergeFields.keys()]).toEqual(expect.arrayContaining(['REASON', 'CONSENT', 'PREFS_URL']));
    expect((await tactful.settings.get()).connectedSystems).toContain('mailchimp');
    await shot('owner-04-connected');

    // The sender identity is the last thing missing; then the dashboard says everything is ready.
    await page.goto(`${server.url}/admin`);
    expect(await page.locator('li[data-check="sender"]').getAttribute('data-done')).toBe('no');
    await page.locator('li[data-check="sender"] a', { hasText: 'Fix it' }).click();
    await page.getByLabel('Name emails are from').fill('Bean Shop');
    await page.getByLabel('Reply address').fill('hello@bean.example');
    await page.getByLabel('Postal address').fill('1 Roastery Lane, 9000 Ghent, BE');
    await page.locator('form[action="/admin/sender"] button').click();
    await page.getByText('Saved.').waitFor();
    await page.goto(`${server.url}/admin`);
    expect(await page.locator('[data-checklist-missing="0"]').count()).toBe(1);
    await shot('owner-05-dashboard-ready');
    // The app sends through the connection at once (no restart): the campaign page offers a real send.
    await page.goto(`${server.url}/admin/campaign`);
    expect(await page.locator('main').innerText()).toContain('<hello@bean.example> through mailchimp');
  });

  it('builds a segment by form: rows, a nested group, the live count, the JSON in step both ways, then saves it for campaigns', async () => {
    await page.goto(`${server.url}/admin/segments`);
    const builder = page.locator('#segment-builder');
    await builder.waitFor();
    const count = page.locator('#segment-live [data-live-count]');
    // The example (email offers granted, at least one order) as rows, counted live.
    expect(await builder.locator('.seg-row').count()).toBe(2);
    await count.waitFor();
    expect(await count.innerText()).toBe('3');
    // At least 100 orders: nobody.
    const orders = builder.locator('.seg-row[data-field="orderCount"] input');
    await orders.fill('100');
    await liveCount('0');
    expect(JSON.parse(await page.locator('#segment-json').inputValue())).toEqual({
      all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { orderCount: { min: 100 } }],
    });
    await orders.fill('1');
    // A nested "any" group: bought from Coffee or Tea.
    await builder.getByRole('button', { name: '+ Group' }).first().click();
    const group = builder.locator('.seg-group[data-depth="1"]');
    await group.locator('.seg-row select[aria-label="Field"]').selectOption('purchasedCategory');
    await group.locator('.seg-row select[aria-label="Value"]').selectOption('Coffee');
    await group.getByRole('button', { name: '+ Condition' }).click();
    await group.locator('.seg-row').nth(1).locator('select[aria-label="Field"]').selectOption('purchasedCategory');
    await group.locator('.seg-row').nth(1).locator('select[aria-label="Value"]').selectOption('Tea');
    await liveCount('3');
    expect(JSON.parse(await page.locator('#segment-json').inputValue())).toEqual({
      all: [
        { consent: { purpose: 'email_marketing', state: 'granted' } },
        { orderCount: { min: 1 } },
        { any: [{ purchased: { category: 'Coffee' } }, { purchased: { category: 'Tea' } }] },
      ],
    });
    await shot('owner-06-segment-builder');
    // Invalid JSON: a clear message; valid JSON typed by hand: the rows follow.
    await page.locator('#segment-json').fill('{"all": [');
    expect(await page.locator('#segment-json-error').innerText()).toMatch(/The JSON is not valid/);
    await page.locator('#segment-json').fill('{"any":[{"rfmLabel":"champions"},{"not":{"ageBand":"<18"}}]}');
    await page.waitForFunction(
      () =>
        (
          globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }
        ).document.querySelectorAll('#segment-builder .seg-row').length === 2,
    );
    expect(await page.locator('#segment-json-error').isHidden()).toBe(true);
    expect(await builder.locator('.seg-row').nth(1).locator('select[aria-label="Operator"]').inputValue()).toBe('not');
    // Back to the coffee-or-tea buyers, saved by name.
    await page.locator('#segment-json').fill(
      JSON.stringify({
        all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { purchased: { category: 'Coffee' } }],
      }),
    );
    await liveCount('3');
    await page.locator('input[name=name]').fill('coffee-buyers');
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByText('Segment "coffee-buyers" saved.').waitFor();
    expect((await tactful.segments.get('coffee-buyers'))?.definition).toEqual({
      all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { purchased: { category: 'Coffee' } }],
    });
    expect((await tactful.audit.page({ action: 'segment.saved' }, { limit: 5, offset: 0 })).total).toBe(1);
    await page.goto(`${server.url}/admin/campaign`);
    expect(await page.locator('select[name=segment] option', { hasText: 'coffee-buyers' }).count()).toBe(1);
  });

  it('keeps a product out of recommendations from the explorer and sees it gone, with the reason recorded', async () => {
    await page.goto(`${server.url}/admin/recommendations?product=coffee`);
    const related = page.locator('section[aria-labelledby="related-title"]');
    expect(await related.innerText()).toContain('People who bought House coffee also bought');
    const mug = related.locator('li.product-line[data-product="mug"]');
    expect(await mug.innerText()).toMatch(/In 12 orders together/);
    expect(
      await mug.locator('img').evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(0);
    // The gift card is left out automatically, and says so.
    expect(await related.locator('li.product-line[data-product="gift"]').count()).toBe(0);
    expect(await related.locator('[data-left-out="gift"]').innerText()).toContain('a gift card: never recommended');
    // The statistics are one click away.
    expect(await mug.locator('details.stats dl').isVisible()).toBe(false);
    await mug.locator('details.stats summary').click();
    expect(await mug.locator('details.stats dl').innerText()).toMatch(/Lift[\s\S]*G²/);
    await shot('owner-07-explorer');
    await mug.getByRole('button', { name: 'Never recommend' }).click();
    await page.getByText('Stoneware mug is never recommended now.').waitFor();
    expect(
      await page.locator('section[aria-labelledby="related-title"] li.product-line[data-product="mug"]').count(),
    ).toBe(0);
    expect(await page.locator('[data-left-out="mug"]').innerText()).toContain('never recommended by the shop');
    // Gone from the customer's list too (what campaigns and the preference centre use).
    await page.goto(`${server.url}/admin/recommendations?customer=${encodeURIComponent(EMAIL)}`);
    const customer = page.locator('section[aria-labelledby="customer-title"]');
    expect(await customer.locator('li.product-line[data-product="mug"]').count()).toBe(0);
    expect((await tactful.recommend.forCustomer(EMAIL)).recommendations.map((r) => r.productId)).not.toContain('mug');
    // Favour tea: it leads the customer's list.
    await page.locator('input[name=find]').fill('sencha');
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .locator('#merchandising li.product-line[data-product="tea"]')
      .getByRole('button', { name: 'Favour' })
      .click();
    await page.getByText('Sencha tea is favoured now').waitFor();
    expect((await tactful.recommend.forCustomer(EMAIL)).recommendations[0]?.productId).toBe('tea');
    await shot('owner-08-merchandising');
    expect((await tactful.audit.page({ action: 'merchandising.changed' }, { limit: 5, offset: 0 })).total).toBe(2);
  });

  it('bad input on every new form: a clear message, nothing changed', async () => {
    const rules = await tactful.merchandising.rules();
    const unknown = await post('/admin/merchandising', {
      action: 'exclude-product',
      productId: 'nope',
      back: '/admin/recommendations',
    });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toMatch(/No product &quot;nope&quot; in the catalogue.*Nothing was changed/);
    const action = await post('/admin/merchandising', { action: 'drop-table', productId: 'mug' });
    expect(action.status).toBe(400);
    const category = await post('/admin/merchandising', { action: 'exclude-category', category: '' });
    expect(await category.text()).toContain('Pick a category first');
    expect(await tactful.merchandising.rules()).toEqual(rules);

    const segments = (await tactful.segments.list()).length;
    const notJson = await post('/admin/segments', { name: 'broken', definition: '{"all": [' });
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toMatch(/not valid JSON.*Nothing was saved/);
    const badName = await post('/admin/segments', { name: 'Bad Name!', definition: '{"all":[]}' });
    expect(badName.status).toBe(400);
    expect((await tactful.segments.list()).length).toBe(segments);
    const preview = await fetch(
      `${server.url}/admin/segments/preview.json?definition=${encodeURIComponent('{"orderCount":{}}')}`,
      {
        headers: { authorization: `Bearer ${ADMIN}` },
      },
    );
    expect(preview.status).toBe(200);
    expect(await preview.json()).toEqual({
      ok: false,
      message: expect.stringContaining('Invalid segment at orderCount'),
    });

    const connection = await tactful.connections.get('mailchimp');
    const audience = await post('/admin/connections/mailchimp/audience', { audienceId: 'nope' });
    expect(audience.status).toBe(400);
    expect(await audience.text()).toContain('pick one of the audiences listed. Nothing was changed.');
    const empty = await post('/admin/connections/mailchimp', { apiKey: '' });
    expect(empty.status).toBe(400);
    expect(await tactful.connections.get('mailchimp')).toEqual(connection);
    // A replaced key that reaches the same audience keeps it and its webhook (no second registration).
    const replaced = await post('/admin/connections/mailchimp', { apiKey: mailchimp.apiKey });
    expect(replaced.headers.get('location')).toBe('/admin/connections?done=replaced');
    expect((await tactful.connections.get('mailchimp'))?.details).toMatchObject({
      audienceId: AUDIENCE,
      webhookId: connection?.details.webhookId,
    });
    expect(mailchimp.state.audiences.get(AUDIENCE)!.webhooks).toHaveLength(1);
  });

  it('no page touched scrolls sideways at 390 px or 1280 px, and no page had a script error', async () => {
    const wide = await overflow([
      '/admin',
      '/admin/connections',
      '/admin/connections?change=audience',
      '/admin/segments',
      '/admin/recommendations?product=coffee',
      `/admin/recommendations?customer=${encodeURIComponent(EMAIL)}&find=coffee`,
      '/admin/settings',
    ]);
    expect(wide).toEqual([]);
    // The refusals of the wrong keys are answered 400 on purpose; nothing else may fail.
    expect(pageErrors.filter((e) => !/status of 400/.test(e))).toEqual([]);
  });
});
