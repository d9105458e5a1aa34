/**
 * The admin merge page in a real browser: the owner names two addresses, sees both people and the result,
 * confirms, and the merge is done (audited); bad input is refused with a clear message and nothing changed.
 * The page fits a phone (390 px) and a desk (1280 px) without sideways scrolling.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';
import { collectPageErrors, releaseChromium, sharedChromium, sidewaysOverflowHere } from '../support/browser.js';

const SHOP = 'e2e-merge-page.myshopify.com';
const ADMIN = 'e2e-merge-page-admin-token-0123456789';
const HOME = 'ann.with.a.rather.long.address@home.merge.example';
const WORK = 'ann@work.merge.example';

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
const errors: string[] = [];

async function person(email: string, id: string) {
  for (const purpose of ['email_marketing', 'personalization'])
    await tactful.consent.record({
      subject: { email },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: new Date(),
      source: { system: 'tactful', eventId: `${id}:${purpose}`, method: 'form' },
    });
}

async function merges(): Promise<number> {
  let n = 0;
  for await (const chunk of tactful.audit.export('jsonl')) n += chunk.split('"subject.merged"').length - 1;
  return n;
}

async function preview(keep: string, other: string) {
  await page.goto(`${server.url}/admin/merge`);
  await page.fill('input[name="keep"]', keep);
  await page.fill('input[name="other"]', other);
  await page.click('form[action="/admin/merge"] button[type="submit"]');
  await page.waitForLoadState('load');
}

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP });
  await person(HOME, 'home');
  await person(WORK, 'work');
  await tactful.profiles.setAttributes(HOME, { firstName: 'Ann', city: 'Lyon' }, 'shopify');
  await tactful.profiles.setAttributes(WORK, { city: 'Paris', jobTitle: 'Chemist' }, 'customer');
  await tactful.orders.ingest(
    [
      {
        id: 'merge-o1',
        email: WORK,
        createdAt: new Date(),
        updatedAt: new Date(),
        currency: 'EUR',
        totalPrice: '9.00',
        lines: [{ productId: 'p1', title: 'Tea', quantity: 1 }],
      },
    ],
    'shopify',
  );
  await person('gone@merge.example', 'gone');
  await tactful.privacy.erase('gone@merge.example', { reason: 'customer request', compact: false });
  const config = readServeConfig({ TACTFUL_ADMIN_TOKEN: ADMIN, TACTFUL_SHOP: SHOP });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port: 0,
  });
  browser = await sharedChromium();
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${ADMIN}` } });
  page = await context.newPage();
  collectPageErrors(page, errors);
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
});

describe('the admin merge page', () => {
  it('is in the navigation and fits at 390 and 1280 px, empty and with a preview', async () => {
    await page.goto(`${server.url}/admin`);
    expect(await page.$$eval('header.top a', (links) => links.map((a) => a.getAttribute('href')))).toContain(
      '/admin/merge',
    );
    await page.goto(`${server.url}/admin/merge`);
    expect(await sidewaysOverflowHere(page)).toEqual([]);
    await preview(HOME, WORK);
    expect(await sidewaysOverflowHere(page)).toEqual([]);
    const text = await page.textContent('main');
    // Both people, with their consents, orders and attributes, and what the merge keeps.
    expect(text).toContain(HOME);
    expect(text).toContain(WORK);
    expect(text).toContain('Chemist');
    expect(await page.textContent('#merge-result')).toMatch(/Orders: 1/);
    expect(await page.textContent('#merge-result')).toContain('Paris');
    expect(await page.textContent('#merge-result')).toMatch(/city of the kept person \(shopify\)/);
    expect(await merges()).toBe(0);
    expect(errors).toEqual([]);
  });

  it('refuses bad input with a clear message and changes nothing', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [HOME, HOME, /Enter two different addresses/],
      [HOME, 'gone@merge.example', /asked to be erased/],
      [HOME, 'nobody@merge.example', /No customer with email nobody@merge\.example/],
      [HOME, 'not-an-address', /not a valid email address/],
    ];
    for (const [keep, other, message] of cases) {
      await page.goto(`${server.url}/admin/merge?keep=${encodeURIComponent(keep)}&other=${encodeURIComponent(other)}`);
      expect(await page.textContent('[role="alert"]')).toMatch(message);
      expect(await page.textContent('[role="alert"]')).toContain('Nothing was changed.');
      expect(await page.$('#merge-result')).toBeNull();
    }
    expect(await merges()).toBe(0);
    expect(await tactful.audit.subjectIdOf(WORK)).not.toBeNull();
    // The refusals are answered with their status (400, 403, 404): the browser logs each, and nothing else.
    expect(errors.filter((e) => !/status of 40[034]/.test(e))).toEqual([]);
    errors.length = 0;
  });

  it('merges on confirmation, through the engine, audited as the admin', async () => {
    await preview(HOME, WORK);
    await page.click('#merge-result button[type="submit"]');
    await page.waitForLoadState('load');
    expect(await page.textContent('[role="status"]')).toContain('Merged.');
    expect(await sidewaysOverflowHere(page)).toEqual([]);
    expect(await merges()).toBe(1);
    let audit = '';
    for await (const chunk of tactful.audit.export('jsonl')) audit += chunk;
    expect(audit.split('\n').find((l) => l.includes('"subject.merged"'))).toContain('dashboard');
    expect(await tactful.audit.subjectIdOf(WORK)).toBeNull();
    const shown = await tactful.profiles.show(HOME);
    expect(shown.profile?.orders.count).toBe(1);
    expect(shown.profile?.attributes.jobTitle?.value).toBe('Chemist');
    // A second confirmation (the form posted again) is refused: the work address is the kept person's now.
    const again = await page.request.post(`${server.url}/admin/merge`, {
      form: { keep: HOME, other: WORK },
      headers: { origin: server.url },
    });
    expect(again.status()).toBe(400);
    expect(await again.text()).toContain('same person already');
    expect(await merges()).toBe(1);
    expect(errors).toEqual([]);
  });
});
