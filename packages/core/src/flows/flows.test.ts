import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import { rawStore, type Store } from '../store/open.js';
import { auditLog, campaignWaves, contactSends, flowSteps } from '../store/schema.js';
import { describeEachStore } from '../testing/harness.js';
import { createMemoryEmailProvider } from '../testing/memory-provider.js';
import { uniqueShop } from '../testing/stores.js';
import { isHeldOut } from './schedule.js';

// Noon UTC: inside the flow's default window (09:00-20:00) and outside the policy's quiet hours (21:00-08:00).
const t0 = new Date('2026-03-02T12:00:00Z');
const at = (days: number, hours = 0) => new Date(t0.getTime() + days * 86_400_000 + hours * 3_600_000);
const PUBLIC = 'https://tactful.example.com';
const SENDER = { name: 'Bean & Leaf', email: 'hello@bean.example', postalAddress: '1 Roastery Lane, Brussels' };
const JOURNEY = { journeyId: '1042', stepId: '7' };

function grant(email: string, purpose: string, id: string, state = 'granted', day = -10, level = 'confirmed') {
  return {
    subject: { email },
    purpose,
    state,
    level,
    occurredAt: at(day),
    source: { system: 'shopify', eventId: id, method: 'form' },
    evidence: { clause: '4.2', policyVersion: '3' },
  };
}

function order(
  id: string,
  email: string,
  products: string[],
  when: Date,
  extra: Partial<OrderRecord> = {},
): OrderRecord {
  return {
    id,
    email,
    createdAt: when,
    updatedAt: when,
    currency: 'EUR',
    totalPrice: '30.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
    ...extra,
  };
}

const PEOPLE = ['ada', 'bob', 'cy', 'dan', 'eve', 'fay', 'gus', 'hal'].map((n) => `${n}@example.com`);

/** A shop whose co-purchases make tea go with kettle, honey and cups; everyone has both consents. */
async function shop(store: Store, clock: { now: Date }): Promise<Tactful> {
  const t = await createTactful({ store, shop: uniqueShop('flows'), now: () => clock.now });
  await t.settings.update({ sender: SENDER });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder', 'oddity'].map((id) => ({
      id,
      title: id[0]!.toUpperCase() + id.slice(1),
      url: `https://bean.example/products/${id}`,
      price: '10.00',
      available: true,
    })),
  );
  await t.consent.recordBatch(
    PEOPLE.flatMap((email, i) => [grant(email, 'email_marketing', `e${i}`), grant(email, 'personalization', `p${i}`)]),
  );
  const baskets = [
    ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
    ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
  ];
  // History, not triggers: the flow is off while it arrives, and it is weeks old.
  await t.orders.ingest(
    baskets.map((b, i) => order(`x${i}`, `x${i}@example.com`, b, at(-30))),
    'shopify',
  );
  return t;
}

async function steps(store: Store, shopId: string) {
  return rawStore(store).db.select().from(flowSteps).where(eq(flowSteps.shopId, shopId)).orderBy(flowSteps.orderId);
}

/** That shop with the post-purchase flow on through the journey, nobody held out, and a memory provider. */
async function journeyShop(store: Store) {
  const clock = { now: at(0) };
  const t = await shop(store, clock);
  const mail = createMemoryEmailProvider();
  await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0, ...JOURNEY });
  return { clock, t, mail };
}

async function stepOf(store: Store, shopId: string, orderId: string) {
  const [row] = await rawStore(store)
    .db.select()
    .from(flowSteps)
    .where(and(eq(flowSteps.shopId, shopId), eq(flowSteps.orderId, orderId)));
  return row!;
}

/** An order id of `email`'s whose seeded draw is (or is not) in a 10 % holdout. */
function orderIdFor(prefix: string, heldOut: boolean, share = 0.1): string {
  for (let i = 0; ; i++) if (isHeldOut('post-purchase', `${prefix}-${i}`, share) === heldOut) return `${prefix}-${i}`;
}

