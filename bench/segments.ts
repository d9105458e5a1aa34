/**
 * Segment benchmark: a generated shop of 100 k profiles (real subject keys, sealed attributes, blind
 * indexes, ~2.5 orders each with lines, consent states, RFM scored), then the evaluation time of a few
 * representative segments (count + a 10-member sample, as `tactful segment preview` does) and of the Pareto
 * report, on PGlite and on PostgreSQL when DATABASE_URL is set. The data is written with the store's bulk
 * insert, not through the consent ingest, so the set-up stays short; what is timed is only evaluation.
 *
 * Run alone: `npx tsx --conditions=source bench/segments.ts`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createTactful, openStore, type Segment, type Store } from '@tactful/core';
import { engineInternals, seededRandom } from '@tactful/core/testing/runtime';
import { sealForSubject } from '../packages/core/src/store/keyring.js';
import { ageAt } from '../packages/core/src/profile/ages.js';
import { attributeIndex, sealAttributes } from '../packages/core/src/profile/sealed-attributes.js';
import { bulkInsert } from '../packages/core/src/store/bulk.js';
import { consentState, orderLines, orders, products, profiles, subjects } from '../packages/core/src/store/schema.js';
import { rawStore } from '@tactful/core/testing/runtime';

const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const PRODUCTS = 2_000;
const CATEGORIES = 40;

export const benchSegmentsList: Array<{ name: string; segment: Segment }> = [
  { name: 'country', segment: { location: { country: 'FR' } } },
  { name: 'sealed attribute (firstName in)', segment: { attribute: { name: 'firstName', in: ['Ana', 'Ben'] } } },
  {
    name: 'age band + interests',
    segment: { all: [{ ageBand: ['25-34', '35-44'] }, { interests: { anyOf: ['yoga', 'tea'] } }] },
  },
  { name: 'bought category within 30 days', segment: { purchased: { category: 'c7', withinDays: 30 } } },
  {
    name: 'RFM label + consent',
    segment: {
      all: [{ rfmLabel: ['champions', 'loyal'] }, { consent: { purpose: 'email_marketing', state: 'granted' } }],
    },
  },
  {
    name: 'composite (win-back)',
    segment: {
      all: [
        { consent: { purpose: 'email_marketing', state: 'granted' } },
        { any: [{ rfmLabel: ['at_risk', 'cannot_lose'] }, { orderCount: { min: 3 } }] },
        { not: { purchased: { product: 'p1', withinDays: 90 } } },
        { revenue: { min: 100 } },
      ],
    },
  },
];

export interface SegmentBenchResult {
  target: string;
  profiles: number;
  orders: number;
  setupSeconds: number;
  rescoreMs: number;
  segments: Array<{ name: string; members: number; medianMs: number; maxMs: number }>;
  paretoMs: number;
  paretoTop: number;
}

async function generate(store: Store, shop: string, now: Date): Promise<{ orders: number }> {
  const t = await createTactful({ store, shop, now: () => now });
  const shopKeys = await engineInternals(t).keys.shop(rawStore(store).db, t.shopId);
  const rnd = seededRandom(20_261_129);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  await bulkInsert(
    rawStore(store).db,
    products,
    Array.from({ length: PRODUCTS }, (_, i) => ({
      shopId: t.shopId,
      productId: `p${i}`,
      title: `Product ${i}`,
      category: `c${i % CATEGORIES}`,
      updatedAt: now,
    })),
  );
  let orderCount = 0;
  const CHUNK = 5_000;
  for (let start = 0; start < PROFILES; start += CHUNK) {
    const subjectRows: Array<typeof subjects.$inferInsert> = [];
    const profileRows: Array<typeof profiles.$inferInsert> = [];
    const stateRows: Array<typeof consentState.$inferInsert> = [];
    const orderRows: Array<typeof orders.$inferInsert> = [];
    const lineRows: Array<typeof orderLines.$inferInsert> = [];
    for (let i = start; i < Math.min(PROFILES, start + CHUNK); i++) {
      const email = `shopper${i}@example.com`;
      const subjectId = `s${String(i).padStart(7, '0')}`;
      const { key, wrapped } = engineInternals(t).keys.newSubjectKey(shopKeys, t.shopId, subjectId);
      subjectRows.push({
        shopId: t.shopId,
        subjectId,
        emailIndex: engineInternals(t).keys.emailIndex(shopKeys, email),
        emailEnc: sealForSubject(key, t.shopId, subjectId, 'email', email),
        wrappedKey: wrapped,
        externalIds: {},
        createdAt: now,
      });
      const firstName = pick(['Ana', 'Ben', 'Chloé', 'Dan', 'Eva', 'Femi', 'Gus', 'Hana']);
      const city = pick(['Paris', 'Lyon', 'Brussels', 'Berlin', 'Madrid']);
      const birthDate = `${1945 + Math.floor(rnd() * 60)}-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-${String(1 + Math.floor(rnd() * 28)).padStart(2, '0')}`;
      const interests = [
        ...new Set([
          pick(['yoga', 'tea', 'baking', 'hiking', 'gaming']),
          pick(['yoga', 'tea', 'baking', 'hiking', 'gaming']),
        ]),
      ];
      const attrs = {
        firstName: { value: firstName, source: 'bench', updatedAt: now.toISOString() },
        city: { value: city, source: 'bench', updatedAt: now.toISOString() },
        birthDate: { value: birthDate, source: 'bench', updatedAt: now.toISOString() },
        interests: { value: interests, source: 'bench', updatedAt: now.toISOString() },
      };
      const age = ageAt(birthDate, now);
      const n = Math.floor(rnd() * rnd() * 8);
      let revenue = 0;
      let first: Date | null = null;
      let last: Date | null = null;
      for (let k = 0; k < n; k++) {
        const orderId = `o${i}-${k}`;
        const createdAt = new Date(now.getTime() - Math.floor(rnd() * 730) * 86_400_000);
        const total = Math.round(rnd() * 15_000) / 100 + 5;
        revenue += total;
        if (!first || createdAt < first) first = createdAt;
        if (!last || createdAt > last) last = createdAt;
        orderRows.push({
          shopId: t.shopId,
          orderId,
          subjectId,
          customerRef: null,
          createdAt,
          updatedAt: createdAt,
          totalPrice: total.toFixed(2),
          counted: true,
          source: 'bench',
        });
        const lines = 1 + Math.floor(rnd() * 3);
        for (let l = 0; l < lines; l++)
          lineRows.push({
            shopId: t.shopId,
            orderId,
            lineNo: l,
            productId: `p${Math.floor(rnd() * rnd() * PRODUCTS)}`,
            quantity: 1,
          });
      }
      orderCount += n;
      profileRows.push({
        shopId: t.shopId,
        subjectId,
        attrsEnc: sealAttributes(key, t.shopId, subjectId, attrs),
        attrIndex: {
          firstName: attributeIndex(shopKeys, 'firstName', firstName),
          city: attributeIndex(shopKeys, 'city', city),
          birthDate: attributeIndex(shopKeys, 'birthDate', birthDate),
        },
        attrKeys: Object.keys(attrs).sort(),
        gender: pick(['female', 'male', 'non-binary']),
        age: age.age,
        ageValidUntil: age.validUntil,
        country: pick(['FR', 'FR', 'BE', 'DE', 'ES']),
        region: null,
        interests,
        orderCount: n,
        revenue: Math.round(revenue * 100) / 100,
        firstOrderAt: first,
        lastOrderAt: last,
        createdAt: now,
        updatedAt: now,
      });
      stateRows.push({
        shopId: t.shopId,
        subjectId,
        purpose: 'personalization',
        state: 'granted',
        level: 'single',
        since: now,
        decidedBy: randomBytes(8).toString('hex'),
      });
      if (rnd() < 0.7)
        stateRows.push({
          shopId: t.shopId,
          subjectId,
          purpose: 'email_marketing',
          state: pick(['granted', 'granted', 'withdrawn']),
          level: 'single',
          since: now,
          decidedBy: randomBytes(8).toString('hex'),
        });
    }
    await rawStore(store).db.transaction(async (tx) => {
      await bulkInsert(tx, subjects, subjectRows);
      await bulkInsert(tx, profiles, profileRows);
      await bulkInsert(tx, consentState, stateRows);
      await bulkInsert(tx, orders, orderRows);
      await bulkInsert(tx, orderLines, lineRows);
    });
  }
  await rawStore(store).query('analyze');
  return { orders: orderCount };
}

export async function benchSegmentOn(target: string, url: string): Promise<SegmentBenchResult> {
  const store = await openStore({ url, secret: process.env.TACTFUL_SECRET ?? randomBytes(32).toString('hex') });
  try {
    const shop = `bench-segments-${randomBytes(4).toString('hex')}.example`;
    const now = new Date('2026-06-01T12:00:00Z');
    const t0 = performance.now();
    const { orders: orderCount } = await generate(store, shop, now);
    const setupSeconds = (performance.now() - t0) / 1000;
    const t = await createTactful({ store, shop, now: () => now });
    const r0 = performance.now();
    await t.profiles.rescore();
    const rescoreMs = performance.now() - r0;
    const out: SegmentBenchResult['segments'] = [];
    for (const { name, segment } of benchSegmentsList) {
      const times: number[] = [];
      let members = 0;
      for (let run = 0; run < 5; run++) {
        const s = performance.now();
        members = (await t.segments.preview(segment, 10)).count;
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      out.push({ name, members, medianMs: times[2]!, maxMs: times[4]! });
    }
    const p0 = performance.now();
    const pareto = await t.segments.pareto();
    const paretoMs = performance.now() - p0;
    return {
      target,
      profiles: PROFILES,
      orders: orderCount,
      setupSeconds,
      rescoreMs,
      segments: out,
      paretoMs,
      paretoTop: pareto.top,
    };
  } finally {
    await store.close();
  }
}

export function printSegments(r: SegmentBenchResult): void {
  console.log(
    `  ${r.target}: ${r.profiles} profiles, ${r.orders} orders (set-up ${r.setupSeconds.toFixed(1)} s) | RFM rescore ${r.rescoreMs.toFixed(0)} ms | pareto ${r.paretoMs.toFixed(0)} ms (${r.paretoTop} customers)`,
  );
  for (const s of r.segments)
    console.log(
      `    ${s.name.padEnd(34)} ${String(s.members).padStart(7)} members  median ${s.medianMs.toFixed(1).padStart(7)} ms  max ${s.maxMs.toFixed(1).padStart(7)} ms`,
    );
}

/** PGlite always; PostgreSQL when DATABASE_URL is set. */
export async function benchSegments(): Promise<SegmentBenchResult[]> {
  const results: SegmentBenchResult[] = [];
  const targets: Array<[string, string]> = [['pglite', 'memory://']];
  if (process.env.DATABASE_URL) targets.push(['postgres', process.env.DATABASE_URL]);
  for (const [name, url] of targets) {
    const r = await benchSegmentOn(name, url);
    printSegments(r);
    results.push(r);
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await benchSegments();
}
