import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { memoryMailbox } from './mail.js';
import { startServer, type RunningServer } from './start.js';
import { rawStore, embeddedTestStore } from '@tactful/core/testing';

const ADMIN = 'admin-token-for-tests-0123456789';
let store: Store;
let tactful: Tactful;
let server: RunningServer;
const mailbox = memoryMailbox();
const logLines: string[] = [];

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'test-shop.myshopify.com' });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: 'http://shop.test',
  });
  server = await startServer(createApp({ tactful, config, logger, mailer: mailbox }), { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
});

/** The path and query of a link from an email (whose host is PUBLIC_URL), on the test server. */
function local(link: string): string {
  const u = new URL(link);
  return `${server.url}${u.pathname}${u.search}`;
}

function form(values: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return body;
}

async function post(path: string, values: Record<string, string | string[]>, headers: Record<string, string> = {}) {
  return fetch(path.startsWith('http') ? path : `${server.url}${path}`, {
    method: 'POST',
    body: form(values),
    redirect: 'manual',
    headers,
  });
}

async function subscribeAndConfirm(email: string): Promise<void> {
  const res = await post('/subscribe', { email, purpose: ['email_marketing', 'personalization'] });
  expect(res.status).toBe(200);
  const confirm = mailbox.latestTo(email)!.links.confirm!;
  const token = new URL(confirm).searchParams.get('token')!;
  expect((await post('/confirm', { token })).status).toBe(200);
}

