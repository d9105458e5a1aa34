/**
 * The security review's repros, each against the whole app: a forwarded email (its unsubscribe link, its
 * preference link) must not open a customer's data for long; the anonymous form must not change anyone's state
 * nor flood a mailbox; failed admin sign-ins are limited everywhere; logout ends the session; a foreign site
 * cannot make the admin act; only http(s) product links reach an email; pages with personal data are never
 * cached; demo mode refuses to face the internet; and client mistakes are 4xx, never 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServeConfig } from '@tactful/app';
import { ADMIN, auth, form, snapshot, startHarness, type Harness } from './harness.js';
import { rawStore } from '@tactful/core/testing';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
const pathOf = (link: string) => {
  const url = new URL(link);
  return `${url.pathname}${url.search}`;
};

let h: Harness;
const post = (path: string, values: Record<string, string | string[]>, headers: Record<string, string> = {}) =>
  fetch(h.url(path), { method: 'POST', body: form(values), headers, redirect: 'manual' });
const stateOf = async (email: string, purpose = 'email_marketing') =>
  (await h.tactful.consent.show(email)).purposes.find((p) => p.purpose === purpose)?.state;
const mailsTo = (email: string) => h.mailbox.messages.filter((m) => m.to === email);

/** Subscribes and confirms `email`; returns the welcome email. */
async function subscribed(email: string) {
  expect((await post('/subscribe', { email, purpose: ['email_marketing', 'personalization'] })).status).toBe(200);
  expect((await post('/confirm', { token: tokenOf(h.mailbox.latestTo(email)!.links.confirm!) })).status).toBe(200);
  return h.mailbox.latestTo(email)!;
}

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('a forwarded email does not open the preference centre for ever', () => {
  it('the unsubscribe page unsubscribes and offers to email a preference link to the address on file, never shows one', async () => {
    const welcome = await subscribed('fwd@example.com');
    const unsubscribe = /<([^>]+)>/.exec(welcome.headers['List-Unsubscribe']!)![1]!;
    // A year later, someone holding the forwarded email unsubscribes (RFC 8058 one-click still works).
    h.advance(365 * 24 * HOUR);
    for (const attempt of [1, 2]) {
      const res = await post(pathOf(unsubscribe), { 'List-Unsubscribe': 'One-Click' });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(attempt === 1 ? /no more/i : /already unsubscribed/);
      expect(text).not.toContain('/preferences?token=');
      expect(text).not.toContain('fwd@example.com');
      expect(text).toContain('Email me a link to my preferences');
    }
    expect(await stateOf('fwd@example.com')).toBe('withdrawn');
    // The offered button mails a fresh preference link to the address on file; the page names no address.
    const before = mailsTo('fwd@example.com').length;
    const res = await post('/preferences/send-link', { token: tokenOf(unsubscribe) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain('fwd@example.com');
    expect(text).not.toContain('/preferences?token=');
    expect(mailsTo('fwd@example.com').length).toBe(before + 1);
    expect(h.mailbox.latestTo('fwd@example.com')!.links.preferences).toContain('/preferences?token=');
  });

  it('a preference link lives 24 hours; an expired one only offers to email a fresh link', async () => {
    const link = (await subscribed('short@example.com')).links.preferences!;
    expect((await fetch(h.url(pathOf(link)))).status).toBe(200);
    h.advance(23 * HOUR);
    const page = await (await fetch(h.url(pathOf(link)))).text();
    expect(page).toContain('short@example.com');
    expect(page).toMatch(/valid for 24 hours/);
    h.advance(2 * HOUR);
    const expired = await fetch(h.url(pathOf(link)));
    expect(expired.status).toBe(400);
    const text = await expired.text();
    expect(text).toContain('This link has expired');
    expect(text).not.toContain('short@example.com');
    expect(text).toContain('action="/preferences/send-link"');
    const before = await snapshot(h.store);
    expect((await post('/preferences', { token: tokenOf(link), purpose: [] })).status).toBe(400);
    expect(await snapshot(h.store)).toEqual(before);
    expect(await stateOf('short@example.com')).toBe('granted');
  });

  it('export and erase need a link younger than 15 minutes: an older one is refused and changes nothing', async () => {
    const link = (await subscribed('erase-me@example.com')).links.preferences!;
    h.advance(16 * MINUTE);
    const page = await (await fetch(h.url(pathOf(link)))).text();
    expect(page).not.toContain('action="/preferences/erase"');
    const before = await snapshot(h.store);
    for (const path of ['/preferences/export', '/preferences/erase']) {
      const res = await post(path, { token: tokenOf(link), confirm: 'yes' });
      expect(res.status).toBe(403);
      const text = await res.text();
      expect(text).toContain('Nothing was changed');
      expect(text).not.toContain('"subject"');
    }
    expect(await snapshot(h.store)).toEqual(before);
    // A fresh link, sent to the address on file, exports at once.
    await post('/preferences/send-link', { token: tokenOf(link) });
    const fresh = h.mailbox.latestTo('erase-me@example.com')!.links.preferences!;
    expect(fresh).not.toBe(link);
    const exported = await post('/preferences/export', { token: tokenOf(fresh) });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toContain('application/json');
  });
});

describe('the anonymous subscribe form', () => {
  it('a request never changes a withdrawn state before it is confirmed', async () => {
    await subscribed('gone@example.com');
    const unsubscribe = /<([^>]+)>/.exec(h.mailbox.latestTo('gone@example.com')!.headers['List-Unsubscribe']!)![1]!;
    await post(pathOf(unsubscribe), { 'List-Unsubscribe': 'One-Click' });
    expect(await stateOf('gone@example.com')).toBe('withdrawn');
    h.advance(HOUR);
    expect((await post('/subscribe', { email: 'gone@example.com', purpose: 'email_marketing' })).status).toBe(200);
    expect(await stateOf('gone@example.com')).toBe('withdrawn');
    // The person confirms: now it is granted again.
    const confirm = h.mailbox.latestTo('gone@example.com')!.links.confirm!;
    expect((await post('/confirm', { token: tokenOf(confirm) })).status).toBe(200);
    expect(await stateOf('gone@example.com')).toBe('granted');
  });

  it('five posts for one address send two emails; the next one after ten minutes, five a day', async () => {
    const email = 'flood@example.com';
    const pages: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post('/subscribe', { email, purpose: 'email_marketing' });
      expect(res.status).toBe(200);
      pages.push(await res.text());
    }
    expect(mailsTo(email).length).toBe(2);
    // The page reads the same either way: it does not tell that a mail was held back.
    expect(new Set(pages).size).toBe(1);
    // The preference-link form draws on the same allowance.
    for (let i = 0; i < 3; i++) await post('/preferences/link', { email });
    expect(mailsTo(email).length).toBe(2);
    h.advance(11 * MINUTE);
    for (let i = 0; i < 5; i++) await post('/subscribe', { email, purpose: 'email_marketing' });
    expect(mailsTo(email).length).toBe(4);
    h.advance(11 * MINUTE);
    for (let i = 0; i < 5; i++) await post('/subscribe', { email, purpose: 'email_marketing' });
    expect(mailsTo(email).length).toBe(5);
  });
});

describe('admin authentication', () => {
  it('failed authentication is limited on every admin route, not only the login form', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await fetch(h.url('/admin/settings'), { headers: { authorization: `Bearer wrong-token-${i}` } });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
    // While the client is locked out even the right token waits: a guess that succeeds must look the same.
    const locked = await fetch(h.url('/admin/settings'), { headers: auth });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toMatch(/^\d+$/);
    // The lockout is per client and ends with its window (the engine's clock).
    h.advance(16 * MINUTE);
    expect((await fetch(h.url('/admin/settings'), { headers: auth })).status).toBe(200);
  });

  it('logout ends the session: the same cookie no longer opens anything', async () => {
    const login = await post('/admin/login', { token: ADMIN, next: '/admin/settings' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    expect((await fetch(h.url('/admin/settings'), { headers: { cookie } })).status).toBe(200);
    expect((await post('/admin/logout', {}, { cookie })).status).toBe(303);
    const after = await fetch(h.url('/admin/settings'), { headers: { cookie, accept: 'application/json' } });
    expect(after.status).toBe(401);
  });

  it('a state-changing request from a foreign origin is refused and changes nothing', async () => {
    const login = await post('/admin/login', { token: ADMIN });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const before = await snapshot(h.store);
    for (const headers of <Array<Record<string, string>>>[
      { cookie, origin: 'https://evil.example' },
      { cookie, origin: 'null' },
      { cookie, 'sec-fetch-site': 'cross-site' },
      { ...auth, origin: 'https://evil.example' },
    ]) {
      const res = await post('/admin/settings', { requireDoubleOptIn: 'no' }, headers);
      expect(res.status).toBe(403);
      expect(await res.text()).toMatch(/another site/);
    }
    // Logging in from a foreign page (login CSRF) is refused too.
    expect((await post('/admin/login', { token: ADMIN }, { origin: 'https://evil.example' })).status).toBe(403);
    expect(await snapshot(h.store)).toEqual(before);
    // The app's own pages post with their own origin.
    const own = await post(
      '/admin/sender',
      { senderName: 'Shop', senderEmail: 'shop@example.com', senderAddress: '1 Main St' },
      { cookie, origin: new URL(h.server.url).origin, 'sec-fetch-site': 'same-origin' },
    );
    expect(own.status).toBe(303);
    expect((await h.tactful.settings.get()).sender?.name).toBe('Shop');
    // Chromium sends Origin: null on a page's own form posts under Referrer-Policy: no-referrer; Sec-Fetch-Site
    // says where the request really came from.
    const nullOrigin = await post(
      '/admin/sender',
      { senderName: 'Shop 2', senderEmail: 'shop@example.com', senderAddress: '1 Main St' },
      { cookie, origin: 'null', 'sec-fetch-site': 'same-origin' },
    );
    expect(nullOrigin.status).toBe(303);
    expect((await h.tactful.settings.get()).sender?.name).toBe('Shop 2');
  });
});

describe('product links in emails', () => {
  it('a javascript: product or image URL is not stored at ingest', async () => {
    await h.tactful.products.upsert([
      { id: 'evil', title: 'Evil', available: true, url: 'javascript:alert(1)', imageUrl: 'JavaScript:alert(2)' },
      {
        id: 'data',
        title: 'Data',
        available: true,
        url: 'data:text/html,<b>x</b>',
        imageUrl: 'https://cdn.example/x.png',
      },
    ]);
    const rows = await rawStore(h.store).query<{ product_id: string; url: string | null; image_url: string | null }>(
      "select product_id, url, image_url from products where product_id in ('evil', 'data') order by product_id",
    );
    expect(rows).toEqual([
      { product_id: 'data', url: null, image_url: 'https://cdn.example/x.png' },
      { product_id: 'evil', url: null, image_url: null },
    ]);
  });
});

describe('pages with personal data are never cached', () => {
  it('subscribe, confirm, unsubscribe and preference pages send Cache-Control: no-store', async () => {
    await post('/subscribe', { email: 'cache@example.com', purpose: 'email_marketing' });
    const confirm = h.mailbox.latestTo('cache@example.com')!.links.confirm!;
    const answers = [
      await fetch(h.url('/subscribe')),
      await fetch(h.url(pathOf(confirm))),
      await post('/confirm', { token: tokenOf(confirm) }),
      await fetch(h.url('/preferences')),
    ];
    const welcome = h.mailbox.latestTo('cache@example.com')!;
    const unsubscribe = /<([^>]+)>/.exec(welcome.headers['List-Unsubscribe']!)![1]!;
    answers.push(await fetch(h.url(pathOf(welcome.links.preferences!))));
    answers.push(await fetch(h.url(pathOf(unsubscribe))));
    answers.push(await post(pathOf(unsubscribe), { 'List-Unsubscribe': 'One-Click' }));
    answers.push(await fetch(h.url('/preferences?token=forged.token')));
    for (const res of answers) {
      expect(res.headers.get('cache-control'), res.url).toContain('no-store');
      await res.arrayBuffer();
    }
  });
});

describe('demo mode never faces the internet', () => {
  const base = { TACTFUL_ADMIN_TOKEN: ADMIN, TACTFUL_DEMO: '1' };
  it.each([
    ['an https PUBLIC_URL', { PUBLIC_URL: 'https://shop.example.com' }, /TACTFUL_DEMO.*PUBLIC_URL/],
    ['a non-loopback HOST', { HOST: '0.0.0.0' }, /TACTFUL_DEMO.*HOST/],
    ['a public HOST name', { HOST: 'shop.example.com' }, /TACTFUL_DEMO.*HOST/],
    [
      'a PostgreSQL database',
      { TACTFUL_DB: 'postgres://u:p@db.example/t', TACTFUL_SECRET: 'ab'.repeat(32) },
      /TACTFUL_DEMO.*PostgreSQL/,
    ],
  ])('refused with %s, in one line', (_name, env, says) => {
    let message = '';
    try {
      readServeConfig({ ...base, ...env });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(says);
    expect(message.split('\n').filter((l) => l.includes('TACTFUL_DEMO')).length).toBe(1);
  });
  it('the demo on loopback with an embedded database still starts', () => {
    for (const HOST of ['127.0.0.1', 'localhost', '::1'])
      expect(readServeConfig({ ...base, HOST, TACTFUL_DB: '.tactful/demo' }).TACTFUL_DEMO).toBe(true);
  });
});

describe('client mistakes are 4xx, never 500', () => {
  it.each([
    ['/admin/audit?page=1e20', 400],
    ['/admin/audit?page=-3', 400],
    ['/admin/audit?page=2.5', 400],
    ['/admin/audit?page=abc', 400],
    ['/admin?days=1e400', 200],
    ['/admin?days=-1', 200],
    ['/admin/segments?threshold=1e999', 200],
    ['/admin/segments?definition=%7B', 400],
    ['/admin/campaign?email=not-an-email', 200],
    ['/admin/campaign?email=x@example.com&dry=1&name=%20', 200],
    ['/admin/recommendations?product=nope&customer=nope', 200],
    ['/admin/audit?action=a&action=b&since=2026-13-45', 400],
    ['/admin/data-requests/%E0%A4%A.json', 400],
  ])('GET %s answers %i', async (path, status) => {
    const res = await fetch(h.url(path), { headers: auth });
    expect(res.status).toBe(status);
    await res.arrayBuffer();
  });

  it.each([
    ['a malformed cookie (bad percent-encoding)', { cookie: 'tactful_admin=%E0%A4%A' }, 401],
    ['a cookie that is not ours', { cookie: 'tactful_admin=1.2.3.4' }, 401],
    ['a header with an odd Bearer', { authorization: 'Bearer ' }, 401],
  ])('an admin request with %s is refused with 4xx', async (_name, headers, status) => {
    const res = await fetch(h.url('/admin/settings'), { headers: { ...headers, accept: 'application/json' } });
    expect(res.status).toBe(status);
    await res.arrayBuffer();
  });

  it.each([
    [
      'an unknown Content-Encoding',
      { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'zz' },
      415,
    ],
    ['an unknown charset', { 'content-type': 'application/x-www-form-urlencoded; charset=x-nope' }, 415],
    ['a JSON body in an unknown charset', { 'content-type': 'application/json; charset=x-nope' }, 415],
    [
      'a gzip header over plain text',
      { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
      400,
    ],
  ])('a form with %s is a 4xx and changes nothing', async (_name, headers, status) => {
    const before = await snapshot(h.store);
    const res = await fetch(h.url('/subscribe'), {
      method: 'POST',
      headers,
      body: 'email=enc@example.com&purpose=email_marketing',
    });
    expect(res.status).toBe(status);
    expect(await res.text()).toContain('Nothing was changed');
    expect(await snapshot(h.store)).toEqual(before);
  });
});
