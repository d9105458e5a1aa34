/**
 * A merge keeps everything about the person: both profiles' attributes (by the stated rule, each dropped value
 * named in the audit without its value), every "not this" exclusion and sensitive-category opt-in, and both
 * people's sends, so the contact caps count them together.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { rawStore } from '../store/open.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import type { ProfileAttributeName, ProfileAttributes } from '../profile/attributes.js';
import type { CustomerPreferences } from '../preferences/preferences.js';
import { mergeAttributes, mergePreferences } from './merge.js';

const names: ProfileAttributeName[] = ['firstName', 'lastName', 'city', 'country', 'jobTitle', 'gender'];
const value = fc.record({
  value: fc.constantFrom('a', 'b', 'c'),
  source: fc.constantFrom('customer', 'shopify', 'cli'),
  updatedAt: fc.integer({ min: 0, max: 5 }).map((d) => new Date(Date.UTC(2026, 0, 1 + d)).toISOString()),
});
const attributes = fc.dictionary(fc.constantFrom(...names), value) as fc.Arbitrary<ProfileAttributes>;
const categories = fc.array(fc.constantFrom('Tea', 'tea', 'Toys', 'Health', 'health '), { maxLength: 4 });
const preferences = fc.record({
  excludedProducts: fc.uniqueArray(fc.constantFrom('p1', 'p2', 'p3'), { maxLength: 3 }),
  excludedCategories: categories,
  sensitiveOptIns: categories,
}) as fc.Arbitrary<CustomerPreferences>;
const runs = { numRuns: 200, seed: 17 };

it('merging attributes drops nothing silently: each value kept is one of the two, each loser is named', () => {
  fc.assert(
    fc.property(attributes, attributes, (kept, merged) => {
      const { attrs, fromMerged, dropped } = mergeAttributes(kept, merged);
      for (const name of names) {
        const ours = kept[name];
        const theirs = merged[name];
        if (!ours && !theirs) {
          expect(attrs[name]).toBeUndefined();
          continue;
        }
        const result = attrs[name]!;
        expect([ours, theirs]).toContainEqual(result);
        if (ours && theirs && JSON.stringify(ours.value) !== JSON.stringify(theirs.value)) {
          // The customer's own word outranks an import; between equals the newer wins, a tie keeps ours.
          const rank = (v: typeof ours) => (v.source === 'customer' ? 1 : 0);
          const expected =
            rank(ours) !== rank(theirs)
              ? rank(theirs) > rank(ours)
                ? theirs
                : ours
              : Date.parse(theirs.updatedAt) > Date.parse(ours.updatedAt)
                ? theirs
                : ours;
          expect(result).toEqual(expected);
          const loser = expected === ours ? theirs : ours;
          expect(dropped).toContainEqual({
            name,
            of: expected === ours ? 'merged' : 'kept',
            source: loser.source,
            updatedAt: loser.updatedAt,
          });
        } else expect(dropped.some((d) => d.name === name)).toBe(false);
        expect(fromMerged.includes(name)).toBe(result === theirs && result !== ours);
      }
    }),
    runs,
  );
});

it('merging preferences keeps every exclusion and opt-in of either, each once', () => {
  const key = (c: string) => c.trim().toLowerCase();
  fc.assert(
    fc.property(preferences, preferences, (kept, merged) => {
      const out = mergePreferences(kept, merged);
      expect(new Set(out.excludedProducts)).toEqual(new Set([...kept.excludedProducts, ...merged.excludedProducts]));
      expect(out.excludedProducts.length).toBe(new Set(out.excludedProducts).size);
      for (const field of ['excludedCategories', 'sensitiveOptIns'] as const) {
        const wanted = new Set([...kept[field], ...merged[field]].map(key));
        expect(new Set(out[field].map(key))).toEqual(wanted);
        // Each of the kept person's spellings stays as it was.
        for (const c of kept[field]) expect(out[field]).toContain(c);
        // No duplicates across the two, beyond those the kept person already had.
        const extra = out[field].slice(kept[field].length).map(key);
        expect(extra.length).toBe(new Set(extra).size);
        for (const c of extra) expect(kept[field].map(key)).not.toContain(c);
      }
    }),
    runs,
  );
});

describeEachStore('a merge carries the whole person', (getStore) => {
  const t0 = new Date('2026-04-01T10:00:00Z');
  const at = (hours: number) => new Date(t0.getTime() + hours * 3_600_000);
  let clock = t0;

  async function person(t: Tactful, email: string, id: string) {
    for (const purpose of ['email_marketing', 'personalization'])
      await t.consent.record({
        subject: { email },
        purpose,
        state: 'granted',
        level: 'single',
        occurredAt: clock,
        source: { system: 'tactful', eventId: `${id}:${purpose}`, method: 'form' },
      });
  }

  it('attributes, exclusions, sensitive opt-ins and sends of both are the kept person’s', async () => {
    clock = t0;
    const t = await createTactful({ store: getStore(), shop: uniqueShop('merge-all'), now: () => clock });
    await t.settings.update({ sensitiveCategories: ['Health'] });
    await t.products.upsert([
      { id: 'tea', title: 'Green tea', category: 'Tea', available: true },
      { id: 'toy', title: 'Toy robot', category: 'Toys', available: true },
      { id: 'pills', title: 'Vitamins', category: 'Health', available: true },
    ]);
    await person(t, 'ann@home.example', 'home');
    await person(t, 'ann@work.example', 'work');
    await t.profiles.setAttributes('ann@home.example', { firstName: 'Ann', city: 'Lyon' }, 'shopify');
    await t.preferences.exclude('ann@home.example', { category: 'Toys' });
    await t.flows.set('post-purchase', { enabled: true });
    clock = at(1);
    // Her work profile: her own newer word on the city, a job title the home one lacks.
    await t.profiles.setAttributes('ann@work.example', { city: 'Paris', jobTitle: 'Chemist' }, 'customer');
    await t.orders.ingest(
      [
        {
          id: 'o-work',
          email: 'ann@work.example',
          createdAt: clock,
          updatedAt: clock,
          currency: 'EUR',
          totalPrice: '5.00',
          lines: [{ productId: 'tea', title: 'Green tea', quantity: 1 }],
        },
      ],
      'shopify',
    );
    await t.preferences.exclude('ann@work.example', { productId: 'tea' });
    await t.preferences.allowSensitive('ann@work.example', 'Health');
    await t.contact.recordSend('ann@home.example', { sentAt: at(1), campaign: 'c1' });
    await t.contact.recordSend('ann@work.example', { sentAt: at(1), campaign: 'c2' });

    clock = at(2);
    const merged = await t.profiles.merge('ann@home.example', 'ann@work.example');
    expect(merged.attributes.fromMerged).toEqual(['city', 'jobTitle']);
    expect(merged.attributes.dropped).toEqual([
      { name: 'city', of: 'kept', source: 'shopify', updatedAt: t0.toISOString() },
    ]);

    const shown = await t.profiles.show('ann@home.example');
    const attrs = shown.profile!.attributes as Record<string, { value: unknown; source: string }>;
    expect(attrs.firstName).toMatchObject({ value: 'Ann', source: 'shopify' });
    expect(attrs.city).toMatchObject({ value: 'Paris', source: 'customer' });
    expect(attrs.jobTitle).toMatchObject({ value: 'Chemist', source: 'customer' });

    const prefs = await t.preferences.show('ann@home.example');
    expect(JSON.stringify(prefs)).toContain('Toys');
    expect(JSON.stringify(prefs)).toContain('tea');
    expect(JSON.stringify(prefs)).toContain('Health');

    // The flow's step for her work order is hers now: she is mailed for it once, as the kept person.
    const home = (await t.consent.show('ann@home.example')).subjectId;
    const steps = await rawStore(t.store).query<{ subject_id: string }>(
      'SELECT subject_id FROM flow_steps WHERE shop_id = $1 AND order_id = $2',
      [t.shopId, 'o-work'],
    );
    expect(steps).toEqual([{ subject_id: home }]);

    // Two sends within the caps' window count for the one person now (default: 1 per 3 days).
    const decision = await t.contact.canContact('ann@home.example', at(3));
    expect(decision.ok).toBe(false);

    // The audit names the dropped attribute, never a value.
    let audit = '';
    for await (const chunk of t.audit.export('jsonl')) audit += chunk;
    const entry = audit.split('\n').find((l) => l.includes('"subject.merged"'))!;
    expect(entry).toContain('"dropped"');
    expect(entry).not.toMatch(/Lyon|Paris|Chemist/);
  });

  it('a merge that leaves no personalization consent keeps no profile of either', async () => {
    clock = t0;
    const t = await createTactful({ store: getStore(), shop: uniqueShop('merge-none'), now: () => clock });
    await person(t, 'bo@home.example', 'home');
    await person(t, 'bo@work.example', 'work');
    await t.profiles.setAttributes('bo@work.example', { city: 'Nantes' }, 'customer');
    clock = at(1);
    await t.consent.record({
      subject: { email: 'bo@work.example' },
      purpose: 'personalization',
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: clock,
      source: { system: 'tactful', eventId: 'work:off', method: 'form' },
    });
    clock = at(2);
    const merged = await t.profiles.merge('bo@home.example', 'bo@work.example');
    expect(merged.attributes).toEqual({ fromMerged: [], dropped: [] });
    expect((await t.profiles.show('bo@home.example')).profile).toBeNull();
  });
});
