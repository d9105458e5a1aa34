import { describe, expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { rfmLabels } from '../profile/rfm.js';
import { ageAt } from '../profile/ages.js';
import { seededRandom } from '../random.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { parseSegment, parseSegmentJson, type Segment } from './language.js';

const now = new Date('2026-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

interface Person {
  email: string;
  personalization: boolean;
  marketing: 'granted' | 'withdrawn' | 'none';
  attrs: {
    firstName: string;
    gender: string;
    birthDate: string;
    country: string;
    region: string;
    city: string;
    interests: string[];
    jobTitle?: string;
  };
  orders: Array<{ id: string; products: string[]; daysAgo: number; total: number }>;
}

const categoryOf: Record<string, string> = {
  tea: 'drinks',
  coffee: 'drinks',
  mug: 'kitchen',
  kettle: 'kitchen',
  honey: 'food',
  jam: 'food',
};
const productIds = Object.keys(categoryOf);

/** A deterministic shop of `n` people with varied attributes, consent and orders. */
function generate(n: number, seed = 7): Person[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const places = [
    ['FR', 'Île-de-France', 'Paris'],
    ['FR', 'Occitanie', 'Toulouse'],
    ['BE', 'Brussels', 'Ixelles'],
    ['DE', 'Berlin', 'Berlin'],
  ] as const;
  const people: Person[] = [];
  for (let i = 0; i < n; i++) {
    const [country, region, city] = pick(places);
    const orders = [];
    const count = Math.floor(rnd() * 5);
    for (let k = 0; k < count; k++) {
      const products = [...new Set([pick(productIds), pick(productIds)])];
      orders.push({
        id: `o${i}-${k}`,
        products,
        daysAgo: Math.floor(rnd() * 400),
        total: Math.round(rnd() * 20000) / 100 + 1,
      });
    }
    people.push({
      email: `p${String(i).padStart(3, '0')}@example.com`,
      personalization: rnd() < 0.85,
      marketing: pick(['granted', 'withdrawn', 'none'] as const),
      attrs: {
        firstName: pick(['Ana', 'Ben', 'Chloé', 'Dan']),
        gender: pick(['female', 'male', 'non-binary']),
        birthDate: `${1950 + Math.floor(rnd() * 55)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`,
        country,
        region,
        city,
        interests: [...new Set([pick(['yoga', 'tea', 'baking', 'hiking']), pick(['yoga', 'tea', 'baking', 'hiking'])])],
        ...(rnd() < 0.5 ? { jobTitle: pick(['Chef', 'Nurse']) } : {}),
      },
      orders,
    });
  }
  return people;
}

async function load(t: Tactful, people: Person[]) {
  await t.products.upsert(productIds.map((id) => ({ id, title: id, category: categoryOf[id]!, available: true })));
  const events = [];
  for (const p of people) {
    if (p.personalization)
      events.push({
        subject: { email: p.email },
        purpose: 'personalization',
        state: 'granted',
        level: 'single',
        occurredAt: daysAgo(500),
        source: { system: 'shopify', eventId: `${p.email}:p`, method: 'form' },
      });
    if (p.marketing !== 'none')
      events.push({
        subject: { email: p.email },
        purpose: 'email_marketing',
        state: p.marketing,
        level: 'single',
        occurredAt: daysAgo(450),
        source: { system: 'shopify', eventId: `${p.email}:m`, method: 'form' },
      });
  }
  await t.consent.recordBatch(events);
  const orders: OrderRecord[] = people.flatMap((p) =>
    p.orders.map((o) => ({
      id: o.id,
      email: p.email,
      createdAt: daysAgo(o.daysAgo),
      updatedAt: daysAgo(o.daysAgo),
      totalPrice: o.total.toFixed(2),
      lines: o.products.map((productId) => ({ productId, title: productId, quantity: 1 })),
    })),
  );
  await t.orders.ingest(orders, 'shopify');
  for (const p of people) if (p.personalization) await t.profiles.setAttributes(p.email, p.attrs, 'shopify');
}

/** The oracle: the same rules written plainly over the generated data, in memory. */
function rfmOf(people: Person[]) {
  const buyers = people.filter((p) => p.personalization && p.orders.length > 0);
  const last = (p: Person) => Math.min(...p.orders.map((o) => o.daysAgo));
  const revenue = (p: Person) => Math.round(p.orders.reduce((s, o) => s + o.total, 0) * 100) / 100;
  const score = (value: (p: Person) => number) => (p: Person) => {
    const v = value(p);
    const rank = 1 + buyers.filter((q) => value(q) < v).length;
    return Math.min(5, 1 + Math.floor((5 * (rank - 1)) / buyers.length));
  };
  const r = score((p) => -last(p));
  const f = score((p) => p.orders.length);
  const m = score(revenue);
  const out = new Map<string, { r: number; f: number; m: number; label: string }>();
  for (const p of buyers) {
    const R = r(p);
    const FM = Math.round((f(p) + m(p)) / 2 + 1e-9);
    const label = rfmLabels.find((l) =>
      new Function('r', 'fm', `return ${l.sql.replace(/ and /g, ' && ').replace(/ = /g, ' === ')}`)(R, FM),
    )!.label;
    out.set(p.email, { r: R, f: f(p), m: m(p), label });
  }
  return { out, revenue };
}

function oracle(people: Person[], segment: Segment): string[] {
  const { out: rfm, revenue } = rfmOf(people);
  const age = (p: Person) => ageAt(p.attrs.birthDate, now).age;
  const test = (s: Segment, p: Person): boolean => {
    if ('all' in s) return s.all.every((x) => test(x, p));
    if ('any' in s) return s.any.some((x) => test(x, p));
    if ('not' in s) return !test(s.not, p);
    if ('attribute' in s) {
      const a = s.attribute;
      const v = a.name === 'age' ? age(p) : (p.attrs as unknown as Record<string, string | undefined>)[a.name];
      if (a.exists !== undefined) return (v !== undefined) === a.exists;
      if (a.between) return typeof v === 'number' && v >= a.between[0] && v <= a.between[1];
      const values = (a.eq !== undefined ? [a.eq] : a.in!).map((x) => String(x).toLowerCase());
      return v !== undefined && values.includes(String(v).toLowerCase());
    }
    if ('ageBand' in s) {
      const bands = Array.isArray(s.ageBand) ? s.ageBand : [s.ageBand];
      const a = age(p);
      return bands.some((b) =>
        b === '65+' ? a >= 65 : b === '<18' ? a < 18 : a >= Number(b.slice(0, 2)) && a <= Number(b.slice(3, 5)),
      );
    }
    if ('location' in s) {
      const l = s.location;
      const list = (x: string | string[] | undefined) =>
        x === undefined ? null : (Array.isArray(x) ? x : [x]).map((y) => y.toLowerCase());
      const c = list(l.country);
      const r = list(l.region);
      const ci = list(l.city);
      return (
        (!c || c.includes(p.attrs.country.toLowerCase())) &&
        (!r || r.includes(p.attrs.region.toLowerCase())) &&
        (!ci || ci.includes(p.attrs.city.toLowerCase()))
      );
    }
    if ('interests' in s)
      return s.interests.allOf
        ? s.interests.allOf.every((i) => p.attrs.interests.includes(i))
        : s.interests.anyOf!.some((i) => p.attrs.interests.includes(i));
    if ('purchased' in s) {
      const b = s.purchased;
      const prods = b.product === undefined ? null : Array.isArray(b.product) ? b.product : [b.product];
      const cats = b.category === undefined ? null : Array.isArray(b.category) ? b.category : [b.category];
      return p.orders.some(
        (o) =>
          (b.withinDays === undefined || o.daysAgo <= b.withinDays) &&
          o.products.some((x) => (!prods || prods.includes(x)) && (!cats || cats.includes(categoryOf[x]!))),
      );
    }
    if ('orderCount' in s)
      return (
        (s.orderCount.min === undefined || p.orders.length >= s.orderCount.min) &&
        (s.orderCount.max === undefined || p.orders.length <= s.orderCount.max)
      );
    if ('revenue' in s)
      return (
        (s.revenue.min === undefined || revenue(p) >= s.revenue.min) &&
        (s.revenue.max === undefined || revenue(p) <= s.revenue.max)
      );
    if ('consent' in s) {
      const states = Array.isArray(s.consent.state) ? s.consent.state : [s.consent.state];
      const state = s.consent.purpose === 'email_marketing' ? p.marketing : p.personalization ? 'granted' : 'none';
      return states.includes(state);
    }
    if ('rfmLabel' in s) {
      const labels = Array.isArray(s.rfmLabel) ? s.rfmLabel : [s.rfmLabel];
      return labels.includes(rfm.get(p.email)?.label ?? '');
    }
    if ('rfm' in s) {
      const x = rfm.get(p.email);
      if (!x) return false;
      const inRange = (v: number, r?: [number, number]) => !r || (v >= r[0] && v <= r[1]);
      return inRange(x.r, s.rfm.recency) && inRange(x.f, s.rfm.frequency) && inRange(x.m, s.rfm.monetary);
    }
    throw new Error('unknown predicate');
  };
  return people
    .filter((p) => p.personalization && test(segment, p))
    .map((p) => p.email)
    .sort();
}

const segments: Segment[] = [
  { attribute: { name: 'gender', eq: 'female' } },
  { attribute: { name: 'firstName', in: ['ana', 'Chloé'] } },
  { attribute: { name: 'jobTitle', exists: true } },
  { attribute: { name: 'age', between: [30, 45] } },
  { ageBand: ['25-34', '65+'] },
  { location: { country: ['fr', 'BE'], city: 'paris' } },
  { location: { region: 'Berlin' } },
  { interests: { anyOf: ['yoga', 'baking'] } },
  { interests: { allOf: ['tea', 'hiking'] } },
  { purchased: { category: 'drinks', withinDays: 90 } },
  { purchased: { product: ['kettle', 'jam'] } },
  { orderCount: { min: 2, max: 3 } },
  { revenue: { min: 150 } },
  { consent: { purpose: 'email_marketing', state: 'granted' } },
  { consent: { purpose: 'email_marketing', state: ['none', 'withdrawn'] } },
  { rfmLabel: ['champions', 'loyal', 'at_risk'] },
  { rfm: { recency: [4, 5], monetary: [3, 5] } },
  {
    all: [
      { location: { country: 'FR' } },
      { not: { purchased: { category: 'food' } } },
      { any: [{ ageBand: '45-54' }, { orderCount: { min: 3 } }] },
    ],
  },
];

describeEachStore('segments', (getStore) => {
  it('members - every predicate and combination returns exactly the members the in-memory oracle finds', async () => {
    const people = generate(90);
    const t = await createTactful({ store: getStore(), shop: uniqueShop('segments'), now: () => now });
    await load(t, people);
    for (const segment of segments) {
      const ids = await t.segments.members(segment);
      const preview = await t.segments.preview(segment, 1000);
      const expected = oracle(people, segment);
      expect(preview.count, JSON.stringify(segment)).toBe(expected.length);
      expect(preview.sample.map((s) => s.email).sort(), JSON.stringify(segment)).toEqual(expected);
      expect(ids).toHaveLength(expected.length);
    }
    // The oracle is not trivially empty: most segments select someone, none selects everyone.
    const sizes = segments.map((s) => oracle(people, s).length);
    expect(sizes.filter((n) => n > 0).length).toBeGreaterThanOrEqual(segments.length - 1);
    expect(sizes.every((n) => n < people.filter((p) => p.personalization).length)).toBe(true);
  });

  it('pareto - the smallest set of customers holding 80 % of revenue, their share, and the list', async () => {
    const people = generate(60, 11);
    const t = await createTactful({ store: getStore(), shop: uniqueShop('pareto'), now: () => now });
    await load(t, people);
    const report = await t.segments.pareto();
    const { revenue } = rfmOf(people);
    const buyers = people
      .filter((p) => p.personalization && p.orders.length > 0)
      .sort((a, b) => revenue(b) - revenue(a) || a.email.localeCompare(b.email));
    const total = buyers.reduce((s, p) => s + revenue(p), 0);
    let cum = 0;
    const top: string[] = [];
    for (const p of buyers) {
      if (cum >= 0.8 * total - 1e-9) break;
      cum += revenue(p);
      top.push(p.email);
    }
    expect(report.customers).toBe(buyers.length);
    expect(report.top).toBe(top.length);
    expect(report.members.map((m) => m.email)).toEqual(top);
    expect(report.shareOfCustomers).toBeCloseTo(top.length / buyers.length, 10);
    expect(report.totalRevenue).toBeCloseTo(total, 2);
    expect(report.members.at(-1)!.cumulativeShare).toBeGreaterThanOrEqual(0.8);
  });

  it('pareto - members run from the largest revenue down, by amount and not as text (99.90 after 341.30)', async () => {
    const totals = [341.3, 99.9, 1200, 5, 12.5, 88];
    const people = generate(totals.length, 5).map((p, i) => ({
      ...p,
      personalization: true,
      orders: [{ id: `text-order-${i}`, products: [productIds[0]!], daysAgo: 10, total: totals[i]! }],
    }));
    const t = await createTactful({ store: getStore(), shop: uniqueShop('pareto-order'), now: () => now });
    await load(t, people);
    const report = await t.segments.pareto(0.99);
    expect(report.members.map((m) => m.revenue)).toEqual([...totals].sort((a, b) => b - a).slice(0, report.top));
    const shares = report.members.map((m) => m.cumulativeShare);
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    expect(shares[0]).toBeCloseTo(1200 / totals.reduce((a, b) => a + b, 0), 10);
  });

  it('saved segments - save, list, delete; a bad definition is refused', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop('saved'), now: () => now });
    await t.segments.save('vip', { revenue: { min: 500 } });
    expect((await t.segments.list()).map((s) => s.name)).toEqual(['vip']);
    await expect(t.segments.save('Bad Name', { revenue: { min: 1 } })).rejects.toMatchObject({
      code: 'SEGMENT.INVALID',
    });
    await expect(t.segments.save('x', { revenue: { min: 'lots' } })).rejects.toMatchObject({ code: 'SEGMENT.INVALID' });
    expect(await t.segments.delete('vip')).toBe(true);
    expect(await t.segments.list()).toEqual([]);
  });
});

