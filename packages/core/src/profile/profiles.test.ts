import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { ageAt } from './ages.js';
import { rawStore, rows } from '../store/open.js';
import { rfmRescoreStatements } from './rfm.js';
import { withHashJoins } from '../store/analyze.js';
import type { Db } from '../store/open.js';
import { sql, TransactionRollbackError } from 'drizzle-orm';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);

function grant(
  email: string,
  purpose: string,
  state: string,
  id: string,
  day: number,
  system = 'shopify',
  externalIds?: Record<string, string>,
) {
  return {
    subject: { email, ...(externalIds ? { externalIds } : {}) },
    purpose,
    state,
    level: 'single',
    occurredAt: at(day),
    source: { system, eventId: id, method: state === 'granted' ? 'form' : 'admin' },
  };
}

function order(id: string, email: string, products: string[], day: number, total: string): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: total,
    lines: products.map((p) => ({ productId: p, title: p.toUpperCase(), quantity: 2, price: '1.00' })),
  };
}

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTactfulError(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describeEachStore('profiles', (getStore) => {
  const engine = (now = () => at(30)) => createTactful({ store: getStore(), shop: uniqueShop('profiles'), now });

  it('consent gating - without personalization nothing beyond identity is stored', async () => {
    const t = await engine();
    await t.consent.record(grant('cy@example.com', 'email_marketing', 'granted', 'c1', 1));
    expect(await t.profiles.setAttributes('cy@example.com', { firstName: 'Cy' }, 'shopify')).toEqual({
      stored: false,
      reason: 'no-personalization-consent',
    });
    const view = await t.profiles.show('cy@example.com');
    expect(view).toMatchObject({ email: 'cy@example.com', personalization: 'not-granted', profile: null });
    expect(await rawStore(getStore()).query(`select 1 from profiles where shop_id = $1`, [t.shopId])).toHaveLength(0);
  });

  it('grant - the profile is built from the order history kept before, with summary, products and categories', async () => {
    const t = await engine();
    await t.products.upsert([
      { id: 'tea', title: 'Tea', category: 'drinks', available: true },
      { id: 'mug', title: 'Mug', category: 'kitchen', available: true },
    ]);
    await t.orders.ingest(
      [order('o1', 'dee@example.com', ['tea'], 1, '10.00'), order('o2', 'dee@example.com', ['tea', 'mug'], 5, '25.50')],
      'shopify',
    );
    await t.consent.record(grant('dee@example.com', 'personalization', 'granted', 'd1', 6));
    const view = await t.profiles.show('dee@example.com');
    expect(view.personalization).toBe('granted');
    expect(view.profile!.orders).toEqual({
      count: 2,
      revenue: 35.5,
      averageOrderValue: 17.75,
      firstOrderAt: at(1),
      lastOrderAt: at(5),
    });
    expect(view.profile!.products.map((p) => [p.productId, p.quantity])).toEqual([
      ['mug', 2],
      ['tea', 4],
    ]);
    expect(view.profile!.categories).toEqual([
      { category: 'drinks', quantity: 4 },
      { category: 'kitchen', quantity: 2 },
    ]);
    // A later order updates the summary in the order's own transaction.
    await t.orders.ingest([order('o3', 'dee@example.com', ['mug'], 7, '4.50')], 'shopify');
    expect((await t.profiles.show('dee@example.com')).profile!.orders).toMatchObject({
      count: 3,
      revenue: 40,
      lastOrderAt: at(7),
    });
  });

  it('grant in one batch - orders placed under addresses and ids before several people register are linked to each and summarised', async () => {
    const t = await engine();
    await t.orders.ingest(
      [
        order('a1', 'ann@example.com', ['tea'], 1, '10.00'),
        order('a2', 'ann@example.com', ['mug'], 3, '6.00'),
        { ...order('a3', 'ann@example.com', ['tea'], 4, '99.00'), cancelledAt: at(4) },
        // No address: only the platform's customer id names the buyer.
        { ...order('b1', '', ['mug'], 2, '7.00'), email: null, customerId: 'cust-bo' },
        order('d1', 'dot@example.com', ['tea'], 2, '3.00'),
        order('x1', 'xavier@example.com', ['tea'], 2, '1.00'),
      ],
      'shopify',
    );
    const outcomes = await t.consent.recordBatch([
      grant('ann@example.com', 'personalization', 'granted', 'g1', 5),
      grant('bo@example.com', 'personalization', 'granted', 'g2', 5, 'shopify', { shopify: 'cust-bo' }),
      grant('cy@example.com', 'personalization', 'granted', 'g3', 5),
      // Registered without personalization: the orders become hers all the same, and no profile exists.
      grant('dot@example.com', 'email_marketing', 'granted', 'g4', 5),
    ]);
    expect(outcomes).toHaveLength(4);
    expect((await t.profiles.show('ann@example.com')).profile!.orders).toEqual({
      count: 2,
      revenue: 16,
      averageOrderValue: 8,
      firstOrderAt: at(1),
      lastOrderAt: at(3),
    });
    expect((await t.profiles.show('bo@example.com')).profile!.orders).toMatchObject({
      count: 1,
      revenue: 7,
      firstOrderAt: at(2),
    });
    expect((await t.profiles.show('cy@example.com')).profile!.orders).toMatchObject({ count: 0, revenue: 0 });
    expect((await t.profiles.show('dot@example.com')).profile).toBeNull();
    const linked = await rawStore(getStore()).query<{ order_id: string; subject_id: string | null }>(
      `select order_id, subject_id from orders where shop_id = $1 order by order_id`,
      [t.shopId],
    );
    const subjectOf = async (email: string) => (await t.profiles.show(email)).subjectId;
    expect(linked).toEqual([
      { order_id: 'a1', subject_id: await subjectOf('ann@example.com') },
      { order_id: 'a2', subject_id: await subjectOf('ann@example.com') },
      { order_id: 'a3', subject_id: await subjectOf('ann@example.com') },
      { order_id: 'b1', subject_id: await subjectOf('bo@example.com') },
      { order_id: 'd1', subject_id: await subjectOf('dot@example.com') },
      // Nobody holds this address: its order stays under the address alone.
      { order_id: 'x1', subject_id: null },
    ]);
  });

  it('withdrawal - purges the profile in the same transaction and audits it; a fresh grant rebuilds it from orders only', async () => {
    const t = await engine();
    await t.orders.ingest([order('o1', 'eve@example.com', ['tea'], 1, '10.00')], 'shopify');
    await t.consent.record(grant('eve@example.com', 'personalization', 'granted', 'e1', 2));
    const set = await t.profiles.setAttributes(
      'eve@example.com',
      { firstName: 'Eve', birthDate: '1990-06-15', country: 'fr', interests: ['Yoga'] },
      'form',
    );
    expect(set).toEqual({ stored: true, changed: ['firstName', 'birthDate', 'country', 'interests'] });
    const before = await t.profiles.show('eve@example.com');
    expect(before.profile!.attributes.firstName).toEqual({
      value: 'Eve',
      source: 'form',
      updatedAt: at(30).toISOString(),
    });
    expect(before.profile!.attributes.country!.value).toBe('FR');
    expect(before.profile!.age).toBe(35);

    await t.consent.record(grant('eve@example.com', 'personalization', 'withdrawn', 'e2', 3));
    expect((await t.profiles.show('eve@example.com')).profile).toBeNull();
    const store = getStore();
    expect(await rawStore(store).query(`select 1 from profiles where shop_id = $1`, [t.shopId])).toHaveLength(0);
    const purged = await rawStore(store).query<{ details: Record<string, unknown> }>(
      `select details from audit_log where shop_id = $1 and action = 'profile.purged'`,
      [t.shopId],
    );
    expect(purged).toHaveLength(1);
    expect(JSON.stringify(purged)).not.toContain('Eve');
    // The ledger keeps the proof of both decisions.
    expect((await t.consent.history('eve@example.com')).events.map((e) => e.state)).toEqual(['granted', 'withdrawn']);
    // Attributes cannot be set while withdrawn.
    expect((await t.profiles.setAttributes('eve@example.com', { firstName: 'Eve' }, 'form')).stored).toBe(false);

    await t.consent.record(grant('eve@example.com', 'personalization', 'granted', 'e3', 4));
    const rebuilt = await t.profiles.show('eve@example.com');
    expect(rebuilt.profile!.attributes).toEqual({});
    expect(rebuilt.profile!.orders.count).toBe(1);
  });

  it('identity - the same email from two systems is one profile; an email change keeps it', async () => {
    const t = await engine();
    await t.consent.record(
      grant('Fay@Example.com', 'personalization', 'granted', 'f1', 1, 'shopify', {
        shopify: 'gid://shopify/Customer/1',
      }),
    );
    await t.consent.record(
      grant('fay@example.com ', 'email_marketing', 'granted', 'f2', 2, 'mailchimp', { mailchimp: 'abc123' }),
    );
    await t.profiles.setAttributes('fay@example.com', { lastName: 'Fairfax' }, 'shopify');
    const view = await t.profiles.show('fay@example.com');
    expect(view.externalIds).toEqual({ shopify: 'gid://shopify/Customer/1', mailchimp: 'abc123' });
    expect(await rawStore(getStore()).query(`select 1 from subjects where shop_id = $1`, [t.shopId])).toHaveLength(1);

    await t.profiles.changeEmail('fay@example.com', 'fay.fairfax@example.org');
    await expectCode(t.profiles.show('fay@example.com'), 'SUBJECT.NOT_FOUND');
    const moved = await t.profiles.show('FAY.fairfax@example.org');
    expect(moved.subjectId).toBe(view.subjectId);
    expect(moved.email).toBe('fay.fairfax@example.org');
    expect(moved.profile!.attributes.lastName!.value).toBe('Fairfax');
    // Orders under the new address join the same profile.
    await t.orders.ingest([order('o9', 'fay.fairfax@example.org', ['tea'], 3, '9.00')], 'shopify');
    expect((await t.profiles.show('fay.fairfax@example.org')).profile!.orders.count).toBe(1);
    // Changing to an address of another customer is refused.
    await t.consent.record(grant('gus@example.com', 'email_marketing', 'granted', 'g1', 1));
    await expectCode(t.profiles.changeEmail('fay.fairfax@example.org', 'gus@example.com'), 'PROFILE.CONFLICT');
  });

  it('rfm - quintile scores per shop and labels', async () => {
    const t = await engine();
    // Ten customers: c0 bought once long ago for little, c9 often, recently, for much.
    const orders: OrderRecord[] = [];
    const events = [];
    for (let i = 0; i < 10; i++) {
      const email = `c${i}@example.com`;
      events.push(grant(email, 'personalization', 'granted', `g${i}`, 0));
      for (let k = 0; k <= i; k++)
        orders.push(order(`o${i}-${k}`, email, ['tea'], i * 2 + 1 - k * 0.01, `${(i + 1) * 10}.00`));
    }
    await t.consent.recordBatch(events);
    await t.orders.ingest(orders, 'shopify');
    const report = await t.segments.rfm();
    expect(report.customers).toBe(10);
    const c9 = (await t.profiles.show('c9@example.com')).profile!.rfm;
    const c0 = (await t.profiles.show('c0@example.com')).profile!.rfm;
    expect(c9).toEqual({ recency: 5, frequency: 5, monetary: 5, label: 'champions' });
    expect(c0).toEqual({ recency: 1, frequency: 1, monetary: 1, label: 'lost' });
    const scores = [];
    for (let i = 0; i < 10; i++) scores.push((await t.profiles.show(`c${i}@example.com`)).profile!.rfm!.recency);
    expect(scores).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(report.labels.reduce((s, l) => s + l.customers, 0)).toBe(10);
  });

  /** Runs `work` in a transaction of the store that is rolled back at the end. */
  const rolledBack = (work: (tx: Db) => Promise<void>) =>
    rawStore(getStore())
      .db.transaction(async (tx) => {
        await work(tx);
        tx.rollback();
      })
      .catch((error: unknown) => {
        if (!(error instanceof TransactionRollbackError)) throw error;
      });

  it('rfm - a new shop is scored in one pass over its profiles, whatever the statistics say', async () => {
    const shop = uniqueShop('rfm');
    const t = await createTactful({ store: getStore(), shop, now: () => at(30) });
    const customers = 300;
    const events = [];
    const orders: OrderRecord[] = [];
    for (let i = 0; i < customers; i++) {
      const email = `r${i}@example.com`;
      events.push(grant(email, 'personalization', 'granted', `rg${i}`, 0));
      for (let k = 0; k <= i % 4; k++)
        orders.push(order(`ro${i}-${k}`, email, ['tea'], 1 + ((i * 7 + k) % 20), `${i % 50}.00`));
    }
    await t.consent.recordBatch(events);
    await t.orders.ingest(orders, 'shopify');
    // The plan of the statements `rescoreProfiles` runs, executed: each node once. A nested loop ran the window
    // functions again for every profile (loops = the shop's size) when the planner took the shop for one row.
    const loops: Array<{ node: string; loops: number }> = [];
    const visit = (node: Record<string, unknown>) => {
      loops.push({ node: String(node['Node Type']), loops: Number(node['Actual Loops']) });
      for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) visit(child);
    };
    // Rolled back: EXPLAIN ANALYZE runs the update.
    await rolledBack(async (tx) => {
      const { score } = rfmRescoreStatements(shop);
      const [row] = await withHashJoins(tx, () =>
        rows<{ 'QUERY PLAN': string | Array<{ Plan: Record<string, unknown> }> }>(
          tx,
          sql`explain (analyze, format json) ${score}`,
        ),
      );
      const plan = row!['QUERY PLAN'];
      visit((typeof plan === 'string' ? JSON.parse(plan) : plan)[0]!.Plan);
    });
    expect(loops.length).toBeGreaterThan(3);
    expect(loops.filter((n) => n.loops > 1)).toEqual([]);
    const report = await t.segments.rfm();
    expect(report.customers).toBe(customers);
  });

  it('rfm - the hash joins of the rescore end with it: a transaction it runs inside plans as before', async () => {
    const setting = async (db: Db) =>
      (await rows<{ s: string }>(db, sql`select current_setting('enable_nestloop') as s`))[0]!.s;
    await rolledBack(async (outer) => {
      expect(await setting(outer)).toBe('on');
      // rescoreProfiles' own transaction is a savepoint of the caller's: a SET LOCAL would outlive it.
      await outer.transaction(async (inner) => {
        await withHashJoins(inner, async () => expect(await setting(inner)).toBe('off'));
      });
      expect(await setting(outer)).toBe('on');
    });
  });

  it('age - whole years from the birth date, recomputed once a birthday passes', async () => {
    expect(ageAt('2000-03-02', new Date('2026-03-01T12:00:00Z'))).toEqual({
      age: 25,
      validUntil: new Date('2026-03-02T00:00:00Z'),
    });
    expect(ageAt('2000-03-01', new Date('2026-03-01T12:00:00Z')).age).toBe(26);
    let now = at(0);
    const t = await engine(() => now);
    await t.consent.record(grant('hal@example.com', 'personalization', 'granted', 'h1', 0));
    await t.profiles.setAttributes('hal@example.com', { birthDate: '2000-03-05' }, 'form');
    expect((await t.profiles.show('hal@example.com')).profile!.age).toBe(25);
    now = at(5);
    expect((await t.profiles.show('hal@example.com')).profile!.age).toBe(26);
  });

  it('customers from a platform - names and location are stored only for consenting, known customers', async () => {
    const t = await engine();
    await t.consent.record(grant('kim@example.com', 'personalization', 'granted', 'k1', 0));
    await t.consent.record(grant('lou@example.com', 'email_marketing', 'granted', 'l1', 0));
    const out = await t.profiles.ingestCustomers(
      [
        {
          id: '1',
          email: 'KIM@example.com',
          firstName: 'Kim',
          lastName: 'Kay',
          country: 'de',
          city: 'Köln',
          updatedAt: at(1),
        },
        { id: '2', email: 'lou@example.com', firstName: 'Lou', updatedAt: at(1) },
        { id: '3', email: 'stranger@example.com', firstName: 'Sam', updatedAt: at(1) },
        { id: '4', email: null, firstName: 'Nobody', updatedAt: at(1) },
      ],
      'shopify',
    );
    expect(out).toEqual({ stored: 1, skipped: 3 });
    const kim = (await t.profiles.show('kim@example.com')).profile!;
    expect(kim.attributes).toMatchObject({
      firstName: { value: 'Kim', source: 'shopify' },
      country: { value: 'DE' },
      city: { value: 'Köln' },
    });
    expect((await t.segments.members({ location: { city: 'KÖLN' } })).length).toBe(1);
    expect((await t.profiles.show('lou@example.com')).profile).toBeNull();
  });

  it('bad input - invalid attributes and unknown emails are refused and change nothing', async () => {
    const t = await engine();
    await t.consent.record(grant('ivy@example.com', 'personalization', 'granted', 'i1', 0));
    await expectCode(
      t.profiles.setAttributes('ivy@example.com', { birthDate: '1990-13-45' }, 'form'),
      'PROFILE.INVALID',
    );
    await expectCode(t.profiles.setAttributes('ivy@example.com', { country: 'France' }, 'form'), 'PROFILE.INVALID');
    await expectCode(
      t.profiles.setAttributes('ivy@example.com', { timeZone: 'Mars/Olympus' }, 'form'),
      'PROFILE.INVALID',
    );
    await expectCode(t.profiles.setAttributes('ivy@example.com', { shoeSize: 42 }, 'form'), 'PROFILE.INVALID');
    await expectCode(t.profiles.setAttributes('nobody@example.com', { firstName: 'X' }, 'form'), 'SUBJECT.NOT_FOUND');
    await expectCode(t.profiles.show('nobody@example.com'), 'SUBJECT.NOT_FOUND');
    expect((await t.profiles.show('ivy@example.com')).profile!.attributes).toEqual({});
  });
});
