import { expect, it } from 'vitest';
import { engineInternals } from '../engine.js';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { claimDue } from '../sync/outbox.js';
import type { Store } from '../store/open.js';
import { rawStore } from '../store/open.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const EMAIL = 'gift@example.com';

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTactfulError(error), `expected ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

function order(id: string, email: string, products: string[], day: number): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: '10.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1 })),
  };
}

/**
 * A shop where each product has a clear co-purchase partner: tea→teapot, toy→batteries (the toy was a gift),
 * pills→vitamins (health is sensitive), plus a popular bread. The customer bought tea, toy and pills.
 */
async function shop(getStore: () => Store): Promise<Tactful> {
  const t = await createTactful({ store: getStore(), shop: uniqueShop('shaping'), now: () => at(60) });
  await t.products.upsert([
    { id: 'tea', title: 'Green tea', category: 'Tea', available: true },
    { id: 'teapot', title: 'Teapot', category: 'Tea', available: true },
    { id: 'toy', title: 'Toy robot', category: 'Toys', available: true },
    { id: 'batteries', title: 'Batteries', category: 'Toys', available: true },
    { id: 'pills', title: 'Sleeping pills', category: 'Health', available: true },
    { id: 'vitamins', title: 'Vitamins', category: 'Health', available: true },
    { id: 'bread', title: 'Bread', category: 'Bakery', available: true },
    { id: 'cake', title: 'Cake', category: 'Bakery', available: true },
  ]);
  const orders: OrderRecord[] = [];
  let n = 0;
  for (const pair of [
    ['tea', 'teapot'],
    ['toy', 'batteries'],
    ['pills', 'vitamins'],
  ]) {
    for (let i = 0; i < 12; i++)
      orders.push(
        order(`o${n++}`, `other${n}@example.com`, [...pair, ...(i % 3 === 0 ? ['bread'] : [])], 1 + (n % 20)),
      );
  }
  for (let i = 0; i < 20; i++) orders.push(order(`o${n++}`, `other${n}@example.com`, ['bread'], 1 + (n % 20)));
  for (let i = 0; i < 6; i++) orders.push(order(`o${n++}`, `other${n}@example.com`, ['cake'], 1 + (n % 20)));
  orders.push(order('mine-1', EMAIL, ['tea', 'toy', 'pills'], 40));
  await t.orders.ingest(orders, 'shopify');
  for (const purpose of ['personalization', 'email_marketing']) {
    await t.consent.record({
      subject: { email: EMAIL },
      purpose,
      state: 'granted',
      level: 'single',
      occurredAt: at(41),
      source: { system: 'tactful', eventId: `g-${purpose}`, method: 'form' },
    });
  }
  return t;
}

const becauses = async (t: Tactful, email = EMAIL) => {
  const { recommendations } = await t.recommend.forCustomer(email, { k: 8 });
  return {
    ids: recommendations.map((r) => r.productId),
    because: new Set(
      recommendations.flatMap((r) => r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : []))),
    ),
    categories: new Set(
      recommendations.flatMap((r) => r.reasons.flatMap((x) => ('category' in x ? [x.category] : []))),
    ),
    recommendations,
  };
};

const customerActor = { type: 'customer' as const, id: 'preference-centre' };

describeEachStore('customer shaping', (getStore) => {
  it('the preference centre lists the catalogue as it is now: categories added or gone, by this engine or another', async () => {
    const t = await shop(getStore);
    const listed = async (engine: Tactful) => (await engine.preferences.show(EMAIL)).categories.map((c) => c.category);
    expect(await listed(t)).toEqual(['Bakery', 'Health', 'Tea', 'Toys']);
    // The categories are kept in memory between pages: a second look reads the same list.
    expect(await listed(t)).toEqual(['Bakery', 'Health', 'Tea', 'Toys']);
    await t.products.upsert([{ id: 'mug', title: 'Mug', category: 'Kitchen', available: true }]);
    expect(await listed(t)).toEqual(['Bakery', 'Health', 'Kitchen', 'Tea', 'Toys']);
    // Another engine on the same store (another instance, a webhook) moves the cake to Kitchen: Bakery keeps the
    // bread, and the first engine sees the change on its next page.
    const other = await createTactful({ store: getStore(), shop: t.shopId, now: () => at(60) });
    await other.products.upsert([
      { id: 'bread', title: 'Bread', category: 'Kitchen', available: true },
      { id: 'cake', title: 'Cake', category: 'Kitchen', available: true },
    ]);
    expect(await listed(t)).toEqual(['Health', 'Kitchen', 'Tea', 'Toys']);
  });

  it('rectification - stored with source customer, outranks a later import, audited by field name, queued for every connected system', async () => {
    const t = await shop(getStore);
    await t.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    await t.profiles.ingestCustomers(
      [{ id: '77', email: EMAIL, firstName: 'Gif', lastName: 'Wrong', updatedAt: at(42) }],
      'shopify',
    );
    const update = await t.profiles.rectify(
      EMAIL,
      {
        firstName: 'Gift',
        lastName: 'Giver',
        jobTitle: 'Baker',
        gender: 'female',
        birthDate: '1990-04-02',
        city: 'Ghent',
      },
      customerActor,
    );
    expect(update).toMatchObject({
      stored: true,
      changed: expect.arrayContaining(['firstName', 'lastName', 'jobTitle', 'gender', 'birthDate', 'city']),
    });
    // A later sync from the platform does not overwrite what the customer said.
    const again = await t.profiles.ingestCustomers(
      [{ id: '77', email: EMAIL, firstName: 'Gif', lastName: 'Wrong', city: 'Brussels', updatedAt: at(43) }],
      'shopify',
    );
    expect(again.stored).toBe(1);
    const attrs = (await t.profiles.show(EMAIL)).profile!.attributes;
    expect(attrs.firstName).toMatchObject({ value: 'Gift', source: 'customer' });
    expect(attrs.lastName).toMatchObject({ value: 'Giver', source: 'customer' });
    expect(attrs.city).toMatchObject({ value: 'Ghent', source: 'customer' });
    // Segments read the customer's values.
    expect((await t.segments.members({ attribute: { name: 'firstName', eq: 'Gift' } })).length).toBe(1);
    expect((await t.segments.members({ attribute: { name: 'firstName', eq: 'Gif' } })).length).toBe(0);
    const audit = (await collect(t.audit.export('jsonl', { subjectId: (await t.audit.subjectIdOf(EMAIL))! }))).map(
      (l) => JSON.parse(l) as { action: string; actor: { type: string }; details: Record<string, unknown> },
    );
    const corrections = audit.filter((a) => a.action === 'profile.changed' && a.details.source === 'customer');
    expect(corrections).toHaveLength(1);
    expect(corrections[0]!.actor.type).toBe('customer');
    expect(JSON.stringify(corrections[0]!.details)).not.toContain('Giver');
    expect(await t.profiles.setAttributes(EMAIL, { firstName: 'Gif', country: 'BE' }, 'shopify')).toEqual({
      stored: true,
      changed: ['country'],
      kept: ['firstName'],
    });
    // The names go out to both systems, once each.
    const due = (
      await claimDue(rawStore(t.store).db, engineInternals(t).keys, {
        limit: 100,
        now: at(61),
        leaseMs: 1000,
        shopId: t.shopId,
      })
    ).filter((i) => i.kind === 'profile.push');
    expect(due.map((i) => i.target).sort()).toEqual(['mailchimp', 'shopify']);
    expect(due[0]!.payload).toMatchObject({
      email: EMAIL,
      fields: { firstName: 'Gift', lastName: 'Giver' },
      inAudience: true,
    });
  });

  it('rectification - bad input is refused whole and changes nothing; without personalization nothing is stored', async () => {
    const t = await shop(getStore);
    await expectCode(
      t.profiles.rectify(EMAIL, { firstName: 'Ok', birthDate: '1990-13-45' }, customerActor),
      'PROFILE.INVALID',
    );
    await expectCode(t.profiles.rectify(EMAIL, { birthDate: '1990-02-31' }, customerActor), 'PROFILE.INVALID');
    await expectCode(t.profiles.rectify(EMAIL, { birthDate: '2999-01-01' }, customerActor), 'PROFILE.INVALID');
    await expectCode(t.profiles.rectify(EMAIL, { interests: ['Tea', 'Astrology'] }, customerActor), 'PROFILE.INVALID');
    await expectCode(t.profiles.rectify(EMAIL, { favouriteColour: 'red' }, customerActor), 'PROFILE.INVALID');
    expect((await t.profiles.show(EMAIL)).profile!.attributes).toEqual({});
    await t.consent.record({
      subject: { email: 'nope@example.com' },
      purpose: 'email_marketing',
      state: 'granted',
      level: 'single',
      occurredAt: at(41),
      source: { system: 'tactful', eventId: 'n1', method: 'form' },
    });
    expect(await t.profiles.rectify('nope@example.com', { firstName: 'No' }, customerActor)).toEqual({
      stored: false,
      reason: 'no-personalization-consent',
    });
  });

  it('declared interests - a thin history gets popular products of the declared category, and the reason says so', async () => {
    const t = await shop(getStore);
    const thin = 'thin@example.com';
    await t.orders.ingest([order('thin-1', thin, ['cake'], 45)], 'shopify');
    await t.consent.record({
      subject: { email: thin },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: at(46),
      source: { system: 'tactful', eventId: 'thin-p', method: 'form' },
    });
    const before = await becauses(t, thin);
    expect(before.recommendations.some((r) => r.source === 'declared-interest')).toBe(false);
    await t.profiles.rectify(thin, { interests: ['tea'] }, customerActor);
    const { recommendations } = await t.recommend.forCustomer(thin, { k: 3 });
    expect(recommendations[0]).toMatchObject({ source: 'declared-interest', product: { category: 'Tea' } });
    expect(recommendations[0]!.reasons).toEqual([
      expect.objectContaining({ kind: 'declared-interest', category: 'Tea' }),
    ]);
    // Imported interests are not declarations: they never read "you told us".
    const imported = 'imported@example.com';
    await t.orders.ingest([order('imp-1', imported, ['cake'], 45)], 'shopify');
    await t.consent.record({
      subject: { email: imported },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: at(46),
      source: { system: 'tactful', eventId: 'imp-p', method: 'form' },
    });
    await t.profiles.setAttributes(imported, { interests: ['tea'] }, 'import');
    expect((await becauses(t, imported)).recommendations.some((r) => r.source === 'declared-interest')).toBe(false);
  });

  it('not this - an excluded purchase is never a basis nor recommended; undo brings it back; the export bundle lists it', async () => {
    const t = await shop(getStore);
    const before = await becauses(t);
    expect(before.because.has('toy')).toBe(true);
    expect(before.ids).toContain('batteries');
    expect(await t.preferences.exclude(EMAIL, { productId: 'toy' }, {}, customerActor)).toMatchObject({
      changed: true,
      preferences: { excludedProducts: ['toy'] },
    });
    const after = await becauses(t);
    expect(after.because.has('toy')).toBe(false);
    expect(after.ids).not.toContain('toy');
    expect(after.because.has('tea')).toBe(true);
    const bundle = await t.privacy.export(EMAIL, customerActor);
    expect(bundle.profile?.preferences.excludedProducts).toEqual(['toy']);
    expect((await t.preferences.show(EMAIL)).purchases.find((p) => p.productId === 'toy')).toMatchObject({
      excluded: true,
    });
    expect(await t.preferences.exclude(EMAIL, { productId: 'toy' }, { undo: true }, customerActor)).toMatchObject({
      changed: true,
      preferences: { excludedProducts: [] },
    });
    expect((await becauses(t)).because.has('toy')).toBe(true);
  });

  it('not this - a whole category: none of its purchases is a basis, none of its products is offered, undoable', async () => {
    const t = await shop(getStore);
    await t.preferences.exclude(EMAIL, { category: 'tea' }, {}, customerActor);
    const after = await becauses(t);
    expect(after.because.has('tea')).toBe(false);
    expect(after.recommendations.every((r) => r.product.category !== 'Tea')).toBe(true);
    expect((await t.preferences.show(EMAIL)).preferences.excludedCategories).toEqual(['Tea']);
    await t.preferences.exclude(EMAIL, { category: 'TEA' }, { undo: true }, customerActor);
    expect((await becauses(t)).because.has('tea')).toBe(true);
  });

  it('not this - bad input is refused with a clear code and changes nothing', async () => {
    const t = await shop(getStore);
    await expectCode(
      t.preferences.exclude(EMAIL, { productId: 'bread' }, {}, customerActor),
      'PREFERENCES.UNKNOWN_PURCHASE',
    );
    await expectCode(
      t.preferences.exclude(EMAIL, { productId: 'tea' }, { undo: true }, customerActor),
      'PREFERENCES.NOT_FOUND',
    );
    await expectCode(
      t.preferences.exclude(EMAIL, { category: 'Astrology' }, {}, customerActor),
      'PREFERENCES.UNKNOWN_CATEGORY',
    );
    await expectCode(
      t.preferences.exclude('nobody@example.com', { category: 'Tea' }, {}, customerActor),
      'SUBJECT.NOT_FOUND',
    );
    await t.consent.record({
      subject: { email: EMAIL },
      purpose: 'personalization',
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: at(50),
      source: { system: 'tactful', eventId: 'w', method: 'form' },
    });
    await expectCode(t.preferences.exclude(EMAIL, { category: 'Tea' }, {}, customerActor), 'PREFERENCES.NO_PROFILE');
    const audit = (await collect(t.audit.export('jsonl', { subjectId: (await t.audit.subjectIdOf(EMAIL))! }))).map(
      (l) => JSON.parse(l) as { details: Record<string, unknown> },
    );
    expect(audit.some((a) => 'preferences' in a.details)).toBe(false);
  });

  it('sensitive categories - purchases in them are never used unless the customer opted in to exactly that category', async () => {
    const t = await shop(getStore);
    expect((await becauses(t)).because.has('pills')).toBe(true);
    await t.settings.update({ sensitiveCategories: ['health'] });
    const blocked = await becauses(t);
    expect(blocked.because.has('pills')).toBe(false);
    expect(blocked.ids).not.toContain('vitamins');
    await expectCode(
      t.preferences.allowSensitive(EMAIL, 'Tea', {}, customerActor),
      'PREFERENCES.UNKNOWN_SENSITIVE_CATEGORY',
    );
    await t.preferences.allowSensitive(EMAIL, 'Health', {}, customerActor);
    const allowed = await becauses(t);
    expect(allowed.because.has('pills')).toBe(true);
    expect(allowed.ids).toContain('vitamins');
    // An opt-in to one sensitive category opens only that one.
    await t.settings.update({ sensitiveCategories: ['health', 'toys'] });
    const one = await becauses(t);
    expect(one.because.has('pills')).toBe(true);
    expect(one.because.has('toy')).toBe(false);
    // Declared interest in a sensitive category is not an opt-in either.
    await t.preferences.allowSensitive(EMAIL, 'Health', { undo: true }, customerActor);
    await t.profiles.rectify(EMAIL, { interests: ['health'] }, customerActor);
    const declared = await becauses(t);
    expect(declared.because.has('pills')).toBe(false);
    expect([...declared.categories].map((c) => c.toLowerCase())).not.toContain('health');
  });
});

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}