describeEachStore('post-purchase flow', (getStore) => {
  it('a paid order schedules one step, due after the delay in the window; a replay or history schedules none', async () => {
    const store = getStore();
    const clock = { now: at(0) };
    const t = await shop(store, clock);
    expect(await steps(store, t.shopId)).toEqual([]);
    await t.flows.set('post-purchase', { enabled: true, delayDays: 7 });
    const paid = order('o-ada', PEOPLE[0]!, ['tea'], at(0, 10)); // 22:00 UTC: due 7 days later, at 09:00
    await t.orders.ingest([paid], 'shopify');
    await t.orders.ingest([paid], 'shopify'); // the same order again (a sync after the webhook)
    await t.inbox.receive(
      t.shopId,
      { kind: 'order', order: { ...paid, updatedAt: at(0, 11) } },
      { system: 'shopify', deliveryId: 'orders-paid-1', receivedAt: at(0, 11), topic: 'orders/paid' },
    );
    await t.processInbox();
    await t.orders.ingest(
      [
        order('o-old', PEOPLE[1]!, ['tea'], at(-40)), // an import of last month's history
        order('o-void', PEOPLE[2]!, ['tea'], at(0), { cancelledAt: at(0) }), // never paid for good
        order('o-guest', 'stranger@example.com', ['tea'], at(0)), // nobody Tactful knows
      ],
      'shopify',
    );
    const all = await steps(store, t.shopId);
    expect(all.map((s) => s.orderId)).toEqual(['o-ada']);
    expect(all[0]!.status).toBe('scheduled');
    expect(all[0]!.dueAt.toISOString()).toBe('2026-03-10T09:00:00.000Z');
  });

  it('sends through the journey once at the due time, records the send and audits it; a second run sends nothing', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    await t.orders.ingest([order('o-1', PEOPLE[0]!, ['tea'], at(0))], 'shopify');
    const deps = { provider: mail.provider, publicUrl: PUBLIC };
    clock.now = at(6);
    expect((await t.flows.runDue(deps)).leased).toBe(0); // not due yet
    clock.now = at(7, 1);
    const first = await t.flows.runDue(deps);
    expect(first).toMatchObject({ leased: 1, sent: 1, heldOut: 0, failed: [] });
    expect(mail.journeys).toHaveLength(1);
    const sent = mail.journeys[0]!.request;
    expect(sent).toMatchObject({ key: 'flow:post-purchase:o-1', journeyId: '1042', stepId: '7' });
    expect(sent.message.email).toBe(PEOPLE[0]);
    expect(sent.message.content.reason).toBe('Because you bought Tea on 2 March 2026.');
    expect(sent.message.content.products.map((p) => p.productId).sort()).toEqual(['cups', 'honey', 'kettle']);
    expect(sent.message.content.consentLine).toMatch(/clause 4\.2/);
    expect(sent.message.content.unsubscribeUrl).toMatch(/^https:\/\/tactful\.example\.com\/unsubscribe\?token=/);
    expect(sent.message.content.preferencesUrl).toMatch(/^https:\/\/tactful\.example\.com\/preferences\?token=/);
    expect((await stepOf(store, t.shopId, 'o-1')).status).toBe('sent');
    const db = rawStore(store).db;
    const sends = await db.select().from(contactSends).where(eq(contactSends.shopId, t.shopId));
    expect(sends.map((s) => s.sendId)).toEqual(['flow:post-purchase:o-1']);
    const audits = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.shopId, t.shopId), eq(auditLog.action, 'flow.sent')));
    expect(audits).toHaveLength(1);
    clock.now = at(8);
    expect(await t.flows.runDue(deps)).toMatchObject({ leased: 0, sent: 0 });
    expect(mail.journeys).toHaveLength(1);
  });

  it('exits at send time when consent was withdrawn, the person erased, the order cancelled or refunded', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    const [ada, bob, cy, dan, eve] = PEOPLE as [string, string, string, string, string];
    await t.orders.ingest(
      [
        order('o-withdrawn', ada, ['tea'], at(0)),
        order('o-nopz', bob, ['tea'], at(0)),
        order('o-erased', cy, ['tea'], at(0)),
        order('o-cancelled', dan, ['tea'], at(0)),
        order('o-refunded', eve, ['tea'], at(0)),
      ],
      'shopify',
    );
    clock.now = at(3);
    await t.consent.record(grant(ada, 'email_marketing', 'w1', 'withdrawn', 3, 'unknown'));
    await t.consent.record(grant(bob, 'personalization', 'w2', 'withdrawn', 3, 'unknown'));
    await t.privacy.erase(cy, { reason: 'customer request', compact: false });
    await t.orders.ingest(
      [
        order('o-cancelled', dan, ['tea'], at(0), { cancelledAt: at(3), updatedAt: at(3) }),
        order('o-refunded', eve, ['tea'], at(0), { refunded: true, updatedAt: at(3) }),
      ],
      'shopify',
    );
    clock.now = at(7, 1);
    const report = await t.flows.runDue({ provider: mail.provider, publicUrl: PUBLIC });
    expect(report.sent).toBe(0);
    expect(mail.journeys).toHaveLength(0);
    const reasons = Object.fromEntries((await steps(store, t.shopId)).map((s) => [s.orderId, [s.status, s.reason]]));
    expect(reasons['o-withdrawn']).toEqual(['exited', 'email offers not granted']);
    expect(reasons['o-nopz']).toEqual(['exited', 'personal recommendations not granted']);
    // Erasure takes the person's steps with them: nothing is left to send, nor to say about them.
    expect(reasons['o-erased']).toBeUndefined();
    expect(reasons['o-cancelled']).toEqual(['exited', 'the order was cancelled on 5 March 2026']);
    expect(reasons['o-refunded']).toEqual(['exited', 'the order was refunded']);
  });

  it('exits when a recommended product was bought meanwhile; waits for the cap and the window; skips after too long', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    const [ada, bob] = PEOPLE as [string, string];
    await t.orders.ingest([order('o-bought', ada, ['tea'], at(0)), order('o-capped', bob, ['tea'], at(0))], 'shopify');
    clock.now = at(2);
    await t.orders.ingest([order('o-honey', ada, ['honey'], at(2))], 'shopify');
    // Bob got another email a day before: the default cap is one per 3 days.
    clock.now = at(6);
    await t.contact.recordSend(bob, { sentAt: at(6), campaign: 'spring' });
    clock.now = at(7, 1);
    const deps = { provider: mail.provider, publicUrl: PUBLIC };
    const run = await t.flows.runDue(deps);
    expect(run).toMatchObject({ sent: 0, exited: 1, waiting: 1 });
    const bought = await stepOf(store, t.shopId, 'o-bought');
    expect(bought.status).toBe('exited');
    expect(bought.reason).toBe('bought Honey on 4 March 2026 meanwhile');
    const capped = await stepOf(store, t.shopId, 'o-capped');
    expect(capped.status).toBe('waiting');
    expect(capped.reason).toMatch(/^contact policy: 1 of at most 1 emails in 3 days/);
    expect(capped.dueAt.getTime()).toBeGreaterThan(at(9).getTime());
    // Its new due time comes: it goes out then, once.
    clock.now = new Date(capped.dueAt.getTime() + 60_000);
    // (Ada's own honey order is due by then too: it goes out with it.)
    expect(await t.flows.runDue(deps)).toMatchObject({ sent: 2 });
    expect(mail.journeys.map((j) => j.email).sort()).toEqual([ada, bob]);

    // A runner late in the evening: the step waits for the window to open again; a pending double opt-in waits
    // until it is too late, then the step is skipped.
    const ivy = 'ivy@example.com'; // personalization granted, email offers awaiting her confirmation
    await t.consent.recordBatch([
      grant(ivy, 'personalization', 'i1', 'granted', 9),
      grant(ivy, 'email_marketing', 'i2', 'pending', 9, 'single'),
    ]);
    await t.orders.ingest([order('o-late', ivy, ['tea'], clock.now)], 'shopify');
    const due = (await stepOf(store, t.shopId, 'o-late')).dueAt;
    clock.now = new Date(due.getTime() + 10 * 3_600_000); // 22:00 or later: outside 09:00-20:00
    await t.flows.runDue(deps);
    const late = await stepOf(store, t.shopId, 'o-late');
    expect(late.status).toBe('waiting');
    for (let day = 0; day < 20 && (await stepOf(store, t.shopId, 'o-late')).status === 'waiting'; day++) {
      clock.now = new Date(
        Math.max(clock.now.getTime(), (await stepOf(store, t.shopId, 'o-late')).dueAt.getTime()) + 60_000,
      );
      await t.flows.runDue(deps);
    }
    const skipped = await stepOf(store, t.shopId, 'o-late');
    expect(skipped.status).toBe('skipped');
    expect(skipped.reason).toMatch(/^waited too long: email offers are not confirmed/);
    expect(mail.journeys).toHaveLength(2);
  });

  it('"bought meanwhile" names the product most often bought with the order\'s, a tie by product id; an unrelated one is no exit', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    const [ada, bob, cy] = PEOPLE as [string, string, string];
    await t.orders.ingest(
      [order('o-ada', ada, ['tea'], at(0)), order('o-bob', bob, ['tea'], at(0)), order('o-cy', cy, ['tea'], at(0))],
      'shopify',
    );
    clock.now = at(2);
    // With tea: kettle in 6 baskets, honey and cups in 4 each, coffee in none.
    await t.orders.ingest(
      [
        order('o-ada-2', ada, ['honey', 'kettle', 'coffee'], at(2)),
        order('o-bob-2', bob, ['honey', 'cups'], at(2)),
        order('o-cy-2', cy, ['coffee'], at(2)),
      ],
      'shopify',
    );
    clock.now = at(7, 1);
    await t.flows.runDue({ provider: mail.provider, publicUrl: PUBLIC });
    expect((await stepOf(store, t.shopId, 'o-ada')).reason).toBe('bought Kettle on 4 March 2026 meanwhile');
    expect((await stepOf(store, t.shopId, 'o-bob')).reason).toBe('bought Cups on 4 March 2026 meanwhile');
    expect((await stepOf(store, t.shopId, 'o-cy')).reason ?? '').not.toMatch(/meanwhile/);
  });

  it('a line at quantity 0 after the order is not "bought meanwhile"', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    const [ada] = PEOPLE as [string];
    await t.orders.ingest([order('o-tea', ada, ['tea'], at(0))], 'shopify');
    clock.now = at(2);
    // Honey (which goes with tea) on a later order at quantity 0: not bought.
    const zeroed = { productId: 'honey', title: 'honey', quantity: 0, price: '10.00' };
    await t.orders.ingest(
      [order('o-later', ada, ['oddity'], at(2), { lines: [zeroed, { ...zeroed, productId: 'oddity', quantity: 1 }] })],
      'shopify',
    );
    clock.now = at(7, 1);
    await t.flows.runDue({ provider: mail.provider, publicUrl: PUBLIC });
    const step = await stepOf(store, t.shopId, 'o-tea');
    expect(step.reason ?? '').not.toMatch(/meanwhile/);
    expect(step.status).toBe('sent');
  });

  it('holds out the seeded share: the held-out step is recorded and nobody in it gets an email', async () => {
    const store = getStore();
    const clock = { now: at(0) };
    const t = await shop(store, clock);
    const mail = createMemoryEmailProvider();
    await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0.1, ...JOURNEY });
    const held = orderIdFor('ada', true);
    const kept = orderIdFor('bob', false);
    await t.orders.ingest(
      [order(held, PEOPLE[0]!, ['tea'], at(0)), order(kept, PEOPLE[1]!, ['tea'], at(0))],
      'shopify',
    );
    clock.now = at(7, 1);
    expect(await t.flows.runDue({ provider: mail.provider, publicUrl: PUBLIC })).toMatchObject({ sent: 1, heldOut: 1 });
    expect((await stepOf(store, t.shopId, held)).status).toBe('held_out');
    expect(mail.journeys.map((j) => j.email)).toEqual([PEOPLE[1]]);
  });

  it('without a journey, due steps go out as a wave of the day’s campaign, exactly once', async () => {
    const store = getStore();
    const clock = { now: at(0) };
    const t = await shop(store, clock);
    const mail = createMemoryEmailProvider();
    await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0 });
    await t.orders.ingest(
      [order('o-a', PEOPLE[0]!, ['tea'], at(0)), order('o-b', PEOPLE[1]!, ['coffee'], at(0))],
      'shopify',
    );
    clock.now = at(7, 1);
    const deps = { provider: mail.provider, publicUrl: PUBLIC };
    expect(await t.flows.runDue(deps)).toMatchObject({ sent: 2 });
    expect(mail.journeys).toHaveLength(0);
    expect(mail.deliveries.map((d) => d.key)).toEqual([
      'flow-post-purchase-2026-03-09#1',
      'flow-post-purchase-2026-03-09#1',
    ]);
    const [wave] = await rawStore(store).db.select().from(campaignWaves).where(eq(campaignWaves.shopId, t.shopId));
    expect(wave).toMatchObject({ campaign: 'flow-post-purchase-2026-03-09', status: 'sent', sends: 2 });
    expect(await t.flows.runDue(deps)).toMatchObject({ leased: 0 });
    expect(mail.deliveries).toHaveLength(2);
  });

  it('a provider that times out after sending: the step stays sending, and the retry after the lease sends nothing twice', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    await t.orders.ingest([order('o-1', PEOPLE[0]!, ['tea'], at(0))], 'shopify');
    clock.now = at(7, 1);
    mail.faults.push('after');
    const deps = { provider: mail.provider, publicUrl: PUBLIC };
    const first = await t.flows.runDue(deps);
    expect(first.failed.map((f) => f.code)).toEqual(['MEMORY.TIMEOUT']);
    expect(await stepOf(store, t.shopId, 'o-1')).toMatchObject({
      status: 'sending',
      sendKey: 'flow:post-purchase:o-1',
    });
    expect(await t.flows.runDue(deps)).toMatchObject({ leased: 0 }); // its lease still holds
    clock.now = at(7, 2);
    expect(await t.flows.runDue(deps)).toMatchObject({ leased: 1, sent: 1, resumed: 1 });
    expect(mail.journeys).toHaveLength(1);
    expect(mail.calls()).toBe(2);
    expect((await stepOf(store, t.shopId, 'o-1')).status).toBe('sent');
  });

  it('a runner slowed past its lease sends nothing the runner that took its steps over sends', async () => {
    const store = getStore();
    const { clock, t, mail } = await journeyShop(store);
    await t.orders.ingest(
      [order('o-1', PEOPLE[0]!, ['tea'], at(0)), order('o-2', PEOPLE[1]!, ['tea'], at(0))],
      'shopify',
    );
    clock.now = at(7, 1);
    // Every call reaching the provider, by key; runner a's first trigger hangs (a provider retrying rate limits).
    const keys: string[] = [];
    let release!: () => void;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const slowed = {
      ...mail.provider,
      triggerJourney: async (request: Parameters<NonNullable<typeof mail.provider.triggerJourney>>[0]) => {
        keys.push(request.key);
        if (keys.length === 1) await hung;
        return mail.provider.triggerJourney!(request);
      },
    };
    const a = t.flows.runDue({ provider: slowed, publicUrl: PUBLIC }, { instanceId: 'a', leaseSeconds: 60 });
    while (keys.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // Runner a's lease runs out while it waits; runner b takes both steps over and sends them.
    clock.now = at(7, 2);
    const b = await t.flows.runDue({ provider: slowed, publicUrl: PUBLIC }, { instanceId: 'b', leaseSeconds: 60 });
    expect(b).toMatchObject({ leased: 2, sent: 2 });
    release();
    await a;
    // Each runner takes the steps in the order they fell due (o-1, then o-2). The step a had in flight when it
    // lost it went out under its key twice (deduping a key is the provider's part); o-2, which a had not begun,
    // a leaves to b instead of triggering it a second time.
    expect(keys).toEqual(['flow:post-purchase:o-1', 'flow:post-purchase:o-1', 'flow:post-purchase:o-2']);
    expect(mail.journeys.map((j) => j.key).sort()).toEqual(['flow:post-purchase:o-1', 'flow:post-purchase:o-2']);
    expect((await stepOf(store, t.shopId, 'o-2')).status).toBe('sent');
  });

  it('a member the provider holds as unsubscribed is skipped with the provider’s words', async () => {
    const store = getStore();
    const clock = { now: at(0) };
    const t = await shop(store, clock);
    const mail = createMemoryEmailProvider();
    mail.unsubscribed.add(PEOPLE[0]!);
    await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0, ...JOURNEY });
    await t.orders.ingest([order('o-1', PEOPLE[0]!, ['tea'], at(0))], 'shopify');
    clock.now = at(7, 1);
    const run = await t.flows.runDue({ provider: mail.provider, publicUrl: PUBLIC });
    expect(run.failed.map((f) => f.code)).toEqual(['MEMORY.UNSUBSCRIBED']);
    const step = await stepOf(store, t.shopId, 'o-1');
    expect(step.status).toBe('skipped');
    expect(step.reason).toMatch(/^memory refused: /);
  });

  it('settings: a bad patch names every problem and changes nothing; a good one is audited', async () => {
    const store = getStore();
    const t = await shop(store, { now: at(0) });
    const error = await t.flows
      .set('post-purchase', {
        delayDays: -1,
        holdoutShare: 0.9,
        window: { start: '25:00', end: '08:00' },
        journeyId: '12',
      })
      .catch((e: unknown) => e);
    expect(isTactfulError(error, 'FLOW.INVALID')).toBe(true);
    const message = (error as Error).message;
    for (const part of ['delayDays', 'holdoutShare', 'window.start', 'stepId']) expect(message).toContain(part);
    expect((await t.flows.show('post-purchase')).updatedAt).toBeNull();
    const unknown = await t.flows.set('welcome', { enabled: true }).catch((e: unknown) => e);
    expect(isTactfulError(unknown, 'FLOW.NOT_FOUND')).toBe(true);
    const { flow, changed } = await t.flows.set('post-purchase', { enabled: true, delayDays: 5 });
    expect(changed.sort()).toEqual(['delayDays', 'enabled']);
    expect(flow).toMatchObject({ enabled: true, delayDays: 5, holdoutShare: 0.1 });
    const audits = await rawStore(store)
      .db.select()
      .from(auditLog)
      .where(and(eq(auditLog.shopId, t.shopId), eq(auditLog.action, 'flow.changed')));
    expect(audits).toHaveLength(1);
  });

  it('the preview says who, when and what, or why not, without sending or storing anything', async () => {
    const store = getStore();
    const { t, mail } = await journeyShop(store);
    await t.orders.ingest(
      [order('o-a', PEOPLE[0]!, ['tea'], at(0)), order('o-b', PEOPLE[6]!, ['oddity'], at(0))],
      'shopify',
    );
    const preview = await t.flows.preview('post-purchase', { provider: mail.provider, publicUrl: PUBLIC });
    expect(preview.map((p) => [p.orderId, p.verdict])).toEqual([
      ['o-a', 'send'],
      ['o-b', 'skip'],
    ]);
    expect(preview[0]!.detail).toMatch(/^Because you bought Tea on 2 March 2026\./);
    expect(preview[1]!.detail).toBe('nothing related to this order to recommend');
    expect(mail.calls()).toBe(0);
    expect((await steps(store, t.shopId)).map((s) => s.status)).toEqual(['scheduled', 'scheduled']);
  });
});
