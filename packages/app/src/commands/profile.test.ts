import { createTactful, openStore } from '@tactful/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';

const { db, shop, env, secret, dir, remove } = commandTestStore('cli-profile');
afterAll(remove);

const run = (...args: string[]) => runCaptured(['--db', db, '--shop', shop, ...args], env, dir);
const day = (d: number) => new Date(Date.now() - d * 86_400_000);

/** What the store holds about ann, read through the engine: a change a refused command made would show here. */
async function snapshot() {
  const store = await openStore({ url: db, secret });
  try {
    const t = await createTactful({ store, shop });
    const view = await t.profiles.show('ann@example.com');
    const audit: string[] = [];
    for await (const line of t.audit.export('jsonl', { subjectId: view.subjectId })) audit.push(line);
    return {
      attributes: view.profile?.attributes,
      preferences: view.profile?.preferences,
      outbox: await t.outbox.counts(),
      audit: audit.length,
    };
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  const store = await openStore({ url: db, secret });
  try {
    const t = await createTactful({ store, shop });
    await t.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    for (const [email, purposes] of [
      ['ann@example.com', ['personalization', 'email_marketing']],
      ['bob@example.com', ['email_marketing']],
    ] as const) {
      for (const purpose of purposes) {
        await t.consent.record({
          subject: { email },
          purpose,
          state: 'granted',
          level: 'single',
          occurredAt: day(30),
          source: { system: 'tactful', eventId: `${email}-${purpose}`, method: 'form' },
        });
      }
    }
    await t.products.upsert([
      { id: 'tea', title: 'Green tea', category: 'Tea', available: true },
      { id: 'toy', title: 'Toy robot', category: 'Toys', available: true },
    ]);
    await t.orders.ingest(
      [
        {
          id: 'o1',
          email: 'ann@example.com',
          createdAt: day(10),
          updatedAt: day(10),
          lines: [
            { productId: 'tea', title: 'Green tea', quantity: 1 },
            { productId: 'toy', title: 'Toy robot', quantity: 1 },
          ],
        },
      ],
      'shopify',
    );
    await t.profiles.setAttributes('ann@example.com', { firstName: 'Anne', city: 'Paris' }, 'shopify');
  } finally {
    await store.close();
  }
}, 120_000);

