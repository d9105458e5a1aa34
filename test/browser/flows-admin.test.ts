/**
 * The admin's Flows page in a real browser (Debian's chromium through playwright-core): the owner turns the flow
 * on and sets it, a bad value is refused with nothing changed, the next steps due say who, when and what, the
 * charts are drawn, and the page never scrolls sideways on a phone (390 px) or a desk (1280 px).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createMemoryEmailProvider, embeddedTestStore } from '@tactful/core/testing';
import { collectPageErrors, freePort, releaseChromium, sharedChromium, sidewaysOverflow } from '../support/browser.js';
import { teaAndCoffeeHistory } from '../support/flow-shop.js';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';

const SHOP = 'flows-browser.myshopify.com';
const ADMIN = 'flows-browser-admin-token-0123456789';
const day = (d: number) => new Date(Date.now() - d * 86_400_000);

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

async function seed(t: Tactful): Promise<void> {
  // Any hour of the day: the preview's verdict must not depend on when the test runs.
  await t.contact.setPolicy({ quietHours: null });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({
      id,
      title: `The ${id}`,
      url: `https://s.example/${id}`,
      available: true,
    })),
  );
  await t.consent.recordBatch(
    ['ann', 'ben'].flatMap((n) =>
      ['email_marketing', 'personalization'].map((purpose) => ({
        subject: { email: `${n}@example.com` },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt: day(60),
        source: { system: 'shopify', eventId: `${n}-${purpose}`, method: 'form' },
      })),
    ),
  );
  await t.orders.ingest(teaAndCoffeeHistory(day(50)), 'shopify');
}

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP });
  await seed(tactful);
  const port = await freePort();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_SHOP: SHOP,
    PORT: String(port),
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  const provider = createMemoryEmailProvider().provider;
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }), provider }), {
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

describe('the Flows page', () => {
  it('turns the flow on; a bad send window is refused with nothing changed; the next step due says what it will send', async () => {
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(ADMIN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.goto(`${server.url}/admin/flows`);
    await page.getByLabel(/^On:/).check();
    await page.getByLabel(/^Send window from/).fill('25:00');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.locator('.notice.error').innerText()).toMatch(/window\.start.*Nothing was changed\./s);
    // The refusal is answered 400, which the browser logs: expected here, and the only such line.
    expect(pageErrors.splice(0)).toEqual([
      'Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    expect((await tactful.flows.show('post-purchase')).enabled).toBe(false);
    await page.getByLabel(/^On:/).check();
    await page.getByLabel(/^Send window from/).fill('00:00');
    await page.getByLabel(/^to$/).fill('23:59');
    await page.getByLabel(/^Holdout \(%/).fill('0');
    await page.getByLabel(/^Delay/).fill('3');
    await page.getByRole('button', { name: 'Save' }).click();
    expect(await page.locator('.notice.ok').innerText()).toBe('Saved.');
    expect(await tactful.flows.show('post-purchase')).toMatchObject({ enabled: true, delayDays: 3, holdoutShare: 0 });
    // A paid order of Ann's arrives: the page shows her step, when it is due and what it will say.
    await tactful.orders.ingest(
      [
        {
          id: 'o-ann',
          email: 'ann@example.com',
          createdAt: new Date(),
          updatedAt: new Date(),
          lines: [{ productId: 'tea', title: 'tea', quantity: 1 }],
        },
      ],
      'shopify',
    );
    await page.goto(`${server.url}/admin/flows`);
    const preview = await page.locator('section.card', { hasText: 'Next steps due' }).innerText();
    expect(preview).toContain('ann@example.com');
    expect(preview).toContain('o-ann');
    expect(preview).toMatch(/will get it\s+Because you bought The tea on /);
    expect(await page.locator('canvas[data-chart="flowFunnel"]').count()).toBe(1);
    expect(await page.locator('canvas[data-chart="flowHoldout"]').count()).toBe(1);
  });

  it('fits a phone (390 px) and a desk (1280 px) without scrolling sideways, with no script error', async () => {
    expect(await sidewaysOverflow(page, [`${server.url}/admin/flows`])).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