describe('health', () => {
  it('healthz answers while the process is up and readyz once the store answers', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('sets the security headers of helmet', async () => {
    const res = await fetch(`${server.url}/subscribe`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('serves Chart.js from the app itself', async () => {
    const res = await fetch(`${server.url}/assets/chart.umd.min.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('javascript');
    expect(await res.text()).toContain('4.5.1');
  });
});

describe('subscribe and double opt-in', () => {
  it('renders one checkbox per purpose, each linked to its clause', async () => {
    const page = await (await fetch(`${server.url}/subscribe`)).text();
    for (const p of await tactful.purposes.list()) {
      expect(page).toContain(`value="${p.key}"`);
      expect(page).toContain(p.clause);
    }
    expect(page).toContain('href="https://test-shop.myshopify.com/policies/privacy-policy"');
  });

  it('subscribe with both boxes: pending, a confirmation email, then confirmed on POST only', async () => {
    const email = 'ana@example.com';
    const res = await post(
      '/subscribe',
      { email, purpose: ['email_marketing', 'personalization'] },
      { 'user-agent': 'TestBrowser/1.0' },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    expect((await tactful.consent.show(email)).purposes.map((p) => p.state)).toEqual(['pending', 'pending']);
    const mail = mailbox.latestTo(email)!;
    expect(mail.subject).toMatch(/confirm/i);
    const confirm = mail.links.confirm!;
    // GET shows a button and changes nothing (mail scanners open links).
    const shown = await fetch(local(confirm));
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('Yes, confirm');
    expect((await tactful.consent.show(email)).purposes.every((p) => p.state === 'pending')).toBe(true);
    const confirmed = await post('/confirm', { token: new URL(confirm).searchParams.get('token')! });
    expect(confirmed.status).toBe(200);
    const text = await confirmed.text();
    expect(text).toContain('Subscription confirmed');
    expect(text).toContain('/preferences?token=');
    const view = await tactful.consent.show(email);
    expect(view.purposes.map((p) => [p.purpose, p.state, p.level])).toEqual([
      ['email_marketing', 'granted', 'confirmed'],
      ['personalization', 'granted', 'confirmed'],
    ]);
    // The evidence of the form carries the user agent (stored encrypted).
    const history = await tactful.consent.history(email);
    expect(history.events.some((e) => e.evidence.userAgent === 'TestBrowser/1.0')).toBe(true);
    // The welcome email carries the RFC 8058 headers.
    const welcome = mailbox.latestTo(email)!;
    expect(welcome.headers['List-Unsubscribe']).toMatch(/^<http:\/\/shop\.test\/unsubscribe\?token=[^>]+>$/);
    expect(welcome.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
  });

  it('the public form cannot turn a confirmed subscription back to pending', async () => {
    const email = 'steady@example.com';
    await subscribeAndConfirm(email);
    const res = await post('/subscribe', { email, purpose: ['email_marketing', 'personalization'] });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Check your inbox');
    expect((await tactful.consent.show(email)).purposes.map((p) => [p.state, p.level])).toEqual([
      ['granted', 'confirmed'],
      ['granted', 'confirmed'],
    ]);
    expect(mailbox.latestTo(email)!.subject).toBe('You are already subscribed');
  });

  it('refuses a reused confirmation link with a clear page', async () => {
    const email = 'reuse@example.com';
    await post('/subscribe', { email, purpose: 'email_marketing' });
    const token = new URL(mailbox.latestTo(email)!.links.confirm!).searchParams.get('token')!;
    expect((await post('/confirm', { token })).status).toBe(200);
    const again = await post('/confirm', { token });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already used');
  });

  it('bad input gets a 400 page listing the problems, and records nothing', async () => {
    const before = (await tactful.audit.verify()).audit.rows;
    const res = await post('/subscribe', { email: 'not-an-email' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('is not a valid email address');
    expect(text).toContain('Tick at least one box');
    const unknown = await post('/subscribe', { email: 'x@example.com', purpose: 'telepathy' });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('Unknown choice: telepathy');
    expect((await tactful.audit.verify()).audit.rows).toBe(before);
  });

  it('forged and truncated confirmation tokens get a 400 page and change nothing', async () => {
    const email = 'forge@example.com';
    await post('/subscribe', { email, purpose: 'email_marketing' });
    const token = new URL(mailbox.latestTo(email)!.links.confirm!).searchParams.get('token')!;
    const [body, mac] = token.split('.');
    const forgedBody = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(body!, 'base64url').toString()),
        purposes: ['email_marketing', 'personalization'],
      }),
    ).toString('base64url');
    for (const bad of [`${forgedBody}.${mac}`, token.slice(0, -3), 'garbage', '']) {
      const get = await fetch(`${server.url}/confirm?token=${encodeURIComponent(bad)}`);
      expect(get.status).toBe(400);
      expect(await get.text()).toContain('This link is not valid');
      const res = await post('/confirm', { token: bad });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('Nothing was changed');
    }
    expect((await tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe(
      'pending',
    );
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  it('GET shows a button and changes nothing; POST List-Unsubscribe=One-Click withdraws', async () => {
    const email = 'bo@example.com';
    await subscribeAndConfirm(email);
    const link = mailbox.latestTo(email)!.links.unsubscribe!;
    const shown = await fetch(local(link));
    expect(shown.status).toBe(200);
    expect(await shown.text()).toContain('name="List-Unsubscribe" value="One-Click"');
    expect((await tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe(
      'granted',
    );

    // What a mail client sends: a POST to the List-Unsubscribe URL with the one-click body.
    const res = await fetch(local(link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    const view = await tactful.consent.show(email);
    expect(view.purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe('withdrawn');
    expect(view.purposes.find((p) => p.purpose === 'personalization')!.state).toBe('granted');
    // Twice is fine and records nothing new.
    const rows = (await tactful.audit.verify()).audit.rows;
    const again = await fetch(local(link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already unsubscribed');
    expect((await tactful.audit.verify()).audit.rows).toBe(rows);
  });

  it('accepts the one-click body as multipart/form-data', async () => {
    const email = 'multi@example.com';
    await subscribeAndConfirm(email);
    const link = mailbox.latestTo(email)!.links.unsubscribe!;
    const body = new FormData();
    body.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(local(link), { method: 'POST', body });
    expect(res.status).toBe(200);
    expect((await tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe(
      'withdrawn',
    );
  });

  it('a POST without List-Unsubscribe=One-Click, or with a bad token, gets 400 and changes nothing', async () => {
    const email = 'keep@example.com';
    await subscribeAndConfirm(email);
    const link = mailbox.latestTo(email)!.links.unsubscribe!;
    const missing = await fetch(local(link), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'foo=bar',
    });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('List-Unsubscribe=One-Click');
    const forged = await fetch(
      `${server.url}/unsubscribe?token=${encodeURIComponent(new URL(link).searchParams.get('token')!.replace(/.$/, 'A'))}x`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      },
    );
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('This link is not valid');
    expect((await tactful.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')!.state).toBe(
      'granted',
    );
  });
});

describe('preference centre', () => {
  it('shows what is held and why, orders used, and why each recommendation', async () => {
    const email = 'cy@example.com';
    const at = (d: number) => new Date(Date.UTC(2026, 0, d));
    await tactful.products.upsert([
      { id: 'p-tea', title: 'Green tea', available: true },
      { id: 'p-pot', title: 'Teapot <b>cast iron</b>', available: true },
      { id: 'p-cup', title: 'Cups', available: true },
      { id: 'p-saucer', title: 'Saucers', available: true },
    ]);
    const orders = [];
    // Tea and teapots go together; cups go with saucers: a clear co-purchase signal.
    for (let i = 0; i < 12; i++) {
      const lines = i % 2 === 0 ? ['p-tea', 'p-pot'] : ['p-cup', 'p-saucer'];
      orders.push({
        id: `o-${i}`,
        email: `buyer${i}@example.com`,
        customerId: `c${i}`,
        createdAt: at(i + 1),
        updatedAt: at(i + 1),
        lines: lines.map((productId) => ({ productId, title: productId, quantity: 1 })),
      });
    }
    orders.push({
      id: 'o-cy',
      name: '#1042',
      email,
      customerId: 'c-cy',
      createdAt: at(20),
      updatedAt: at(20),
      currency: 'EUR',
      totalPrice: '12.50',
      lines: [{ productId: 'p-tea', title: 'Green tea', quantity: 2 }],
    });
    await tactful.orders.ingest(orders, 'shopify');
    await subscribeAndConfirm(email);
    const link = mailbox.latestTo(email)!.links.preferences!;
    const res = await fetch(local(link));
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(email);
    expect(page).toContain('What we hold and why');
    expect(page).toContain('#1042');
    expect(page).toContain('Green tea × 2');
    // Product titles are escaped.
    expect(page).toContain('Teapot &lt;b&gt;cast iron&lt;/b&gt;');
    expect(page).not.toContain('<b>cast iron</b>');
    expect(page).toContain('because you bought <strong>Green tea</strong>');
    expect(page).toMatch(/checked[^>]*>\s*<span><strong>Email offers/);
  });

  it('toggling a purpose off withdraws it; on again asks for a confirmation first', async () => {
    const email = 'dee@example.com';
    await subscribeAndConfirm(email);
    const token = new URL(mailbox.latestTo(email)!.links.preferences!).searchParams.get('token')!;
    const off = await post('/preferences', { token, purpose: 'email_marketing' });
    expect(off.status).toBe(303);
    let view = await tactful.consent.show(email);
    expect(view.purposes.map((p) => p.state)).toEqual(['granted', 'withdrawn']);
    await post('/preferences', { token, purpose: ['email_marketing', 'personalization'] });
    // Asking is not deciding: the withdrawal stands until the link in the email is followed.
    view = await tactful.consent.show(email);
    expect(view.purposes.map((p) => p.state)).toEqual(['granted', 'withdrawn']);
    const confirm = mailbox.latestTo(email)!.links.confirm!;
    expect((await post('/confirm', { token: new URL(confirm).searchParams.get('token')! })).status).toBe(200);
    view = await tactful.consent.show(email);
    expect(view.purposes.map((p) => p.state)).toEqual(['granted', 'granted']);
  });

  it('download my data gives the core export; delete my data erases and the link then shows nothing held', async () => {
    const email = 'erase-me@example.com';
    await subscribeAndConfirm(email);
    const link = mailbox.latestTo(email)!.links.preferences!;
    const token = new URL(link).searchParams.get('token')!;
    const page = await (await fetch(local(link))).text();
    expect(page).toContain('Download my data');
    expect(page).toContain('Delete my data');
    const exported = await post('/preferences/export', { token });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toContain('attachment');
    const data = (await exported.json()) as {
      subject: { email: string };
      consent: { current: Array<{ state: string }> };
    };
    expect(data.subject.email).toBe(email);
    expect(data.consent.current.map((c) => c.state)).toEqual(['granted', 'granted']);
    const unconfirmed = await post('/preferences/erase', { token });
    expect(unconfirmed.status).toBe(400);
    expect(await tactful.audit.subjectIdOf(email)).not.toBeNull();
    const erased = await post('/preferences/erase', { token, confirm: 'yes' });
    expect(erased.status).toBe(200);
    expect(await erased.text()).toContain('Your data is deleted');
    const after = await fetch(local(link));
    expect(await after.text()).toContain('We hold no personal data for this link any more');
    await expect(tactful.consent.show(email)).rejects.toThrow();
  });

  it('a forged or expired preference link gets a 400 page', async () => {
    const res = await fetch(`${server.url}/preferences?token=abc.def`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('This link is not valid');
    const post400 = await post('/preferences', { token: 'abc.def', purpose: 'email_marketing' });
    expect(post400.status).toBe(400);
  });

  it('asking for a link answers the same whether or not the address is known', async () => {
    const known = await (await post('/preferences/link', { email: 'ana@example.com' })).text();
    const unknown = await (await post('/preferences/link', { email: 'nobody@example.com' })).text();
    expect(known.replace('ana@example.com', 'X')).toBe(unknown.replace('nobody@example.com', 'X'));
    expect(mailbox.latestTo('nobody@example.com')).toBeUndefined();
    expect(mailbox.latestTo('ana@example.com')!.subject).toBe('Your preference link');
  });
});

describe('admin', () => {
  const auth = { authorization: `Bearer ${ADMIN}` };

  it('every admin page and export answers 401 without a token', async () => {
    for (const path of [
      '/admin',
      '/admin/audit',
      '/admin/audit.csv',
      '/admin/segments',
      '/admin/campaign',
      '/admin/recommendations',
      '/admin/settings',
    ]) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    expect((await post('/admin/settings', { requireDoubleOptIn: '' })).status).toBe(401);
    expect((await post('/admin/segments', { name: 'x', definition: '{}' })).status).toBe(401);
    expect((await post('/admin/contact-policy', { caps: '9/1' })).status).toBe(401);
    expect(
      (await fetch(`${server.url}/admin`, { headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } }))
        .status,
    ).toBe(401);
    expect((await tactful.settings.get()).requireDoubleOptIn).toBe(true);
  });

  it('the login form sets an httpOnly SameSite=Strict cookie that opens the dashboard', async () => {
    const bad = await post('/admin/login', { token: 'nope', next: '/admin' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    const res = await post('/admin/login', { token: ADMIN, next: '/admin/audit' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/audit');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await fetch(`${server.url}/admin/audit`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    const tampered = await fetch(`${server.url}/admin`, {
      // Another session id under the same signature.
      headers: { cookie: cookie.split(';')[0]!.replace(/=(.)/, (_m, c: string) => `=${c === 'A' ? 'B' : 'A'}`) },
    });
    expect(tampered.status).toBe(401);
  });

  it('the dashboard charts the funnel from the audit log', async () => {
    const res = await fetch(`${server.url}/admin`, { headers: auth });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('data-chart="funnel"');
    expect(page).toContain('/assets/chart.umd.min.js');
    const data = JSON.parse(page.match(/<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/)![1]!);
    const requested = data.funnel.datasets[0].data.reduce((a: number, b: number) => a + b, 0);
    const confirmed = data.funnel.datasets[1].data.reduce((a: number, b: number) => a + b, 0);
    const [counts] = await rawStore(store).query<{ r: number; c: number }>(
      "select count(*) filter (where action = 'consent.opt_in_requested')::int as r, count(*) filter (where action = 'consent.opt_in_confirmed')::int as c from audit_log where shop_id = $1",
      [tactful.shopId],
    );
    expect(requested).toBe(counts!.r);
    expect(confirmed).toBe(counts!.c);
    expect(confirmed).toBeGreaterThan(0);
  });

  it('the audit log filters by action and email, and exports CSV', async () => {
    const page = await (await fetch(`${server.url}/admin/audit?action=consent.unsubscribed`, { headers: auth })).text();
    expect(page).toContain('consent.unsubscribed');
    expect(page).not.toMatch(/<td[^>]*>consent\.opt_in_requested<\/td>/);
    const byEmail = await (await fetch(`${server.url}/admin/audit?email=bo%40example.com`, { headers: auth })).text();
    expect(byEmail).toContain('consent.unsubscribed');
    const csv = await fetch(`${server.url}/admin/audit.csv?action=consent.unsubscribed`, { headers: auth });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('seq,at,action,actor_type,actor_id,subject_id,email,details,row_hash');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((l) => l.includes(',consent.unsubscribed,'))).toBe(true);
    const bad = await fetch(`${server.url}/admin/audit?since=yesterday`, { headers: auth });
    expect(bad.status).toBe(400);
    const verify = await fetch(`${server.url}/admin/audit/verify`, { headers: auth });
    expect(verify.status).toBe(200);
    expect(await verify.text()).toContain('Both chains are intact');
    // A row changed behind Tactful's back is found; then it is put back.
    const [row] = await rawStore(store).query<{ seq: number }>(
      "select min(seq)::int as seq from audit_log where shop_id = $1 and action = 'consent.unsubscribed'",
      [tactful.shopId],
    );
    await rawStore(store).query("update audit_log set action = 'consent.recorded' where shop_id = $1 and seq = $2", [
      tactful.shopId,
      row!.seq,
    ]);
    const broken = await fetch(`${server.url}/admin/audit/verify`, { headers: auth });
    expect(broken.status).toBe(409);
    expect(await broken.text()).toContain('A chain is broken');
    await rawStore(store).query(
      "update audit_log set action = 'consent.unsubscribed' where shop_id = $1 and seq = $2",
      [tactful.shopId, row!.seq],
    );
    expect((await fetch(`${server.url}/admin/audit/verify`, { headers: auth })).status).toBe(200);
  });

  it('the recommendations explorer shows related products with their statistics', async () => {
    const page = await (await fetch(`${server.url}/admin/recommendations?product=p-tea`, { headers: auth })).text();
    expect(page).toContain('People who bought Green tea also bought');
    expect(page).toContain('Teapot &lt;b&gt;cast iron&lt;/b&gt;');
    expect(page).toContain('Lift');
    const unknown = await (await fetch(`${server.url}/admin/recommendations?product=nope`, { headers: auth })).text();
    expect(unknown).toContain('is in no counted order');
  });

  it('segments: preview a definition, refuse a bad one with its reason, save, and show Pareto and RFM', async () => {
    const definition = JSON.stringify({ consent: { purpose: 'email_marketing', state: 'granted' } });
    const preview = await fetch(`${server.url}/admin/segments?definition=${encodeURIComponent(definition)}`, {
      headers: auth,
    });
    expect(preview.status).toBe(200);
    const text = await preview.text();
    expect(text).toMatch(/<strong>\d+<\/strong> of \d+ profiles match/);
    expect(text).toContain('Pareto');
    expect(text).toContain('RFM groups');
    const bad = await fetch(
      `${server.url}/admin/segments?definition=${encodeURIComponent('{"orderCount":{"min":"many"}}')}`,
      { headers: auth },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Invalid segment at');
    const notJson = await post('/admin/segments', { name: 'x', definition: '{oops' }, auth);
    expect(notJson.status).toBe(400);
    expect(await tactful.segments.list()).toEqual([]);
    const saved = await post('/admin/segments', { name: 'subscribers', definition }, auth);
    expect(saved.status).toBe(303);
    expect((await tactful.segments.list()).map((s) => s.name)).toEqual(['subscribers']);
    const list = await (await fetch(`${server.url}/admin/segments`, { headers: auth })).text();
    expect(list).toMatch(/<td[^>]*>subscribers<\/td>/);
  });

  it('the dashboard charts campaigns only from campaigns sent (sends recorded otherwise count for the caps, not here)', async () => {
    await tactful.contact.recordSend('ana@example.com', { campaign: 'spring-tea', productIds: ['p-pot'] });
    await tactful.contact.recordSend('cy@example.com', { campaign: 'spring-tea', productIds: ['p-pot'] });
    const page = await (await fetch(`${server.url}/admin`, { headers: auth })).text();
    const data = JSON.parse(page.match(/<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/)![1]!);
    expect(data.campaigns.labels).toEqual([]);
    expect(page).toContain('No campaign was sent yet');
    expect(data.revenue.datasets[0].data.reduce((a: number, b: number) => a + b, 0)).toBe(0);
  });

  it('revenue from recommended products counts order lines of featured products bought within 30 days of the send', async () => {
    await tactful.contact.recordSend('cy@example.com', { campaign: 'summer', productIds: ['p-cup'] });
    const soon = new Date(Date.now() + 60_000);
    await tactful.orders.ingest(
      [
        {
          id: 'o-cy-2',
          email: 'cy@example.com',
          customerId: 'c-cy',
          createdAt: soon,
          updatedAt: soon,
          lines: [
            { productId: 'p-cup', title: 'Cups', quantity: 2, price: '7.25' },
            { productId: 'p-saucer', title: 'Saucers', quantity: 1, price: '100.00' },
          ],
        },
      ],
      'shopify',
    );
    const page = await (await fetch(`${server.url}/admin`, { headers: auth })).text();
    const data = JSON.parse(page.match(/<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/)![1]!);
    // Cups were featured to Cy (2 × 7.25); saucers were not.
    expect(data.revenue.datasets[0].data.reduce((a: number, b: number) => a + b, 0)).toBe(14.5);
    expect(page).toContain('<strong>$14.50</strong> in the period');
  });

  it('settings: frequency caps are saved, and a bad cap is refused with the reason', async () => {
    const bad = await post(
      '/admin/contact-policy',
      { caps: '1/3, lots', quietStart: '21:00', quietEnd: '08:00', defaultTimeZone: 'UTC', productResendDays: '30' },
      auth,
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('&quot;lots&quot; is not a cap');
    const badZone = await post(
      '/admin/contact-policy',
      { caps: '2/7', quietStart: '', quietEnd: '', defaultTimeZone: 'Mars/Olympus', productResendDays: '' },
      auth,
    );
    expect(badZone.status).toBe(400);
    expect((await tactful.contact.policy()).caps).toEqual([
      { max: 1, days: 3 },
      { max: 4, days: 30 },
    ]);
    const ok = await post(
      '/admin/contact-policy',
      { caps: '2/7, 6/30', quietStart: '', quietEnd: '', defaultTimeZone: 'Europe/Paris', productResendDays: '' },
      auth,
    );
    expect(ok.status).toBe(303);
    expect(await tactful.contact.policy()).toMatchObject({
      caps: [
        { max: 2, days: 7 },
        { max: 6, days: 30 },
      ],
      quietHours: null,
      defaultTimeZone: 'Europe/Paris',
      productResendDays: null,
    });
  });

  it('campaign preview: eligible customers see the content and reasons, others the reason they are left out', async () => {
    // Cy was sent two emails this week: the frequency cap (2 per 7 days, set above) holds the next one back.
    const capped = await (await fetch(`${server.url}/admin/campaign?email=cy%40example.com`, { headers: auth })).text();
    expect(capped).toContain('cy@example.com would not receive it: frequency cap reached');
    await subscribeAndConfirm('fay@example.com');
    const noHistory = await (
      await fetch(`${server.url}/admin/campaign?email=fay%40example.com`, { headers: auth })
    ).text();
    expect(noHistory).toContain('fay@example.com would not receive it: nothing to recommend');
    const now = tactful.now();
    await tactful.orders.ingest(
      [
        {
          id: 'o-fay',
          email: 'fay@example.com',
          customerId: 'c-fay',
          createdAt: now,
          updatedAt: now,
          lines: [{ productId: 'p-tea', title: 'Green tea', quantity: 1 }],
        },
      ],
      'shopify',
    );
    const eligible = await (
      await fetch(`${server.url}/admin/campaign?email=fay%40example.com`, { headers: auth })
    ).text();
    expect(eligible).toContain('fay@example.com would receive the email now');
    expect(eligible).toContain('Because you bought Green tea.');
    expect(eligible).toContain('Teapot &lt;b&gt;cast iron&lt;/b&gt;');
    expect(eligible).toContain('You receive this because you agreed to email offers on');
    const unsubscribed = await (
      await fetch(`${server.url}/admin/campaign?email=bo%40example.com`, { headers: auth })
    ).text();
    expect(unsubscribed).toContain('would not receive it: email offers not granted');
    const unknown = await (
      await fetch(`${server.url}/admin/campaign?email=nobody%40example.com`, { headers: auth })
    ).text();
    expect(unknown).toContain('No customer with email nobody@example.com');
  });

  it('settings: sensitive categories and the sender identity are saved; bad values are refused and change nothing', async () => {
    const ok = await post('/admin/sensitive', { categories: 'health food\nbaby food, beer' }, auth);
    expect(ok.status).toBe(303);
    expect((await tactful.settings.get()).sensitiveCategories).toEqual(['health food', 'baby food', 'beer']);
    const long = await post('/admin/sensitive', { categories: 'x'.repeat(300) }, auth);
    expect(long.status).toBe(400);
    expect((await tactful.settings.get()).sensitiveCategories).toEqual(['health food', 'baby food', 'beer']);
    const badSender = await post(
      '/admin/sender',
      { senderName: 'Tea', senderEmail: 'nope', senderAddress: '1 Leaf Lane, Ghent' },
      auth,
    );
    expect(badSender.status).toBe(400);
    expect(await badSender.text()).toContain('not an email address');
    expect((await tactful.settings.get()).sender).toBeUndefined();
    expect(
      (
        await post(
          '/admin/sender',
          { senderName: 'Tea', senderEmail: 'hi@tea.example', senderAddress: '1 Leaf Lane, Ghent' },
          auth,
        )
      ).status,
    ).toBe(303);
    expect((await tactful.settings.get()).sender).toEqual({
      name: 'Tea',
      email: 'hi@tea.example',
      postalAddress: '1 Leaf Lane, Ghent',
    });
  });

  it('settings: a bad value is refused with the reason and changes nothing', async () => {
    const res = await post('/admin/settings', { requireDoubleOptIn: 'on', optInTokenTtlHours: '0' }, auth);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Nothing was changed');
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(48);
    const ok = await post('/admin/settings', { requireDoubleOptIn: 'on', optInTokenTtlHours: '24' }, auth);
    expect(ok.status).toBe(303);
    expect((await tactful.settings.get()).optInTokenTtlHours).toBe(24);
  });
});

describe('request logs', () => {
  it('carry method, path, status and ms, never query strings, emails or tokens', () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join('\n');
    expect(all).not.toContain('@example.com');
    expect(all).not.toContain('token=');
    expect(all).not.toContain('127.0.0.1');
    const entry = JSON.parse(logLines.find((l) => l.includes('"/subscribe"'))!);
    expect(entry).toMatchObject({
      method: expect.any(String),
      path: '/subscribe',
      status: expect.any(Number),
      ms: expect.any(Number),
    });
  });
});
