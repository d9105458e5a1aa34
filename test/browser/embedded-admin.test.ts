/**
 * The admin dashboard embedded in the Shopify admin, in a real browser (Debian's chromium through
 * playwright-core). No cookie works in the admin's iframe and session tokens live about a minute, so the
 * embedded script (/assets/embedded.js) asks App Bridge for a fresh token on every admin link and form.
 * App Bridge itself comes from Shopify's CDN: the test answers that request with a stand-in whose
 * `shopify.idToken()` returns tokens signed like Shopify's (HS256, the app's client secret), living only
 * 3 seconds, so a navigation that reused an old token would be refused.
 */
import { embeddedTestStore } from '@tactful/core/testing';
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectPageErrors, freePort, releaseChromium, sharedChromium } from '../support/browser.js';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';

const SHOP = 'embedded-browser.myshopify.com';
const API_KEY = 'embedded-browser-client-id';
const API_SECRET = 'embedded-browser-client-secret-0123456789';
const TOKEN_SECONDS = 3;
/** @shopify/shopify-api accepts a token up to 10 s after its exp (clock tolerance). */
const PAST_LIFETIME_MS = (TOKEN_SECONDS + 10 + 1.5) * 1000;

let store: Store;
let tactful: Tactful;
let server: RunningServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
/** Tokens the stand-in App Bridge handed out, in order. */
const issued: string[] = [];
/** Every document request and form post the page sent to the app: method, URL, body. */
const sent: Array<{ method: string; url: URL; body: string | null }> = [];
let bridgeLoads = 0;

/** A session token as Shopify issues it for this shop and app, living TOKEN_SECONDS. */
function sessionToken(): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: `https://${SHOP}/admin`,
    dest: `https://${SHOP}`,
    aud: API_KEY,
    sub: '42',
    exp: now + TOKEN_SECONDS,
    nbf: now - 1,
    iat: now,
    jti: randomUUID(),
    sid: randomUUID(),
  };
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', API_SECRET).update(unsigned).digest('base64url')}`;
}

/** What App Bridge's CDN script provides that our script uses: `shopify.idToken()`, resolving a fresh token. */
const appBridgeStandIn = `window.shopify={idToken:function(){return window.__testIssueIdToken();}};`;

const heading = () => page.locator('main h1').first().textContent();
const signInShown = () => page.locator('form[action="/admin/login"]').count();
const lastToken = () => issued[issued.length - 1];
const lastSent = () => sent[sent.length - 1];

/**
 * Time passes for every token issued so far, past the verifier's clock tolerance, without waiting for it: the app
 * runs in this process and @shopify/shopify-api checks a token's exp against Date, so the test moves Date on (the
 * tokens issued afterwards are minted on the same clock). Timers and the browser's own clock stay real.
 */
function letTokensExpire(): void {
  vi.setSystemTime(Date.now() + PAST_LIFETIME_MS);
}

beforeAll(async () => {
  // Date only, still running with real time (see letTokensExpire); the files sharing this worker get it back in afterAll.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP });
  const port = await freePort();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: 'embedded-browser-admin-token-0123456789',
    TACTFUL_SHOP: SHOP,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_SCOPES: 'read_customers,read_orders',
    PORT: String(port),
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port,
  });
  browser = await sharedChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.exposeFunction('__testIssueIdToken', () => {
    const token = sessionToken();
    issued.push(token);
    return token;
  });
  await page.route('https://cdn.shopify.com/**', async (route) => {
    bridgeLoads++;
    if (new URL(route.request().url()).pathname !== '/shopifycloud/app-bridge.js')
      return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: 'text/javascript', body: appBridgeStandIn });
  });
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.origin === server.url && request.isNavigationRequest())
      sent.push({ method: request.method(), url, body: request.postData() });
  });
  collectPageErrors(page, pageErrors);
}, 120_000);

afterAll(async () => {
  await releaseChromium(browser);
  await server?.close();
  vi.useRealTimers();
});

describe('embedded admin in a browser: every navigation takes a fresh session token', () => {
  it('opens from the Shopify admin, follows links, saves a form, and keeps working after the tokens it used expired', async () => {
    // Shopify opens the App URL with the first token in the query.
    const first = sessionToken();
    await page.goto(
      `${server.url}/?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZW1iZWRkZWQ&id_token=${first}`,
    );
    expect(await heading()).toBe('Dashboard');
    expect(await page.locator('meta[name="shopify-api-key"]').getAttribute('content')).toBe(API_KEY);
    expect(bridgeLoads).toBeGreaterThan(0);

    // A link: a fresh token in its query.
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.waitForURL(/\/admin\/audit\?/);
    expect(await heading()).toBe('Audit log');
    expect(await signInShown()).toBe(0);
    expect(issued).toHaveLength(1);
    expect(new URL(page.url()).searchParams.get('id_token')).toBe(lastToken());

    // A GET form (the audit filter): the token goes in the query with the fields.
    await page.locator('form[action="/admin/audit"] select[name=action]').selectOption('settings.changed');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=settings\.changed/);
    expect(await heading()).toBe('Audit log');
    expect(issued).toHaveLength(2);
    expect(new URL(page.url()).searchParams.get('id_token')).toBe(lastToken());

    // A POST form: the token goes in the body as a hidden field; the page after the save opens too.
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.waitForURL(/\/admin\/settings\?/);
    const consent = page.locator('form[action="/admin/settings"]');
    await consent.locator('input[name=optInTokenTtlHours]').fill('33');
    await consent.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(/saved=1/);
    expect(await page.getByRole('status').first().textContent()).toBe('Saved.');
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(33);
    const postedForm = sent.find((s) => s.method === 'POST' && s.url.pathname === '/admin/settings');
    expect(new URLSearchParams(postedForm?.body ?? '').get('id_token')).toBe(issued[3]);
    expect(issued).toHaveLength(4);

    // Every token used so far has expired (past the verifier's clock tolerance too): replayed, it opens nothing.
    letTokensExpire();
    for (const old of [first, ...issued]) {
      const replay = await fetch(`${server.url}/admin/audit?id_token=${old}`, {
        headers: { accept: 'application/json' },
      });
      expect(replay.status).toBe(401);
    }

    // Navigating again still works: the click took a new token.
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.waitForURL(/\/admin\/audit\?/);
    expect(await heading()).toBe('Audit log');
    expect(await signInShown()).toBe(0);
    expect(issued).toHaveLength(5);
    expect(lastSent()?.url.searchParams.get('id_token')).toBe(lastToken());
    expect(new Set(issued).size).toBe(issued.length);
  }, 90_000);

  it('a reload after the token in the address expired answers "sign in", and the page loads itself again with a fresh token', async () => {
    letTokensExpire();
    const before = issued.length;
    await page.reload();
    await page
      .locator('main h1')
      .filter({ hasText: /^Audit log$/ })
      .waitFor({ timeout: 15_000 });
    expect(await signInShown()).toBe(0);
    expect(issued.length).toBe(before + 1);
    expect(new URL(page.url()).searchParams.get('id_token')).toBe(lastToken());
    // The reload itself was refused (its token had expired); the second load carried the fresh one.
    const loads = sent.slice(-2);
    expect(loads[0]?.url.searchParams.get('id_token')).not.toBe(lastToken());
    expect(loads[1]?.url.searchParams.get('id_token')).toBe(lastToken());
  }, 60_000);

  it('no error on any page: no CSP violation, no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});
