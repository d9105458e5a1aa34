/** The preference centre's shaping forms over HTTP: corrections, "not this", sensitive opt-ins, and their bad input. */
import { embeddedTestStore } from '@tactful/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTactful, type Store, type Tactful } from '@tactful/core';
import { createApp } from './app.js';
import { readServeConfig } from './config.js';
import { startServer, type RunningServer } from './start.js';

const EMAIL = 'pat@example.com';
let store: Store;
let tactful: Tactful;
let server: RunningServer;
let token: string;

beforeAll(async () => {
  store = await embeddedTestStore();
  tactful = await createTactful({ store, shop: 'shaping-http.myshopify.com' });
  await tactful.products.upsert([
    { id: 'tea', title: 'Green tea', category: 'Tea', available: true },
    { id: 'pills', title: 'Sleeping pills', category: 'Health', available: true },
  ]);
  await tactful.orders.ingest(
    [
      {
        id: 'o1',
        email: EMAIL,
        createdAt: new Date('2026-01-01'),
        updatedAt: new Date('2026-01-01'),
        lines: [
          { productId: 'tea', title: 'tea', quantity: 1 },
          { productId: 'pills', title: 'pills', quantity: 1 },
        ],
      },
    ],
    'shopify',
  );
  await tactful.consent.record({
    subject: { email: EMAIL },
    purpose: 'personalization',
    state: 'granted',
    level: 'single',
    occurredAt: new Date('2026-01-02'),
    source: { system: 'tactful', eventId: 'p', method: 'form' },
  });
  await tactful.profiles.ingestCustomers(
    [{ id: '1', email: EMAIL, firstName: 'Patt', city: 'Lyon', updatedAt: new Date('2026-01-02') }],
    'shopify',
  );
  await tactful.settings.update({ sensitiveCategories: ['Health'] });
  token = await tactful.links.preferences((await tactful.audit.subjectIdOf(EMAIL))!);
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: 'admin-token-for-tests-0123456789',
    TACTFUL_DEMO: '1',
    TACTFUL_RATE_LIMIT: '10000',
    PUBLIC_URL: 'http://shop.test',
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port: 0,
  });
});

afterAll(async () => {
  await server?.close();
});

const post = (path: string, values: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries({ token, ...values }))
    for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return fetch(`${server.url}${path}`, { method: 'POST', body, redirect: 'manual' });
};
const attributes = async () => (await tactful.profiles.show(EMAIL)).profile!.attributes;
const preferences = async () => (await tactful.preferences.show(EMAIL)).preferences;

describe('preference centre: customers shape what is known about them', () => {
  it('the page lists purchases, categories and the sensitive one with its own permission button', async () => {
    const page = await (await fetch(`${server.url}/preferences?token=${encodeURIComponent(token)}`)).text();
    expect(page).toContain('Correct your details');
    expect(page).toMatch(/data-product="pills"[\s\S]*no \(sensitive category\)/);
    expect(page).toMatch(/data-category="Health"[\s\S]*You may use it/);
  });

  it('a correction changes only the fields that changed; unchanged imported values stay imported', async () => {
    const res = await post('/preferences/profile', {
      firstName: 'Pat',
      lastName: '',
      city: 'Lyon',
      'interests-shown': '1',
      interest: 'Tea',
    });
    expect(res.status).toBe(303);
    const a = await attributes();
    expect(a.firstName).toMatchObject({ value: 'Pat', source: 'customer' });
    expect(a.city).toMatchObject({ value: 'Lyon', source: 'shopify' });
    expect(a.interests).toMatchObject({ value: ['tea'], source: 'customer' });
    expect(a.lastName).toBeUndefined();
  });

  it('bad input: 400, nothing changed', async () => {
    const before = { attributes: await attributes(), preferences: await preferences() };
    for (const [path, values] of [
      ['/preferences/profile', { firstName: 'Ok', birthDate: '1990-02-31' }],
      ['/preferences/profile', { 'interests-shown': '1', interest: ['Tea', 'Astrology'] }],
      ['/preferences/exclude', { product: 'bread' }],
      ['/preferences/exclude', { category: 'Astrology' }],
      ['/preferences/exclude', { product: 'tea', category: 'Tea' }],
      ['/preferences/exclude', { product: 'tea', undo: '1' }],
      ['/preferences/exclude', { category: 'Tea', sensitive: '1' }],
    ] as const) {
      const res = await post(path, values as Record<string, string | string[]>);
      expect(res.status, `${path} ${JSON.stringify(values)}`).toBe(400);
      expect(await res.text()).toContain('Nothing was changed');
    }
    expect({ attributes: await attributes(), preferences: await preferences() }).toEqual(before);
    const forged = await fetch(`${server.url}/preferences/exclude`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'nope', product: 'tea' }),
      redirect: 'manual',
    });
    expect(forged.status).toBe(400);
    expect(await preferences()).toEqual(before.preferences);
  });

  it('"not this", a sensitive opt-in, and their undo', async () => {
    expect((await post('/preferences/exclude', { product: 'tea' })).status).toBe(303);
    expect((await post('/preferences/exclude', { category: 'Health', sensitive: '1' })).status).toBe(303);
    expect(await preferences()).toEqual({
      excludedProducts: ['tea'],
      excludedCategories: [],
      sensitiveOptIns: ['Health'],
    });
    const page = await (await fetch(`${server.url}/preferences?token=${encodeURIComponent(token)}`)).text();
    expect(page).toMatch(/Purchases you excluded<\/td><td[^>]*>Green tea/);
    expect(page).toMatch(/Sensitive categories you allowed<\/td><td[^>]*>Health/);
    expect((await post('/preferences/exclude', { product: 'tea', undo: '1' })).status).toBe(303);
    expect((await post('/preferences/exclude', { category: 'Health', sensitive: '1', undo: '1' })).status).toBe(303);
    expect(await preferences()).toEqual({ excludedProducts: [], excludedCategories: [], sensitiveOptIns: [] });
  });
});
