import { PgDialect } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import { createTactful, engineInternals, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import { EMAIL, identifierIndex } from '../identity/identifiers.js';
import type { Store } from '../store/open.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { customerListSql, customerQuerySchema } from './customers.js';

const t0 = new Date('2026-03-01T12:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const admin = { type: 'admin' as const, id: 'dashboard' };

function event(email: string, purpose: string, state: string, id: string, minute: number) {
  return {
    subject: { email },
    purpose,
    state,
    level: 'single',
    occurredAt: at(minute),
    source: { system: 'shopify', eventId: id, method: state === 'granted' ? 'form' : 'admin' },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isTactfulError(error)) throw new Error(`expected a TactfulError, got ${String(error)}`);
  return error.code;
}

/** Seven people, one a minute: a0 (oldest) … a6 (newest); consent varies, a few buy. */
async function shop(store: Store, clock: { now: Date }): Promise<Tactful> {
  const t = await createTactful({ store, shop: uniqueShop('customers'), now: () => clock.now });
  for (let i = 0; i < 7; i++) {
    clock.now = at(i);
    await t.consent.record(
      event(`a${i}@example.com`, 'email_marketing', i % 3 === 0 ? 'withdrawn' : 'granted', `e${i}`, i),
    );
    if (i % 2 === 0) await t.consent.record(event(`a${i}@example.com`, 'personalization', 'granted', `p${i}`, i));
  }
  clock.now = at(10);
  await t.orders.ingest(
    [0, 2, 4].map((i) => ({
      id: `o${i}`,
      email: `a${i}@example.com`,
      createdAt: at(8),
      updatedAt: at(8),
      currency: 'EUR',
      totalPrice: `${10 * (i + 1)}.00`,
      lines: [{ productId: 'tea', title: 'Tea', quantity: 1, price: '10.00' }],
    })),
    'shopify',
  );
  return t;
}

describeEachStore('customer list', (getStore) => {
  it('search by email - finds the address through its blind index, an earlier address too, and no one else', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    const hit = await t.customers.list({ email: 'A3@Example.com' });
    expect(hit.rows.map((r) => r.email)).toEqual(['a3@example.com']);
    expect(hit.next).toBeNull();
    expect((await t.customers.list({ email: 'nobody@example.com' })).rows).toEqual([]);
    await t.profiles.changeEmail('a3@example.com', 'a3.new@example.com');
    expect((await t.customers.list({ email: 'a3@example.com' })).rows.map((r) => r.email)).toEqual([
      'a3.new@example.com',
    ]);
    expect(await codeOf(t.customers.list({ email: 'not an address' }))).toBe('INPUT.INVALID');
  });

  it('search by email - the query compares the blind-index columns, never an encrypted one', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    const { ctx, keys } = engineInternals(t);
    const shopKeys = await keys.shop(ctx.db, t.shopId);
    const indexOf = (email: string) => identifierIndex({ keys, shopKeys, shopId: t.shopId }, EMAIL, email);
    const query = new PgDialect().sqlToQuery(
      customerListSql({ shopId: t.shopId, indexOf }, customerQuerySchema.parse({ email: 'a3@example.com' }), null),
    );
    const where = query.sql.slice(query.sql.indexOf(' where '));
    expect(where).toMatch(/s\.email_index = \$\d+/);
    expect(where).toMatch(/i\.value_index = \$\d+/);
    expect(where).not.toMatch(/_enc/);
    expect(query.params).toContainEqual(indexOf('a3@example.com'));
    expect(query.params).not.toContain('a3@example.com');
  });

  it('filters - consent state per purpose, no decision, RFM label, saved segment; an unknown one is refused', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    const emails = async (query: Parameters<Tactful['customers']['list']>[0]) =>
      (await t.customers.list(query)).rows.map((r) => r.email).sort();
    expect(await emails({ consent: { email_marketing: 'withdrawn' } })).toEqual([
      'a0@example.com',
      'a3@example.com',
      'a6@example.com',
    ]);
    expect(await emails({ consent: { email_marketing: 'granted', personalization: 'granted' } })).toEqual([
      'a2@example.com',
      'a4@example.com',
    ]);
    expect(await emails({ consent: { personalization: 'none' } })).toEqual([
      'a1@example.com',
      'a3@example.com',
      'a5@example.com',
    ]);
    const labels = (await t.customers.list({})).rows.filter((r) => r.rfmLabel !== null);
    expect(labels.length).toBe(0); // not scored yet: the first RFM filter scores
    const scored = await t.customers.list({ rfmLabel: 'champions' });
    const all = await t.customers.list({});
    const champions = all.rows.filter((r) => r.rfmLabel === 'champions').map((r) => r.email);
    expect(scored.rows.map((r) => r.email)).toEqual(champions);
    expect(all.rows.filter((r) => r.rfmLabel !== null).length).toBe(3);
    await t.segments.save('buyers', { orderCount: { min: 1 } });
    expect(await emails({ segment: 'buyers' })).toEqual(['a0@example.com', 'a2@example.com', 'a4@example.com']);
    expect(await emails({ segment: 'buyers', consent: { email_marketing: 'withdrawn' } })).toEqual(['a0@example.com']);
    expect(await codeOf(t.customers.list({ segment: 'no such' }))).toBe('SEGMENT.NOT_FOUND');
    expect(await codeOf(t.customers.list({ rfmLabel: 'royalty' }))).toBe('INPUT.INVALID');
    expect(await codeOf(t.customers.list({ consent: { email_marketing: 'maybe' as 'granted' } }))).toBe(
      'INPUT.INVALID',
    );
  });

  it('paging - keyset pages, newest first, never repeat or skip anyone when people are added meanwhile', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    const first = await t.customers.list({ limit: 3 });
    expect(first.rows.map((r) => r.email)).toEqual(['a6@example.com', 'a5@example.com', 'a4@example.com']);
    // Someone new arrives between two pages: the next page goes on where the first stopped.
    clock.now = at(20);
    await t.consent.record(event('late@example.com', 'email_marketing', 'granted', 'late', 20));
    const second = await t.customers.list({ limit: 3, after: first.next! });
    expect(second.rows.map((r) => r.email)).toEqual(['a3@example.com', 'a2@example.com', 'a1@example.com']);
    const third = await t.customers.list({ limit: 3, after: second.next! });
    expect(third.rows.map((r) => r.email)).toEqual(['a0@example.com']);
    expect(third.next).toBeNull();
    expect(await codeOf(t.customers.list({ after: 'bm9wZQ' }))).toBe('INPUT.INVALID');
    expect(await codeOf(t.customers.list({ limit: 0 }))).toBe('INPUT.INVALID');
  });

  it('erased people are never listed', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    await t.privacy.erase('a5@example.com', { reason: 'customer request' });
    const all = await t.customers.list({});
    expect(all.rows.map((r) => r.email)).not.toContain('a5@example.com');
    expect(all.rows).toHaveLength(6);
  });

  it('a view is audited - who looked and when, in the audit log and in the person’s own export', async () => {
    const clock = { now: at(0) };
    const t = await shop(getStore(), clock);
    const subjectId = (await t.audit.subjectIdOf('a2@example.com'))!;
    clock.now = at(30);
    expect(await t.customers.viewed(subjectId, admin)).toBe(true);
    const { rows } = await t.audit.page({ subjectId, action: 'subject.viewed' }, { limit: 10, offset: 0 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorType: 'admin',
      actorId: 'dashboard',
      at: at(30),
      details: { view: 'customer page' },
    });
    const exported = await t.privacy.export('a2@example.com', admin);
    expect(exported.audit.filter((a) => a.action === 'subject.viewed')).toHaveLength(1);
    // Nobody is recorded as looked at when there is no one to look at.
    expect(await t.customers.viewed('00000000-0000-0000-0000-000000000000', admin)).toBe(false);
    await t.privacy.erase('a2@example.com', { reason: 'customer request' });
    expect(await t.customers.viewed(subjectId, admin)).toBe(false);
    const after = await t.audit.page({ action: 'subject.viewed' }, { limit: 10, offset: 0 });
    expect(after.total).toBe(1);
  });
});