describe('tactful profile set / exclude', () => {
  it('profile set - corrects fields with source customer and queues the names for both systems', async () => {
    const before = await snapshot();
    const r = await run(
      'profile',
      'set',
      'ann@example.com',
      '--first-name',
      'Ann',
      '--job-title',
      'Baker',
      '--interests',
      'tea',
      '--city',
      '',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/corrected: .*firstName/);
    const after = await snapshot();
    expect(after.attributes?.firstName).toMatchObject({ value: 'Ann', source: 'customer' });
    expect(after.attributes?.jobTitle).toMatchObject({ value: 'Baker', source: 'customer' });
    expect(after.attributes?.interests).toMatchObject({ value: ['tea'], source: 'customer' });
    expect(after.attributes?.city).toBeUndefined();
    expect(after.outbox.pending).toBe(before.outbox.pending + 2);
    const shown = await run('profile', 'show', '--email', 'ann@example.com');
    expect(shown.stdout).toMatch(/firstName\s+Ann\s+customer/);
  });

  it('profile set - bad input exits 2 and changes nothing', async () => {
    const before = await snapshot();
    const cases: Array<[string[], RegExp]> = [
      [['profile', 'set', 'ann@example.com'], /Nothing to set/],
      [['profile', 'set', 'ann@example.com', '--birth-date', '1990-02-31', '--first-name', 'X'], /birthDate/],
      [['profile', 'set', 'ann@example.com', '--country', 'Belgium'], /country/],
      [['profile', 'set', 'ann@example.com', '--interests', 'tea,astrology'], /Unknown interest "astrology"/],
      [['profile', 'set', 'ghost@example.com', '--first-name', 'G'], /No customer with email ghost@example.com/],
      [['profile', 'set', 'not-an-email', '--first-name', 'G'], /not a valid email/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('profile exclude - a purchase and a category, shown by profile show, and undone', async () => {
    const excluded = await run('profile', 'exclude', 'ann@example.com', '--product', 'toy');
    expect(excluded.code).toBe(0);
    expect(excluded.stdout).toContain('excluded: product toy');
    expect((await run('profile', 'exclude', 'ann@example.com', '--category', 'tea')).code).toBe(0);
    expect((await snapshot()).preferences).toEqual({
      excludedProducts: ['toy'],
      excludedCategories: ['Tea'],
      sensitiveOptIns: [],
    });
    const shown = await run('profile', 'show', '--email', 'ann@example.com');
    expect(shown.stdout).toContain('excluded purchases ("not this"): toy');
    expect(shown.stdout).toContain('excluded categories: Tea');
    const undone = await run('profile', 'exclude', 'ann@example.com', '--product', 'toy', '--undo', '--json');
    expect(undone.code).toBe(0);
    expect(JSON.parse(undone.stdout)).toMatchObject({ changed: true, preferences: { excludedProducts: [] } });
    expect((await run('profile', 'exclude', 'ann@example.com', '--category', 'Tea', '--undo')).code).toBe(0);
    expect((await snapshot()).preferences).toEqual({
      excludedProducts: [],
      excludedCategories: [],
      sensitiveOptIns: [],
    });
  });

  it('profile exclude - bad input exits 2 and changes nothing', async () => {
    expect((await run('profile', 'exclude', 'ann@example.com', '--product', 'tea')).code).toBe(0);
    const before = await snapshot();
    const cases: Array<[string[], RegExp]> = [
      [['profile', 'exclude', 'ann@example.com'], /exactly one of --product/],
      [['profile', 'exclude', 'ann@example.com', '--product', 'tea', '--category', 'Tea'], /exactly one of --product/],
      [['profile', 'exclude', 'ann@example.com', '--product', 'bread'], /not among this customer's purchases/],
      [['profile', 'exclude', 'ann@example.com', '--category', 'Astrology'], /not a category of this shop/],
      [['profile', 'exclude', 'ann@example.com', '--product', 'toy', '--undo'], /Nothing to undo/],
      [['profile', 'exclude', 'ghost@example.com', '--category', 'Tea'], /No customer with email/],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // Without personalization there is nothing to exclude: a refusal by rule (exit 1).
    const refused = await run('profile', 'exclude', 'bob@example.com', '--category', 'Tea');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/PREFERENCES.NO_PROFILE/);
    expect(await snapshot()).toEqual(before);
  });

  it('settings set --sensitive-categories - the shop marks categories sensitive; a bad value exits 2 and changes nothing', async () => {
    const set = await run('settings', 'set', '--sensitive-categories', 'Toys, Health');
    expect(set.code).toBe(0);
    expect(JSON.parse((await run('settings', 'show', '--json')).stdout).sensitiveCategories).toEqual([
      'Toys',
      'Health',
    ]);
    expect((await run('settings', 'show')).stdout).toMatch(/sensitive categories\s+Toys, Health/);
    const bad = await run('settings', 'set', '--sensitive-categories', 'x'.repeat(201));
    expect(bad.code).toBe(2);
    expect(JSON.parse((await run('settings', 'show', '--json')).stdout).sensitiveCategories).toEqual([
      'Toys',
      'Health',
    ]);
    expect((await run('settings', 'set', '--sensitive-categories', '')).code).toBe(0);
    expect(JSON.parse((await run('settings', 'show', '--json')).stdout).sensitiveCategories).toEqual([]);
  });
});

describe('tactful profile merge', () => {
  it('profile merge - the second customer joins the first, audited; merging again finds them one person already', async () => {
    const merged = await run('profile', 'merge', 'ann@example.com', 'bob@example.com');
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    expect(merged.stdout).toMatch(/merged bob@example.com into ann@example.com: 1 consent events, 0 orders/);
    const again = await run('profile', 'merge', 'ann@example.com', 'bob@example.com');
    expect(again.code).not.toBe(0);
    // The merged address is one of the kept person's past addresses now: it names her.
    expect(again.stderr).toContain('Both addresses are the same person already: nothing to merge.');
    const audit = await run('audit', 'export', '--format', 'jsonl');
    expect(audit.stdout).toContain('"action":"subject.merged"');
  });
});