describe('segment language', () => {
  const error = (input: unknown) => {
    try {
      parseSegment(input);
    } catch (e) {
      if (isTactfulError(e)) return `${e.code} ${e.message}`;
      throw e;
    }
    return 'accepted';
  };

  it('bad input - every error names its path', () => {
    expect(error({ all: [{ orderCount: { min: 1 } }, { orderCount: { min: 'two' } }] })).toMatch(
      /^SEGMENT.INVALID Invalid segment at all\[1\]\.orderCount\.min: /,
    );
    expect(error({ any: [] })).toMatch(/at any: expected a non-empty array/);
    expect(error({ not: { colour: 'red' } })).toMatch(/at not: unknown key "colour"/);
    expect(error({ attribute: { name: 'shoeSize', eq: 42 } })).toMatch(/at attribute\.name: /);
    expect(error({ attribute: { name: 'firstName', between: [1, 2] } })).toMatch(
      /at attribute: between applies to age only/,
    );
    expect(error({ attribute: { name: 'gender', eq: 'x', in: ['y'] } })).toMatch(
      /exactly one of eq, in, between, exists/,
    );
    expect(error({ rfm: { recency: [5, 1] } })).toMatch(/at rfm\.recency: /);
    expect(error({ rfmLabel: 'vip' })).toMatch(/at rfmLabel/);
    expect(error({ consent: { purpose: 'email_marketing', state: 'maybe' } })).toMatch(/at consent\.state/);
    expect(error({ ageBand: '20-30' })).toMatch(/at ageBand/);
    expect(error({ orderCount: { min: 1 }, revenue: { min: 1 } })).toMatch(/at \(root\): expected exactly one key/);
    expect(error([])).toMatch(/expected an object/);
    expect(error({ purchased: { withinDays: 30 } })).toMatch(/give product, category or both/);
    expect(() => parseSegmentJson('{"all": [')).toThrow(/not valid JSON/);
    expect(error(segments.at(-1))).toBe('accepted');
  });
});
