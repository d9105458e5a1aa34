import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, openStore, type Store } from '@tactful/core';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { startServer, type RunningServer } from './start.js';

const SHOP = 'embed-test.myshopify.com';
const API_KEY = 'embedded-app-client-id';
const API_SECRET = 'embedded-app-client-secret-0123456789';
const ADMIN_TOKEN = 'embedded-test-admin-token-0123456789';

/** An App Bridge session token, signed the way Shopify signs it (HS256 with the app's client secret). */
function sessionToken(overrides: Record<string, unknown> = {}, secret = API_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    iss: `https://${SHOP}/admin`,
    dest: `https://${SHOP}`,
    aud: API_KEY,
    sub: '42',
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: randomUUID(),
    sid: randomUUID(),
    ...overrides,
  };
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

let store: Store;
let embedded: RunningServer;
let standalone: RunningServer;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  store = await openStore({ url: 'memory://' });
  const tactful = await createTactful({ store, shop: SHOP });
  const base = { TACTFUL_ADMIN_TOKEN: ADMIN_TOKEN, TACTFUL_SHOP: SHOP };
  const config = readServeConfig({ ...base, SHOPIFY_API_KEY: API_KEY, SHOPIFY_API_SECRET: API_SECRET, SHOPIFY_SCOPES: 'read_customers,read_orders', PUBLIC_URL: 'https://tactful.example.com' });
  embedded = await startServer(createApp({ tactful, config, logger: silent }), { host: '127.0.0.1', port: 0 });
  standalone = await startServer(createApp({ tactful, config: readServeConfig(base), logger: silent }), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await embedded?.close();
  await standalone?.close();
  await store?.close();
});

const admin = (server: RunningServer, token: string, path = '/admin') => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, redirect: 'manual' });

describe('embedded admin (Shopify session tokens)', () => {
  it('a valid session token of the configured shop opens the admin pages', async () => {
    const res = await admin(embedded, sessionToken());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html');
  });

  it('the first page load carries the token as ?id_token=, which opens the page too', async () => {
    const res = await fetch(`${embedded.url}/admin?embedded=1&shop=${SHOP}&id_token=${sessionToken()}`, { redirect: 'manual' });
    expect(res.status).toBe(200);
  });

  it('refuses a token signed with another secret, an expired one, one not valid yet, one of another shop, one for another app', async () => {
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      'wrong secret': sessionToken({}, 'some-other-apps-secret-0123456789'),
      expired: sessionToken({ exp: now - 120, nbf: now - 300, iat: now - 300 }),
      'not valid yet': sessionToken({ nbf: now + 600, iat: now + 600, exp: now + 660 }),
      'other shop': sessionToken({ dest: 'https://other-shop.myshopify.com', iss: 'https://other-shop.myshopify.com/admin' }),
      'wrong audience': sessionToken({ aud: 'another-app-client-id' }),
      'not a JWT': 'definitely-not-a-session-token',
    };
    for (const [why, token] of Object.entries(refused)) {
      const res = await admin(embedded, token);
      expect(res.status, why).toBe(401);
      expect(((await res.json()) as { error: string }).error, why).toBe('AUTH.REQUIRED');
    }
    // The same refusals through ?id_token= on a page load.
    const page = await fetch(`${embedded.url}/admin?id_token=${refused['other shop']}`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
  });

  it('the admin token still works when embedded, and session tokens do nothing when the app is not embedded', async () => {
    expect((await admin(embedded, ADMIN_TOKEN)).status).toBe(200);
    expect((await admin(standalone, sessionToken())).status).toBe(401);
    expect((await admin(standalone, ADMIN_TOKEN)).status).toBe(200);
  });

  it('admin pages may be framed by the shop and admin.shopify.com only; public pages never by Shopify', async () => {
    const csp = (res: Response) => res.headers.get('content-security-policy') ?? '';
    const page = await admin(embedded, sessionToken());
    expect(csp(page)).toContain(`frame-ancestors https://${SHOP} https://admin.shopify.com`);
    expect(page.headers.get('x-frame-options')).toBeNull();
    const login = await fetch(`${embedded.url}/admin/login`);
    expect(csp(login)).toContain(`frame-ancestors https://${SHOP} https://admin.shopify.com`);
    const subscribe = await fetch(`${embedded.url}/subscribe`);
    expect(csp(subscribe)).toContain("frame-ancestors 'self'");
    expect(csp(subscribe)).not.toContain('shopify');
    expect(subscribe.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const alone = await admin(standalone, ADMIN_TOKEN);
    expect(csp(alone)).toContain("frame-ancestors 'self'");
    expect(alone.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('the App URL opened inside the Shopify admin goes to the dashboard, keeping the query', async () => {
    const token = sessionToken();
    const res = await fetch(`${embedded.url}/?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZW1iZWQtdGVzdA&id_token=${token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/admin?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZW1iZWQtdGVzdA&id_token=${token}`);
    // Outside the admin, / is still the public subscribe page.
    const plain = await fetch(`${embedded.url}/`, { redirect: 'manual' });
    expect(plain.headers.get('location')).toBe('/subscribe');
  });
});
