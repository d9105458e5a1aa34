// The embedded server on a real PostgreSQL: a visitor subscribes, confirms from the email, and unsubscribes
// with one click, over HTTP, while the shop's own routes keep working.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTactfulError } from '@tactful/core';
import { uniqueShop, rawStore } from '@tactful/core/testing';
import { createShopServer, type ShopServerOptions } from './server.js';

type Mail = Parameters<ShopServerOptions['mailer']['send']>[0];

it('CI runs the PostgreSQL test below (DATABASE_URL is set whenever CI is)', () => {
  expect(
    Boolean(process.env.CI) && !process.env.DATABASE_URL,
    'CI is set but DATABASE_URL is not: the embed test would be skipped',
  ).toBe(false);
});

it('bad settings are refused at once, before any database is opened', async () => {
  const error = await createShopServer({
    databaseUrl: 'postgres://nobody@127.0.0.1:1/none',
    secret: 'short',
    shop: 'Not a shop!',
    publicUrl: 'ftp://x',
    adminToken: 'x',
    mailer: { send: async () => undefined },
  }).catch((e: unknown) => e);
  expect(isTactfulError(error, 'CONFIG.INVALID')).toBe(true);
  for (const name of ['TACTFUL_SECRET', 'TACTFUL_SHOP', 'PUBLIC_URL', 'TACTFUL_ADMIN_TOKEN'])
    expect((error as Error).message).toContain(name);
});

describe.runIf(process.env.DATABASE_URL)('embedded in Express, on PostgreSQL', () => {
  const mails: Mail[] = [];
  const email = `embed-${randomBytes(4).toString('hex')}@example.com`;
  let shop: Awaited<ReturnType<typeof createShopServer>>;
  let server: Server;
  let base = '';

  beforeAll(async () => {
    shop = await createShopServer({
      databaseUrl: process.env.DATABASE_URL!,
      secret: randomBytes(32).toString('hex'),
      shop: uniqueShop('embed'),
      publicUrl: 'https://shop.example',
      adminToken: randomBytes(16).toString('hex'),
      mailer: { send: async (mail) => void mails.push(mail) },
      logger: pino({ level: 'warn' }),
    });
    server = shop.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await shop?.close();
  });

  /** An email's link points at the public URL; follow it on the test server. */
  const local = (link: string | undefined) => {
    expect(link).toBeDefined();
    const u = new URL(link!);
    expect(u.origin).toBe('https://shop.example');
    return `${base}${u.pathname}${u.search}`;
  };
  const post = (url: string, body: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
      redirect: 'manual',
    });

  it("the shop's own routes still answer", async () => {
    expect(await (await fetch(`${base}/api/health`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/`)).text()).toContain('My shop');
  });

  it('subscribe → confirm → unsubscribe over HTTP', async () => {
    const subscribed = await post(
      `${base}/subscribe`,
      new URLSearchParams([
        ['email', email],
        ['purpose', 'email_marketing'],
      ]).toString(),
    );
    expect(subscribed.status).toBe(200);
    expect(await subscribed.text()).toContain('Check your inbox');
    expect((await shop.tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')?.state).toBe(
      'pending',
    );

    const confirmation = mails.find((m) => m.to === email && m.links.confirm);
    const confirmUrl = new URL(local(confirmation?.links.confirm));
    expect((await fetch(confirmUrl)).status).toBe(200); // shows a button: link scanners do not confirm
    const confirmed = await post(
      `${base}/confirm`,
      new URLSearchParams({ token: confirmUrl.searchParams.get('token') ?? '' }).toString(),
    );
    expect(confirmed.status).toBeLessThan(400);
    const granted = (await shop.tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing');
    expect(granted).toMatchObject({ state: 'granted', level: 'confirmed' });

    const welcome = mails.find((m) => m.to === email && m.links.unsubscribe);
    expect(welcome?.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const unsubscribed = await post(local(welcome?.links.unsubscribe), 'List-Unsubscribe=One-Click');
    expect(unsubscribed.status).toBeLessThan(400);
    expect((await shop.tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')?.state).toBe(
      'withdrawn',
    );

    // It all lives in the developer's PostgreSQL.
    const rows = await rawStore(shop.tactful.store).query<{ n: string }>(
      'select count(*) as n from consent_ledger where shop_id = $1',
      [shop.tactful.shopId],
    );
    expect(Number(rows[0]?.n)).toBeGreaterThanOrEqual(3);
  });
});
