/**
 * Bad input at the admin: hostile text (SQL and markup) in every query parameter that reaches a page or a
 * query — audit filters, the recommendations explorer, the campaign preview, segment JSON — and in the admin
 * forms. A refused input gets a clear 400 and changes nothing; an accepted one is kept exactly as typed (SQL
 * stays data) and every page shows it escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE, auth, expectInert, form, snapshot, startHarness, type Harness } from './harness.js';
import { rawStore } from '@tactful/core/testing';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
  const day = (d: number) => new Date(Date.UTC(2026, 2, d));
  await h.tactful.products.upsert([
    { id: 'tea', title: 'Green tea', available: true, category: 'drinks' },
    { id: 'pot', title: 'Teapot', available: true, category: 'kitchen' },
  ]);
  await h.tactful.orders.ingest(
    Array.from({ length: 4 }, (_, i) => ({
      id: `o${i}`,
      email: `c${i}@example.com`,
      createdAt: day(i + 1),
      updatedAt: day(i + 1),
      lines: [
        { productId: 'tea', title: 'Green tea', quantity: 1 },
        { productId: 'pot', title: 'Teapot', quantity: 1 },
      ],
    })),
    'shopify',
  );
  for (let i = 0; i < 4; i++) {
    for (const purpose of ['email_marketing', 'personalization']) {
      await h.tactful.consent.record({
        subject: { email: `c${i}@example.com` },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt: day(10),
        source: { system: 'cli', eventId: `${purpose}-${i}`, method: 'form' },
      });
    }
  }
  // The first view of the segments page scores RFM and keeps when it did (kv): derived data, not input.
  expect((await fetch(h.url('/admin/segments'), { headers: auth })).status).toBe(200);
});
afterAll(async () => {
  await h?.close();
});

const enc = encodeURIComponent;
const get = async (path: string) => {
  const res = await fetch(h.url(path), { headers: auth });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
};
const post = async (path: string, values: Record<string, string | string[]>) => {
  const res = await fetch(h.url(path), { method: 'POST', headers: auth, body: form(values), redirect: 'manual' });
  return { status: res.status, text: await res.text(), location: res.headers.get('location') };
};

/** Segment definitions whose string values are hostile: valid JSON, valid language, they match nobody. */
const hostileSegments = HOSTILE.filter((v) => v.length > 0).flatMap((v) => [
  { purchased: { product: v } },
  { purchased: { category: [v, 'no-such-category'] } },
  { location: { region: v } },
  { location: { city: v } },
  { interests: { anyOf: [v] } },
  { attribute: { name: 'firstName', eq: v.slice(0, 200) } },
  { all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { purchased: { product: v } }] },
]);

describe('admin query parameters', () => {
  const cases: Array<[string, string, number]> = [
    ...HOSTILE.map((v, i): [string, string, number] => [
      `audit: hostile email filter #${i + 1}`,
      `/admin/audit?email=${enc(v)}`,
      v.includes('\u0000') ? 400 : 200,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `audit: hostile action filter #${i + 1}`,
      `/admin/audit?action=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `audit: hostile dates #${i + 1}`,
      `/admin/audit?since=${enc(v)}&until=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `audit CSV: hostile email filter #${i + 1}`,
      `/admin/audit.csv?email=${enc(v)}`,
      v.includes('\u0000') ? 400 : 200,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      // A page that is not a page number is refused (400) and named, escaped, in the notice.
      `audit: hostile subject and page #${i + 1}`,
      `/admin/audit?subject=${enc(v)}&page=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `recommendations: hostile product #${i + 1}`,
      `/admin/recommendations?product=${enc(v)}`,
      v.includes('\u0000') ? 400 : 200,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `recommendations: hostile customer #${i + 1}`,
      `/admin/recommendations?customer=${enc(v)}`,
      v.includes('\u0000') ? 400 : 200,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `campaign preview: hostile email #${i + 1}`,
      `/admin/campaign?email=${enc(v)}`,
      v.includes('\u0000') ? 400 : 200,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `segments: hostile text instead of JSON #${i + 1}`,
      `/admin/segments?definition=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `segments: a hostile predicate name #${i + 1}`,
      `/admin/segments?definition=${enc(JSON.stringify({ [v]: true }))}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `data requests: a hostile id #${i + 1}`,
      `/admin/data-requests/${enc(v)}.json`,
      404,
    ]), // plain text, nosniff
    ...HOSTILE.map((v, i): [string, string, number] => [
      // Not an address: refused by name before anything is searched.
      `customers: hostile email search #${i + 1}`,
      `/admin/customers?email=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      `customers: hostile cursor, group and segment #${i + 1}`,
      `/admin/customers?after=${enc(v)}&rfm=${enc(v)}&segment=${enc(v)}&consent.email_marketing=${enc(v)}`,
      400,
    ]),
    ...HOSTILE.map((v, i): [string, string, number] => [
      // Nobody has that id: no page, and no view is recorded.
      `customers: a hostile customer id #${i + 1}`,
      `/admin/customers/${enc(v)}`,
      v.includes('\u0000') ? 400 : 404,
    ]),
    ['segments: JSON nested 1 500 deep', `/admin/segments?definition=${enc('['.repeat(1500) + ']'.repeat(1500))}`, 400],
    // The URL is longer than Node accepts in a request line: 431 before the app sees it.
    [
      'segments: 2 000 predicates',
      `/admin/segments?definition=${enc(JSON.stringify({ all: Array.from({ length: 2000 }, () => ({ orderCount: { min: 1 } })) }))}`,
      431,
    ],
  ];
  it.each(cases)('%s: answers %s, escaped, nothing stored', async (_name, path, status) => {
    const before = await snapshot(h.store);
    const res = await get(path);
    expect(res.status).toBe(status);
    // Pages are HTML and must show hostile text escaped; plain-text answers (CSV, 404 of a download) are not markup.
    if (res.type.startsWith('text/html')) expectInert(res.text, expect);
    else if (status !== 431) expect(res.type).toMatch(/^text\/(plain|csv)/);
    expect(await snapshot(h.store)).toEqual(before);
  });

  it.each(hostileSegments.map((d) => [JSON.stringify(d).slice(0, 80), d] as const))(
    'segment preview with hostile values %s: runs as data, matches nobody, changes nothing',
    async (_name, definition) => {
      const before = await snapshot(h.store);
      const res = await get(`/admin/segments?definition=${enc(JSON.stringify(definition))}`);
      if (res.status === 400 && JSON.stringify(definition).includes('\\u0000')) {
        // PostgreSQL text holds no NUL: a clear 400 instead of a failed query (values compared through the
        // blind index are hashed first, and simply match nobody).
        expect(res.status).toBe(400);
        expect(res.text).toContain('NUL character');
        expect(await snapshot(h.store)).toEqual(before);
        return;
      }
      expect(res.status).toBe(200);
      expect(res.text).toMatch(/<strong>0<\/strong> of \d+ profiles match/);
      expectInert(res.text, expect);
      expect(await snapshot(h.store)).toEqual(before);
    },
  );

  it('the tables hostile text named are all still there, with their rows', async () => {
    const [row] = await rawStore(h.store).query<{ ledger: number; orders: number; subjects: number }>(
      'select (select count(*)::int from consent_ledger) as ledger, (select count(*)::int from orders) as orders, (select count(*)::int from subjects) as subjects',
    );
    expect(row).toMatchObject({ orders: 4, subjects: 4 });
    expect(row!.ledger).toBeGreaterThanOrEqual(8);
    expect((await h.tactful.audit.verify()).ledger.ok).toBe(true);
  });
});

