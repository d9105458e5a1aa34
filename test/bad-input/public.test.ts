/**
 * Bad input at the public pages: hostile text in every field of the subscribe form, the link request and the
 * preference centre; forged, tampered, expired, reused and misused confirm / unsubscribe / preference links;
 * wrong content types and oversize forms. Each gets a clear status and page, the page shows the text
 * escaped, and nothing is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful } from '@tactful/core';
import { HOSTILE, SHOP, expectInert, form, snapshot, startHarness, type Harness } from './harness.js';

let h: Harness;
/** Links from real emails of this shop, used in the token cases. */
const links: Record<'confirm' | 'unsubscribe' | 'preferences' | 'usedConfirm' | 'otherShopConfirm', string> =
  {} as never;

const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;
/** The same token with one character of its signature changed. */
const tamper = (token: string) => token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);

beforeAll(async () => {
  h = await startHarness();
  const post = (path: string, values: Record<string, string | string[]>) =>
    fetch(h.url(path), { method: 'POST', body: form(values), redirect: 'manual' });
  // Someone subscribed and confirmed: their welcome email carries the unsubscribe and preference links.
  expect(
    (await post('/subscribe', { email: 'kim@example.com', purpose: ['email_marketing', 'personalization'] })).status,
  ).toBe(200);
  links.usedConfirm = h.mailbox.latestTo('kim@example.com')!.links.confirm!;
  expect((await post('/confirm', { token: tokenOf(links.usedConfirm) })).status).toBe(200);
  const welcome = h.mailbox.latestTo('kim@example.com')!;
  links.preferences = welcome.links.preferences!;
  links.unsubscribe = /<([^>]+)>/.exec(welcome.headers['List-Unsubscribe']!)![1]!;
  // Someone else asked and has not confirmed yet.
  expect((await post('/subscribe', { email: 'lou@example.com', purpose: 'email_marketing' })).status).toBe(200);
  links.confirm = h.mailbox.latestTo('lou@example.com')!.links.confirm!;
  // A confirmation token signed for another shop of the same database.
  const other = await createTactful({ store: h.store, shop: 'other-shop.myshopify.com' });
  links.otherShopConfirm = `http://x/confirm?token=${encodeURIComponent((await other.consent.requestOptIn({ email: 'lou@example.com', purposes: ['email_marketing'] })).token)}`;
});
afterAll(async () => {
  await h?.close();
});

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  path: string | (() => string);
  body?: Record<string, string | string[]> | string | (() => Record<string, string | string[]>);
  contentType?: string;
  status: number;
  says?: RegExp;
  /** The form is shown again with the problem (and the values typed) instead of a refusal page. */
  redisplay?: boolean;
}

const emailCases: Case[] = HOSTILE.map((value, i) => ({
  name: `subscribe: hostile email #${i + 1}`,
  path: '/subscribe',
  body: { email: value, purpose: 'email_marketing' },
  status: 400,
  // PostgreSQL text holds no NUL: the app refuses it before any page logic runs.
  says: value.includes('\u0000') ? /NUL character/ : /is not a valid email address/,
  redisplay: !value.includes('\u0000'),
}));

const purposeCases: Case[] = HOSTILE.map((value, i) => ({
  name: `subscribe: hostile purpose #${i + 1}`,
  path: '/subscribe',
  body: { email: 'mo@example.com', purpose: ['email_marketing', value] },
  status: 400,
  says: value.includes('\u0000') ? /NUL character/ : /Unknown choice/,
  redisplay: !value.includes('\u0000'),
}));

const formCases: Case[] = [
  {
    name: 'subscribe: no email, no box',
    path: '/subscribe',
    body: {},
    status: 400,
    says: /Enter your email address/,
    redisplay: true,
  },
  {
    name: 'subscribe: an address with SQL in the local part',
    path: '/subscribe',
    body: { email: `a'--@example.com'; drop table subjects;`, purpose: 'email_marketing' },
    status: 400,
    says: /not a valid email address/,
    redisplay: true,
  },
  {
    name: 'subscribe: a valid address but no box ticked',
    path: '/subscribe',
    body: { email: 'mo@example.com' },
    status: 400,
    says: /Tick at least one box/,
    redisplay: true,
  },
  {
    name: 'subscribe: text/plain instead of a form',
    path: '/subscribe',
    body: 'email=mo@example.com&purpose=email_marketing',
    contentType: 'text/plain',
    status: 400,
    says: /Enter your email address/,
    redisplay: true,
  },
  {
    name: 'subscribe: malformed JSON',
    path: '/subscribe',
    body: '{"email": "mo@example.com", ',
    contentType: 'application/json',
    status: 400,
    says: /could not be read/,
  },
  {
    name: 'subscribe: a form over 32 kB',
    path: '/subscribe',
    body: { email: `${'a'.repeat(40_000)}@example.com`, purpose: 'email_marketing' },
    status: 413,
    says: /Too large/,
  },
  {
    name: 'subscribe: more than 100 fields',
    path: '/subscribe',
    body: { email: 'mo@example.com', purpose: Array.from({ length: 150 }, () => 'email_marketing') },
    status: 400,
    says: /could not be read/,
  },
  {
    name: 'link request: hostile email',
    path: '/preferences/link',
    body: { email: HOSTILE[0] },
    status: 400,
    says: /not a valid email address/,
    redisplay: true,
  },
  {
    name: 'link request: SQL as email',
    path: '/preferences/link',
    body: { email: HOSTILE[2] },
    status: 400,
    says: /not a valid email address/,
    redisplay: true,
  },
];

