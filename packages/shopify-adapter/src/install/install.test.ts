import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import express from 'express';
import { http, passthrough } from 'msw';
import { setupServer } from 'msw/node';
import { Session } from '@shopify/shopify-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InboundSink } from '@tactful/core';
import {
  createEncryptedSessionStorage,
  createShopifyAuth,
  memoryKeyValueStore,
  shopifyRoutes,
  createShopifyPlatform,
} from '../index.js';
import { createShopifySandbox } from '../testing/index.js';

const sandbox = createShopifySandbox({
  shop: 'install-test.myshopify.com',
  apiKey: 'client-id-1',
  apiSecret: 'client-secret-1',
});
const server = setupServer(
  ...sandbox.handlers,
  http.all(/^http:\/\/127\.0\.0\.1(:\d+)?\//, () => passthrough()),
);
const kv = memoryKeyValueStore();
const key = randomBytes(32);
const sessions = createEncryptedSessionStorage(kv, key);
const browser = {
  'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
};
const received: Array<{ shop: string; kind: string }> = [];
const sink: InboundSink = {
  receive: async (shop, event) => {
    received.push({ shop, kind: event.kind });
    return 'accepted';
  },
};
let http_: Server;
let base: string;

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  const auth = createShopifyAuth({
    apiKey: sandbox.apiKey,
    apiSecret: sandbox.apiSecret,
    scopes: 'read_customers,write_customers,read_orders,read_products',
    appUrl: 'https://tactful.example.com',
    callbackPath: '/shopify/auth/callback',
    sessionStorage: sessions,
  });
  const app = express();
  app.use(
    '/shopify',
    shopifyRoutes(sink, { apiSecret: sandbox.apiSecret, shops: [sandbox.shop], auth, sessionStorage: sessions }),
  );
  app.get('/embedded/api/whoami', auth.embeddedSession(), (_req, res) => {
    res.json({ shop: res.locals.shopify.shop, hasToken: Boolean(res.locals.shopify.session.accessToken) });
  });
  app.get('/token-exchange', async (req, res) => {
    const session = await auth.tokenExchange(String(req.query.shop), String(req.query.token));
    res.json({ shop: session.shop, ok: Boolean(session.accessToken) });
  });
  http_ = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => http_.once('listening', resolve));
  base = `http://127.0.0.1:${(http_.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.close();
  await new Promise((resolve) => http_.close(resolve));
});

describe('install', () => {
  it('OAuth: begin redirects to the grant screen, the callback stores an encrypted offline session that works', async () => {
    const begin = await fetch(`${base}/shopify/auth?shop=${sandbox.shop}`, { redirect: 'manual', headers: browser });
    expect(begin.status).toBe(302);
    const authorize = begin.headers.get('location')!;
    expect(authorize).toMatch(new RegExp(`^https://${sandbox.shop}/admin/oauth/authorize\\?`));
    // write_customers implies read_customers: Shopify's scope list is compacted
    expect(new URL(authorize).searchParams.get('scope')!.split(',').sort()).toEqual([
      'read_orders',
      'read_products',
      'write_customers',
    ]);
    const cookies = begin.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const callback = sandbox.approveInstall(authorize).replace('https://tactful.example.com', base);
    const done = await fetch(callback, { redirect: 'manual', headers: { ...browser, Cookie: cookies } });
    expect(done.status).toBe(302);
    expect(done.headers.get('location')).toBe(`https://admin.shopify.com/store/install-test/apps/${sandbox.apiKey}`);
    const [session] = await sessions.findSessionsByShop(sandbox.shop);
    expect(session?.isOnline).toBe(false);
    expect(sandbox.issuedTokens.has(session!.accessToken!)).toBe(true);
    // the token is not readable at rest
    for (const value of kv.data.values()) expect(value.includes(session!.accessToken!)).toBe(false);
    // and it works against the Admin API
    const platform = createShopifyPlatform({ shop: sandbox.shop, accessToken: session!.accessToken! });
    await expect(platform.listProducts()).resolves.toMatchObject({ items: [] });
    // The engine learns of the install, which cancels an erasure pending from an earlier uninstall.
    expect(received).toContainEqual({ shop: sandbox.shop, kind: 'installed' });
  });

  it('OAuth: a shop this app does not serve is refused at the start and at the callback, and nothing is stored', async () => {
    const before = kv.data.size;
    const other = createShopifySandbox({
      shop: 'someone-else.myshopify.com',
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
    });
    const begin = await fetch(`${base}/shopify/auth?shop=${other.shop}`, { redirect: 'manual', headers: browser });
    expect(begin.status).toBe(403);
    expect(await begin.text()).toMatch(/does not serve someone-else\.myshopify\.com/);
    // A callback signed with the app's secret for another shop (as Shopify would sign it) is refused too.
    const started = await fetch(`${base}/shopify/auth?shop=${sandbox.shop}`, { redirect: 'manual', headers: browser });
    const forOther = other
      .approveInstall(started.headers.get('location')!.replace(sandbox.shop, other.shop))
      .replace('https://tactful.example.com', base);
    const done = await fetch(forOther, { redirect: 'manual', headers: browser });
    expect(done.status).toBe(403);
    expect(kv.data.size).toBe(before);
    expect(await sessions.findSessionsByShop(other.shop)).toEqual([]);
  });

  it('OAuth: a callback with a forged hmac stores nothing', async () => {
    const before = kv.data.size;
    const begin = await fetch(`${base}/shopify/auth?shop=${sandbox.shop}`, { redirect: 'manual', headers: browser });
    const cookies = begin.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const callback = sandbox
      .approveInstall(begin.headers.get('location')!)
      .replace('https://tactful.example.com', base)
      .replace(/hmac=[0-9a-f]+/, `hmac=${'0'.repeat(64)}`);
    const done = await fetch(callback, { redirect: 'manual', headers: { ...browser, Cookie: cookies } });
    expect(done.status).toBe(400);
    expect(kv.data.size).toBe(before);
  });

  it('refuses an install without a valid shop', async () => {
    expect((await fetch(`${base}/shopify/auth?shop=evil.example.com`)).status).toBe(400);
  });

  it('token exchange turns an embedded-admin session token into an offline token', async () => {
    await sessions.deleteSessionsByShop(sandbox.shop);
    const response = await fetch(`${base}/token-exchange?shop=${sandbox.shop}&token=${sandbox.sessionToken()}`);
    expect(await response.json()).toEqual({ shop: sandbox.shop, ok: true });
    const [session] = await sessions.findSessionsByShop(sandbox.shop);
    expect(sandbox.issuedTokens.has(session!.accessToken!)).toBe(true);
  });
});