describe('admin forms', () => {
  it.each(HOSTILE.map((v, i) => [i + 1, v] as const))(
    'hostile text #%s is refused where it is not a valid value, and changes nothing',
    async (_i, v) => {
      const before = await snapshot(h.store);
      const refused = [
        await post('/admin/segments', { name: 'x', definition: v }),
        await post('/admin/segments', { name: v, definition: JSON.stringify({ [v]: 1 }) }),
        await post('/admin/purposes', {
          key: v,
          title: 'T',
          description: '',
          documentUrl: 'https://shop.example/terms',
          clause: '1',
          version: '1',
        }),
        await post('/admin/purposes', {
          key: 'ok_key',
          title: 'T',
          description: '',
          documentUrl: v,
          clause: '1',
          version: '1',
        }),
        await post('/admin/sender', { senderName: 'Shop', senderEmail: v, senderAddress: '1 Main St' }),
        await post('/admin/contact-policy', {
          caps: v,
          quietStart: v,
          quietEnd: '',
          defaultTimeZone: v,
          productResendDays: v,
        }),
        await post('/admin/settings', { requireDoubleOptIn: 'on', optInTokenTtlHours: v }),
        await post('/admin/brand', { brandName: 'Shop', accentColor: v, logoUrl: '' }),
        await post('/admin/brand', { brandName: 'Shop', accentColor: '', logoUrl: v }),
      ];
      for (const res of refused) {
        expect(res.status).toBe(400);
        expectInert(res.text, expect);
        expect(res.text).toMatch(/Nothing was (changed|saved)/);
      }
      expect(await snapshot(h.store)).toEqual(before);
    },
  );

  it('hostile text accepted as segment values is kept exactly (SQL stays data) and shown escaped', async () => {
    const definition = {
      any: [
        { purchased: { product: HOSTILE[0] } },
        { location: { city: HOSTILE[1] } },
        { interests: { anyOf: [HOSTILE[3], HOSTILE[4]] } },
      ],
    };
    const saved = await post('/admin/segments', { name: 'hostile_values', definition: JSON.stringify(definition) });
    expect(saved.status).toBe(303);
    const kept = (await h.tactful.segments.list()).find((s) => s.name === 'hostile_values');
    expect(JSON.stringify(kept?.definition)).toContain(JSON.stringify(HOSTILE[1]));
    const page = await get(`/admin/segments?definition=${enc(JSON.stringify(definition))}`);
    expect(page.status).toBe(200);
    expectInert(page.text, expect);
    expect(page.text).toContain('&lt;img src=x');
    expect((await post('/admin/segments/delete', { name: 'hostile_values' })).status).toBe(303);
    expect(await h.tactful.segments.list()).toEqual([]);
  });
});
