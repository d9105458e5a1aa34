import { describe, expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { OrderRecord } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { createMemoryEmailProvider } from '../testing/memory-provider.js';
import { uniqueShop } from '../testing/stores.js';
import { compareGroups } from './report.js';
import { isHeldOut } from './schedule.js';

describe('flow report arithmetic', () => {
  it('matches a hand-computed comparison (Welch normal interval)', () => {
    const c = compareGroups([
      { group: 'recipients', orders: 1, revenue: 30 },
      { group: 'recipients', orders: 0, revenue: 0 },
      { group: 'recipients', orders: 0, revenue: 0 },
      { group: 'recipients', orders: 2, revenue: 60 },
      { group: 'holdout', orders: 0, revenue: 0 },
      { group: 'holdout', orders: 1, revenue: 30 },
    ]);
    expect(c.recipients).toEqual({
      people: 4,
      orders: 3,
      buyers: 2,
      revenue: 90,
      conversion: 0.5,
      ordersPerPerson: 0.75,
      revenuePerPerson: 22.5,
    });
    expect(c.holdout).toMatchObject({ people: 2, buyers: 1, revenue: 30, revenuePerPerson: 15 });
    // Variances 825 (recipients) and 450 (holdout): SE = sqrt(825/4 + 450/2) = sqrt(431.25) = 20.7666…
    expect(c.revenuePerPersonLift!.estimate).toBeCloseTo(7.5, 10);
    expect(c.revenuePerPersonLift!.low).toBeCloseTo(7.5 - 1.96 * Math.sqrt(431.25), 10);
    expect(c.revenuePerPersonLift!.high).toBeCloseTo(48.2025, 3);
    expect(c.incrementalRevenue!.estimate).toBeCloseTo(30, 10);
    expect(c.incrementalRevenue!.low).toBeCloseTo(4 * (7.5 - 1.96 * Math.sqrt(431.25)), 10);
    // Conversion: 0.5 vs 0.5, variances 1/3 and 1/2: SE = sqrt(1/12 + 1/4).
    expect(c.conversionLift!.estimate).toBe(0);
    expect(c.conversionLift!.high).toBeCloseTo(1.96 * Math.sqrt(1 / 3), 10);
  });

  it('has no interval while a group is empty', () => {
    const c = compareGroups([{ group: 'recipients', orders: 1, revenue: 10 }]);
    expect(c.revenuePerPersonLift).toBeNull();
    expect(c.incrementalRevenue).toBeNull();
    expect(c.holdout.people).toBe(0);
  });
});

const t0 = new Date('2026-05-04T12:00:00Z');
const at = (days: number, hours = 0) => new Date(t0.getTime() + days * 86_400_000 + hours * 3_600_000);

function order(id: string, email: string, products: string[], when: Date, total: string): OrderRecord {
  return {
    id,
    email,
    createdAt: when,
    updatedAt: when,
    currency: 'EUR',
    totalPrice: total,
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
  };
}

describeEachStore('flow report from stored steps and orders', (getStore) => {
  it('counts each group’s orders and revenue within the window after the send or the holdout, nothing else', async () => {
    const clock = { now: at(-40) };
    const t = await createTactful({ store: getStore(), shop: uniqueShop('flowreport'), now: () => clock.now });
    const people = ['ann', 'ben', 'col', 'deb'].map((n) => `${n}@example.com`);
    await t.consent.recordBatch(
      people.flatMap((email, i) =>
        ['email_marketing', 'personalization'].map((purpose) => ({
          subject: { email },
          purpose,
          state: 'granted',
          level: 'confirmed',
          occurredAt: at(-40),
          source: { system: 'shopify', eventId: `${purpose}-${i}`, method: 'form' },
        })),
      ),
    );
    await t.products.upsert(
      ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({
        id,
        title: id,
        url: `https://s.example/${id}`,
        available: true,
      })),
    );
    await t.orders.ingest(
      [
        ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
        ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
        ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
      ].map((basket, i) => order(`h${i}`, `h${i}@example.com`, basket, at(-40), '20.00')),
      'shopify',
    );
    await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0.5, journeyId: '1', stepId: '2' });
    // Order ids chosen so that the seeded draw sends to ann and ben and holds out col and deb.
    const pick = (prefix: string, held: boolean) => {
      for (let i = 0; ; i++) if (isHeldOut('post-purchase', `${prefix}${i}`, 0.5) === held) return `${prefix}${i}`;
    };
    const ids = [pick('ann', false), pick('ben', false), pick('col', true), pick('deb', true)];
    clock.now = at(0);
    await t.orders.ingest(
      people.map((email, i) => order(ids[i]!, email, ['tea'], at(0), '5.00')),
      'shopify',
    );
    clock.now = at(7, 1);
    const mail = createMemoryEmailProvider();
    expect(await t.flows.runDue({ provider: mail.provider, publicUrl: 'https://t.example' })).toMatchObject({
      sent: 2,
      heldOut: 2,
    });
    // After the decision: ann buys twice within 30 days (40 + 12), ben once after the window (ignored), col once
    // within it (25), deb never.
    clock.now = at(60);
    await t.flows.set('post-purchase', { enabled: false }); // these orders trigger nothing new
    await t.orders.ingest(
      [
        order('ann-2', people[0]!, ['honey'], at(10), '40.00'),
        order('ann-3', people[0]!, ['cups'], at(20), '12.00'),
        order('ben-2', people[1]!, ['honey'], at(45), '99.00'),
        order('col-2', people[2]!, ['honey'], at(12), '25.00'),
      ],
      'shopify',
    );
    const report = await t.flows.report('post-purchase');
    expect(report.comparison.recipients).toMatchObject({ people: 2, orders: 2, buyers: 1, revenue: 52 });
    expect(report.comparison.holdout).toMatchObject({ people: 2, orders: 1, buyers: 1, revenue: 25 });
    expect(report.comparison.revenuePerPersonLift!.estimate).toBeCloseTo(26 - 12.5, 10);
    expect(report.comparison.incrementalRevenue!.estimate).toBeCloseTo(2 * 13.5, 10);
    expect(report.statuses).toEqual({ sent: 2, held_out: 2 });
    const total = report.funnel.reduce(
      (s, d) => ({ triggered: s.triggered + d.triggered, sent: s.sent + d.sent, bought: s.bought + d.bought }),
      { triggered: 0, sent: 0, bought: 0 },
    );
    expect(total).toEqual({ triggered: 4, sent: 2, bought: 1 });
  });
});
