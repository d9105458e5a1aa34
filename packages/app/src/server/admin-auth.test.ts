import { embeddedTestStore } from '@tactful/core/testing';
import { createHmac, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { withIdToken } from './admin-auth.js';
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
let tactful: Tactful;
let embedded: RunningServer;
let standalone: RunningServer;
const silent = pino({ level: 'silent' });
/** Every line the embedded app logs (request lines, warnings, errors). */
const logLines: string[] = [];
const captured = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: SHOP });
  const base = { TACTFUL_ADMIN_TOKEN: ADMIN_TOKEN, TACTFUL_SHOP: SHOP };
  const config = readServeConfig({
    ...base,
    SHOPIFY_API_KEY: API_KEY,
    SHOPIFY_API_SECRET: API_SECRET,
    SHOPIFY_SCOPES: 'read_customers,read_orders',
    PUBLIC_URL: 'https://tactful.example.com',
  });
  embedded = await startServer(createApp({ tactful, config, logger: captured }), { host: '127.0.0.1', port: 0 });
  standalone = await startServer(createApp({ tactful, config: readServeConfig(base), logger: silent }), {
    host: '127.0.0.1',
    port: 0,
  });
});

afterAll(async () => {
  await embedded?.close();
  await standalone?.close();
});

const admin = (server: RunningServer, token: string, path = '/admin') =>
  fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    redirect: 'manual',
  });