const tokenCases: Case[] = [
  // confirm
  {
    name: 'confirm GET: a forged token',
    method: 'GET',
    path: `/confirm?token=${encodeURIComponent('eyJhbGciOiJub25lIn0.e30.')}`,
    status: 400,
    says: /not valid/,
  },
  {
    name: 'confirm GET: hostile text as token',
    method: 'GET',
    path: `/confirm?token=${encodeURIComponent(HOSTILE[0])}`,
    status: 400,
    says: /not valid/,
  },
  {
    name: 'confirm GET: the token twice in the query',
    method: 'GET',
    path: () => `/confirm?token=${encodeURIComponent(tokenOf(links.confirm))}&token=x`,
    status: 400,
  },
  {
    name: 'confirm POST: a tampered signature',
    path: '/confirm',
    body: () => ({ token: tamper(tokenOf(links.confirm)) }),
    status: 400,
    says: /not valid/,
  },
  {
    name: 'confirm POST: an unsubscribe token',
    path: '/confirm',
    body: () => ({ token: tokenOf(links.unsubscribe) }),
    status: 400,
  },
  {
    name: 'confirm POST: a preference token',
    path: '/confirm',
    body: () => ({ token: tokenOf(links.preferences) }),
    status: 400,
  },
  {
    name: 'confirm POST: a token of another shop',
    path: '/confirm',
    body: () => ({ token: tokenOf(links.otherShopConfirm) }),
    status: 400,
    says: /not valid/,
  },
  {
    name: 'confirm POST: a used token',
    path: '/confirm',
    body: () => ({ token: tokenOf(links.usedConfirm) }),
    status: 409,
    says: /already used/,
  },
  { name: 'confirm POST: no token', path: '/confirm', body: {}, status: 400 },
  // unsubscribe
  {
    name: 'unsubscribe GET: a forged token',
    method: 'GET',
    path: '/unsubscribe?token=abc.def',
    status: 400,
    says: /not valid/,
  },
  {
    name: 'unsubscribe POST: a tampered token',
    path: () => `/unsubscribe?token=${encodeURIComponent(tamper(tokenOf(links.unsubscribe)))}`,
    body: { 'List-Unsubscribe': 'One-Click' },
    status: 400,
    says: /not valid/,
  },
  {
    name: 'unsubscribe POST: a confirmation token',
    path: () => `/unsubscribe?token=${encodeURIComponent(tokenOf(links.confirm))}`,
    body: { 'List-Unsubscribe': 'One-Click' },
    status: 400,
  },
  {
    name: 'unsubscribe POST: a preference token',
    path: () => `/unsubscribe?token=${encodeURIComponent(tokenOf(links.preferences))}`,
    body: { 'List-Unsubscribe': 'One-Click' },
    status: 400,
  },
  {
    name: 'unsubscribe POST: without List-Unsubscribe=One-Click',
    path: () => `/unsubscribe?token=${encodeURIComponent(tokenOf(links.unsubscribe))}`,
    body: {},
    status: 400,
    says: /One-Click/,
  },
  {
    name: 'unsubscribe POST: One-Click with another value',
    path: () => `/unsubscribe?token=${encodeURIComponent(tokenOf(links.unsubscribe))}`,
    body: { 'List-Unsubscribe': `One-Click${HOSTILE[1]}` },
    status: 400,
    says: /One-Click/,
  },
  // preference centre
  {
    name: 'preferences GET: a forged token',
    method: 'GET',
    path: '/preferences?token=abc.def',
    status: 400,
    says: /not valid/,
  },
  {
    name: 'preferences GET: an unsubscribe token',
    method: 'GET',
    path: () => `/preferences?token=${encodeURIComponent(tokenOf(links.unsubscribe))}`,
    status: 400,
  },
  {
    name: 'preferences POST: a tampered token with hostile purposes',
    path: '/preferences',
    body: () => ({ token: tamper(tokenOf(links.preferences)), purpose: HOSTILE.filter((v) => !v.includes('\u0000')) }),
    status: 400,
    says: /not valid/,
  },
  {
    name: 'preferences POST: a NUL in a purpose',
    path: '/preferences',
    body: () => ({ token: tokenOf(links.preferences), purpose: ['email_marketing', 'a\u0000b'] }),
    status: 400,
    says: /NUL character/,
  },
  {
    name: 'preferences POST: a confirmation token',
    path: '/preferences',
    body: () => ({ token: tokenOf(links.confirm), purpose: 'email_marketing' }),
    status: 400,
  },
  { name: 'export: a forged token', path: '/preferences/export', body: { token: HOSTILE[1] }, status: 400 },
  // "Email me a link" takes an unsubscribe or a preference link of this shop, nothing else.
  {
    name: 'send-link: a tampered unsubscribe token',
    path: '/preferences/send-link',
    body: () => ({ token: tamper(tokenOf(links.unsubscribe)) }),
    status: 400,
    says: /not valid/,
  },
  {
    name: 'send-link: a confirmation token',
    path: '/preferences/send-link',
    body: () => ({ token: tokenOf(links.confirm) }),
    status: 400,
    says: /not valid/,
  },
  {
    name: 'erase: a forged token, confirmed',
    path: '/preferences/erase',
    body: { token: 'abc.def', confirm: 'yes' },
    status: 400,
  },
  {
    name: 'erase: a real token, not confirmed',
    path: '/preferences/erase',
    body: () => ({ token: tokenOf(links.preferences), confirm: HOSTILE[0] }),
    status: 400,
    says: /Tick the box/,
  },
];