describe('embedded admin requests', () => {
  it('accept a valid session token, exchanging it for an offline token when the shop has none', async () => {
    await sessions.deleteSessionsByShop(sandbox.shop);
    const response = await fetch(`${base}/embedded/api/whoami`, {
      headers: { Authorization: `Bearer ${sandbox.sessionToken()}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ shop: sandbox.shop, hasToken: true });
    expect(await sessions.findSessionsByShop(sandbox.shop)).toHaveLength(1);
  });

  it('refuse a missing, forged or expired token with 401 and the retry header', async () => {
    const forged = sandbox.sessionToken().replace(/\.[^.]+$/, '.c2lnbmF0dXJl');
    const expired = sandbox.sessionToken({ expiresInSeconds: -120 });
    for (const headers of [{}, { Authorization: `Bearer ${forged}` }, { Authorization: `Bearer ${expired}` }] as Array<
      Record<string, string>
    >) {
      const response = await fetch(`${base}/embedded/api/whoami`, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('x-shopify-retry-invalid-session-request')).toBe('1');
    }
  });
});

describe('encrypted session storage', () => {
  it('round-trips sessions, finds and deletes them by shop', async () => {
    const storage = createEncryptedSessionStorage(memoryKeyValueStore(), randomBytes(32));
    const expires = new Date('2030-01-01T00:00:00Z');
    await storage.storeSession(
      new Session({
        id: 'offline_a.myshopify.com',
        shop: 'a.myshopify.com',
        state: 's',
        isOnline: false,
        accessToken: 'shpat_a',
        scope: 'read_orders',
      }),
    );
    await storage.storeSession(
      new Session({
        id: 'a.myshopify.com_42',
        shop: 'a.myshopify.com',
        state: 's',
        isOnline: true,
        accessToken: 'shpua_b',
        expires,
      }),
    );
    await storage.storeSession(
      new Session({
        id: 'offline_b.myshopify.com',
        shop: 'b.myshopify.com',
        state: 's',
        isOnline: false,
        accessToken: 'shpat_c',
      }),
    );
    const loaded = await storage.loadSession('a.myshopify.com_42');
    expect(loaded?.accessToken).toBe('shpua_b');
    expect(loaded?.expires).toEqual(expires);
    expect((await storage.findSessionsByShop('a.myshopify.com')).map((s) => s.id).sort()).toEqual([
      'a.myshopify.com_42',
      'offline_a.myshopify.com',
    ]);
    await storage.deleteSessionsByShop('a.myshopify.com');
    expect(await storage.findSessionsByShop('a.myshopify.com')).toEqual([]);
    expect((await storage.loadSession('offline_b.myshopify.com'))?.accessToken).toBe('shpat_c');
    await storage.deleteSession('offline_b.myshopify.com');
    expect(await storage.loadSession('offline_b.myshopify.com')).toBeUndefined();
  });

  it('refuses a wrong key, a moved value and a short key', async () => {
    const store = memoryKeyValueStore();
    await createEncryptedSessionStorage(store, randomBytes(32)).storeSession(
      new Session({ id: 'x', shop: 'a.myshopify.com', state: 's', isOnline: false, accessToken: 't' }),
    );
    await expect(createEncryptedSessionStorage(store, randomBytes(32)).loadSession('x')).rejects.toMatchObject({
      code: 'SHOPIFY.SESSION_UNREADABLE',
    });
    const k = randomBytes(32);
    const storage = createEncryptedSessionStorage(store, k);
    await storage.storeSession(
      new Session({ id: 'y', shop: 'a.myshopify.com', state: 's', isOnline: false, accessToken: 't' }),
    );
    await store.set('shopify:session:z', (await store.get('shopify:session:y'))!);
    await expect(storage.loadSession('z')).rejects.toMatchObject({ code: 'SHOPIFY.SESSION_UNREADABLE' });
    expect(() => createEncryptedSessionStorage(store, randomBytes(16))).toThrowError(
      expect.objectContaining({ code: 'CONFIG.INVALID' }),
    );
  });
});