describe('embedded admin (Shopify session tokens)', () => {
  it('a valid session token of the configured shop opens the admin pages', async () => {
    const res = await admin(embedded, sessionToken());
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<html');
  });

  it('the first page load carries the token as ?id_token=, which opens the page too', async () => {
    const res = await fetch(`${embedded.url}/admin?embedded=1&shop=${SHOP}&id_token=${sessionToken()}`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(200);
  });

  it('refuses a token signed with another secret, an expired one, one not valid yet, one of another shop, one for another app', async () => {
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      'wrong secret': sessionToken({}, 'some-other-apps-secret-0123456789'),
      expired: sessionToken({ exp: now - 120, nbf: now - 300, iat: now - 300 }),
      'not valid yet': sessionToken({ nbf: now + 600, iat: now + 600, exp: now + 660 }),
      'other shop': sessionToken({
        dest: 'https://other-shop.myshopify.com',
        iss: 'https://other-shop.myshopify.com/admin',
      }),
      'wrong audience': sessionToken({ aud: 'another-app-client-id' }),
      'not a JWT': 'definitely-not-a-session-token',
    };
    for (const [why, token] of Object.entries(refused)) {
      const res = await admin(embedded, token);
      expect(res.status, why).toBe(401);
      expect(((await res.json()) as { error: string }).error, why).toBe('AUTH.REQUIRED');
    }
    // The same refusals through ?id_token= on a page load.
    const page = await fetch(`${embedded.url}/admin?id_token=${refused['other shop']}`, {
      headers: { accept: 'text/html' },
    });
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
    const res = await fetch(
      `${embedded.url}/?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZW1iZWQtdGVzdA&id_token=${token}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(
      `/admin?embedded=1&shop=${SHOP}&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZW1iZWQtdGVzdA&id_token=${token}`,
    );
    // Outside the admin, / is still the public subscribe page.
    const plain = await fetch(`${embedded.url}/`, { redirect: 'manual' });
    expect(plain.headers.get('location')).toBe('/subscribe');
  });

  it('admin pages load App Bridge (meta shopify-api-key, then the CDN script) and our navigation script; the CSP allows that one CDN script', async () => {
    const res = await admin(embedded, sessionToken());
    const body = await res.text();
    expect(body).toMatch(
      /<head><meta charset="utf-8"><meta name="shopify-api-key" content="embedded-app-client-id"><script src="https:\/\/cdn\.shopify\.com\/shopifycloud\/app-bridge\.js"><\/script><script src="\/assets\/embedded\.js" defer><\/script>/,
    );
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self' https://cdn.shopify.com/shopifycloud/app-bridge.js;");
    // Nothing else from outside: every other directive is the same as on the standalone admin.
    const alone = (await admin(standalone, ADMIN_TOKEN)).headers.get('content-security-policy') ?? '';
    const without = (policy: string, name: string) =>
      policy
        .split(';')
        .filter((d) => !d.trim().startsWith(name))
        .sort()
        .join(';');
    expect(without(without(csp, 'script-src '), 'frame-ancestors')).toBe(
      without(without(alone, 'script-src '), 'frame-ancestors'),
    );
    expect(alone).toContain("script-src 'self';");
    // The script itself is served by the app.
    const script = await fetch(`${embedded.url}/assets/embedded.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('javascript');
    expect(await script.text()).toContain('shopify');
  });

  it('public pages and the standalone admin load no App Bridge and keep their CSP', async () => {
    for (const res of [await fetch(`${embedded.url}/subscribe`), await admin(standalone, ADMIN_TOKEN)]) {
      const body = await res.text();
      expect(body).not.toContain('cdn.shopify.com');
      expect(body).not.toContain('shopify-api-key');
      expect(body).not.toContain('/assets/embedded.js');
      expect(res.headers.get('content-security-policy')).not.toContain('cdn.shopify.com');
    }
  });

  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${embedded.url}${path}`, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { accept: 'text/html' },
      redirect: 'manual',
    });

  it('a POSTed form with a valid id_token saves, and the redirect carries the token to the next admin page', async () => {
    const token = sessionToken();
    const res = await post('/admin/settings', { optInTokenTtlHours: '47', requireDoubleOptIn: 'on', id_token: token });
    expect(res.status).toBe(303);
    const location = res.headers.get('location') ?? '';
    expect(location).toBe(`/admin/settings?saved=1&id_token=${token}`);
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(47);
    const next = await fetch(`${embedded.url}${location}`, { headers: { accept: 'text/html' } });
    expect(next.status).toBe(200);
    expect(await next.text()).toContain('Saved.');
    // Without a token (a cookie-less iframe), the same form is refused and changes nothing.
    const bare = await post('/admin/settings', { optInTokenTtlHours: '12' });
    expect(bare.status).toBe(401);
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(47);
  });

  it('a POSTed form with an expired, other-shop or forged id_token is refused (401) and changes nothing', async () => {
    const now = Math.floor(Date.now() / 1000);
    const before = (await tactful.settings.get()).optInTokenTtlHours;
    const refused = {
      expired: sessionToken({ exp: now - 120, nbf: now - 300, iat: now - 300 }),
      'other shop': sessionToken({
        dest: 'https://other-shop.myshopify.com',
        iss: 'https://other-shop.myshopify.com/admin',
      }),
      forged: sessionToken({}, 'some-other-apps-secret-0123456789'),
      'wrong audience': sessionToken({ aud: 'another-app-client-id' }),
      'not a JWT': 'definitely-not-a-session-token',
    };
    for (const [why, token] of Object.entries(refused)) {
      const res = await post('/admin/settings', { optInTokenTtlHours: String(before + 1), id_token: token });
      expect(res.status, why).toBe(401);
      expect(res.headers.get('location'), why).toBeNull();
    }
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(before);
    // A token only counts in a form body: in a JSON body it opens nothing.
    const json = await fetch(`${embedded.url}/admin/settings`, {
      method: 'POST',
      body: JSON.stringify({ optInTokenTtlHours: before + 1, id_token: sessionToken() }),
      headers: { 'content-type': 'application/json' },
      redirect: 'manual',
    });
    expect(json.status).toBe(401);
  });

  it('a header-signed request gets no token in its redirects; a carried token replaces an earlier one', async () => {
    const token = sessionToken();
    const viaHeader = await fetch(`${embedded.url}/admin/settings`, {
      method: 'POST',
      body: new URLSearchParams({ optInTokenTtlHours: '48' }),
      headers: { authorization: `Bearer ${token}` },
      redirect: 'manual',
    });
    expect(viaHeader.status).toBe(303);
    expect(viaHeader.headers.get('location')).toBe('/admin/settings?saved=1');
    // A carried token replaces an earlier one, keeps the rest of the query and the hash.
    expect(withIdToken('/admin/audit?id_token=old&page=2#rows', 'new')).toBe('/admin/audit?id_token=new&page=2#rows');
  });

  it('the audit log names the staff member a session token was issued to; the admin token acts as the dashboard', async () => {
    const entries = async () => {
      let text = '';
      for await (const chunk of tactful.audit.export('jsonl')) text += chunk;
      return text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { action: string; actor: { type: string; id: string } })
        .filter((e) => e.action === 'settings.changed');
    };
    const before = (await entries()).length;
    expect(
      (await post('/admin/settings', { optInTokenTtlHours: '46', id_token: sessionToken({ sub: '4321' }) })).status,
    ).toBe(303);
    const byHeader = await fetch(`${embedded.url}/admin/settings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ optInTokenTtlHours: '45' }),
      redirect: 'manual',
    });
    expect(byHeader.status).toBe(303);
    const after = (await entries()).slice(before);
    expect(after.map((e) => e.actor)).toEqual([
      { type: 'admin', id: 'shopify-user:4321' },
      { type: 'admin', id: 'dashboard' },
    ]);
  });

  it('no session token reaches the logs or the audit log', async () => {
    const token = sessionToken();
    await fetch(`${embedded.url}/admin/audit?id_token=${token}`, { headers: { accept: 'text/html' } });
    await post('/admin/settings', { optInTokenTtlHours: '49', id_token: token });
    await post('/admin/sender', {
      senderName: 'Shop',
      senderEmail: 'shop@example.com',
      senderAddress: '1 Road, Town',
      id_token: token,
    });
    const refused = sessionToken({}, 'some-other-apps-secret-0123456789');
    await post('/admin/settings', { optInTokenTtlHours: '50', id_token: refused });
    const signIn = await fetch(`${embedded.url}/admin/audit?action=settings.changed&id_token=${refused}`, {
      headers: { accept: 'text/html' },
    });
    expect(signIn.status).toBe(401);
    const signInPage = await signIn.text();
    expect(signInPage).toContain('name="next" value="/admin/audit?action=settings.changed"');
    expect(signInPage).not.toContain(refused);
    expect(logLines.length).toBeGreaterThan(4);
    const logs = logLines.join('\n');
    expect(logs).toContain('/admin/settings');
    let audit = '';
    for await (const chunk of tactful.audit.export('jsonl')) audit += chunk;
    expect(audit).toContain('settings.changed');
    for (const secret of [token, refused, token.split('.')[2] ?? 'x', refused.split('.')[2] ?? 'x']) {
      expect(logs).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    expect(logs).not.toContain('id_token');
  });
});