async function send(c: Case): Promise<{ status: number; text: string }> {
  const path = typeof c.path === 'function' ? c.path() : c.path;
  const method = c.method ?? 'POST';
  const raw = typeof c.body === 'function' ? c.body() : c.body;
  const body = raw === undefined || method === 'GET' ? undefined : typeof raw === 'string' ? raw : form(raw);
  const headers: Record<string, string> = c.contentType ? { 'content-type': c.contentType } : {};
  const res = await fetch(h.url(path), {
    method,
    ...(body !== undefined ? { body } : {}),
    headers,
    redirect: 'manual',
  });
  return { status: res.status, text: await res.text() };
}

describe.each([
  ['subscribe form, email field', emailCases],
  ['subscribe form, purpose field', purposeCases],
  ['forms', formCases],
  ['links', tokenCases],
])('public pages — %s: refused clearly, shown escaped, nothing stored', (_group, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const before = await snapshot(h.store);
    const { status, text } = await send(c);
    expect(status).toBe(c.status);
    if (c.says) expect(text).toMatch(c.says);
    expectInert(text, expect);
    if (!c.redisplay) expect(text).toContain('Nothing was changed');
    expect(await snapshot(h.store)).toEqual(before);
  });
});

describe('links in time', () => {
  it('an expired confirmation link is refused and changes nothing; a reused unsubscribe link changes nothing', async () => {
    // Kim unsubscribes with the link of the email: the first use withdraws, the second one is a no-op.
    const one = await fetch(h.url(new URL(links.unsubscribe).pathname + new URL(links.unsubscribe).search), {
      method: 'POST',
      body: form({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(one.status).toBe(200);
    let before = await snapshot(h.store);
    const again = await fetch(h.url(new URL(links.unsubscribe).pathname + new URL(links.unsubscribe).search), {
      method: 'POST',
      body: form({ 'List-Unsubscribe': 'One-Click' }),
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain('already unsubscribed');
    expect(await snapshot(h.store)).toEqual(before);
    // Lou's confirmation link is valid for 48 hours; 49 hours later it is refused.
    h.advance(49 * 3600_000);
    before = await snapshot(h.store);
    for (const method of ['GET', 'POST'] as const) {
      const res =
        method === 'GET'
          ? await fetch(h.url(`/confirm?token=${encodeURIComponent(tokenOf(links.confirm))}`))
          : await fetch(h.url('/confirm'), { method, body: form({ token: tokenOf(links.confirm) }) });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('This link has expired');
    }
    expect(await snapshot(h.store)).toEqual(before);
    expect(
      (await h.tactful.consent.show('lou@example.com')).purposes.find((p) => p.purpose === 'email_marketing')?.state,
    ).toBe('pending');
    expect(SHOP).toBe('bad-input.myshopify.com');
  });
});
