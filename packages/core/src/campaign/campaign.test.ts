import { and, eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { createTactful, type Tactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderRecord } from '../ports.js';
import type { Store } from '../store/open.js';
import { campaignRecipients, campaignWaves, contactSends } from '../store/schema.js';
import { describeEachStore } from '../testing/harness.js';
import { createMemoryEmailProvider } from '../testing/memory-provider.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';

// Noon UTC: outside the default quiet hours (21:00-08:00) of the default time zone.
const t0 = new Date('2026-03-01T12:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * 86_400_000);
const PUBLIC = 'https://tactful.example.com';
const SENDER = {
  name: 'Bean & Leaf',
  email: 'hello@bean.example',
  postalAddress: '1 Roastery Lane, 1000 Brussels, BE',
};

function grant(email: string, purpose: string, id: string, level = 'confirmed', state = 'granted', day = 1) {
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

function order(id: string, email: string, products: string[], day: number): OrderRecord {
  return {
    id,
    email,
    createdAt: at(day),
    updatedAt: at(day),
    currency: 'EUR',
    totalPrice: '30.00',
    lines: products.map((p) => ({ productId: p, title: p, quantity: 1, price: '10.00' })),
  };
}

const people = {
  ada: 'ada@example.com', // both granted, confirmed: eligible
  bob: 'bob@example.com', // email granted at single level only: the shop requires double opt-in
  cy: 'cy@example.com', // email confirmed, personalization never asked
  dan: 'dan@example.com', // withdrew email
  eve: 'eve@example.com', // pending double opt-in
  fay: 'fay@example.com', // both granted, address undeliverable
  gus: 'gus@example.com', // both granted, bought only what nobody else bought: nothing personal to recommend
  hal: 'hal@example.com', // both granted, eligible
};

async function shop(store: Store, clock: { now: Date } = { now: at(10) }): Promise<Tactful> {
  const t = await createTactful({ store, shop: uniqueShop('campaign'), now: () => clock.now });
  await t.settings.update({ sender: SENDER });
  await t.products.upsert(
    ['tea', 'kettle', 'honey', 'cups', 'lemon', 'oddity', 'coffee', 'grinder', 'filters'].map((id) => ({
      id,
      title: id[0]!.toUpperCase() + id.slice(1),
      url: `https://bean.example/products/${id}`,
      price: '€10.00',
      category: 'Kitchen',
      available: true,
    })),
  );
  await t.consent.recordBatch([
    grant(people.ada, 'email_marketing', 'a1'),
    grant(people.ada, 'personalization', 'a2'),
    grant(people.bob, 'email_marketing', 'b1', 'single'),
    grant(people.bob, 'personalization', 'b2'),
    grant(people.cy, 'email_marketing', 'c1'),
    grant(people.dan, 'email_marketing', 'd1'),
    grant(people.dan, 'personalization', 'd2'),
    grant(people.dan, 'email_marketing', 'd3', 'unknown', 'withdrawn', 2),
    grant(people.eve, 'email_marketing', 'e1', 'single', 'pending'),
    grant(people.fay, 'email_marketing', 'f1'),
    grant(people.fay, 'personalization', 'f2'),
    grant(people.gus, 'email_marketing', 'g1'),
    grant(people.gus, 'personalization', 'g2'),
    grant(people.hal, 'email_marketing', 'h1'),
    grant(people.hal, 'personalization', 'h2'),
  ]);
  // Co-purchases: tea goes with kettle, honey and cups; coffee with grinder and filters.
  const baskets = [
    ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
    ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
    ...Array.from({ length: 4 }, () => ['coffee', 'filters']),
  ];
  await t.orders.ingest(
    [
      order('o1', people.ada, ['tea'], 3),
      order('o2', people.hal, ['coffee', 'lemon'], 3),
      order('o3', people.fay, ['tea'], 3),
      order('o4', people.gus, ['oddity'], 3),
      ...baskets.map((b, i) => order(`x${i}`, `x${i}@example.com`, b, 2)),
    ],
    'shopify',
  );
  await t.inbox.receive(
    t.shopId,
    { kind: 'undeliverable', email: people.fay, reason: 'hard bounce', occurredAt: at(4) },
    { system: 'mailchimp', deliveryId: 'clean-fay', receivedAt: at(4), topic: 'cleaned' },
  );
  await t.processInbox();
  return t;
}

async function count(
  store: Store,
  table: typeof campaignRecipients | typeof campaignWaves | typeof contactSends,
  shopId: string,
): Promise<number> {
  return (await rawStore(store).db.select().from(table).where(eq(table.shopId, shopId))).length;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isTactfulError(error)) throw new Error(`expected a TactfulError, got ${String(error)}`);
  return error.code;
}

describeEachStore('campaigns', (getStore) => {
  it('a dry run counts everyone under the first rule they fail, previews every line, and writes nothing', async () => {
    const store = getStore();
    const t = await shop(store);
    const result = await t.campaign.run({ name: 'spring', dryRun: true, publicUrl: PUBLIC });
    expect(result.previews.map((p) => p.email).sort()).toEqual([people.ada, people.hal]);
    expect(result.eligible).toBe(2);
    expect(result.excluded).toEqual({
      not_confirmed: 1,
      no_personalization: 1,
      no_email_consent: 2,
      undeliverable: 1,
      no_recommendation: 1,
    });
    // Order-only customers who never gave consent are not people Tactful holds: they are not counted.
    expect(result.considered).toBe(result.eligible + Object.values(result.excluded).reduce((a, b) => a + b, 0));
    const ada = result.previews.find((p) => p.email === people.ada)!;
    expect(ada.content.reason).toBe('Because you bought Tea.');
    expect(ada.content.consentLine).toBe(
      'You receive this because you agreed to email offers on 2 March 2026 (clause 4.2, version 3).',
    );
    expect(ada.content.products.map((p) => p.productId)).not.toContain('tea');
    expect(ada.content.products.length).toBeGreaterThan(0);
    expect(ada.content.products.length).toBeLessThanOrEqual(3);
    for (const p of ada.content.products) expect(new URL(p.url).searchParams.get('utm_campaign')).toBe('spring');
    expect(ada.content.preferencesUrl.startsWith(`${PUBLIC}/preferences?token=`)).toBe(true);
    expect(ada.content.unsubscribeUrl.startsWith(`${PUBLIC}/unsubscribe?token=`)).toBe(true);
    for (const line of [ada.content.reason, 'Bean &amp; Leaf', '1 Roastery Lane', 'Unsubscribe'])
      expect(ada.html).toContain(line);
    expect(ada.text).toContain(ada.content.consentLine);
    // The preference link opens Ada's own preference centre.
    const token = new URL(ada.content.preferencesUrl).searchParams.get('token')!;
    expect((await t.links.read(token, 'preferences')).subject).toBe(ada.subjectId);
    for (const table of [campaignRecipients, campaignWaves, contactSends])
      expect(await count(store, table, t.shopId)).toBe(0);
  });

  it("quiet hours follow each person's own time zone, read from their sealed profile", async () => {
    const store = getStore();
    const t = await shop(store);
    // Noon UTC is 01:00 the next day in Auckland (UTC+13 in March): inside the default quiet hours there.
    await t.profiles.setAttributes(people.ada, { timeZone: 'Pacific/Auckland' });
    await t.profiles.setAttributes(people.hal, { timeZone: 'Europe/Brussels' });
    const result = await t.campaign.run({ name: 'zones', dryRun: true, publicUrl: PUBLIC, at: at(10) });
    expect(result.previews.map((p) => p.email)).toEqual([people.hal]);
    expect(result.excluded.quiet_hours).toBe(1);
  });

  it('sends once per person: a re-run sends nothing, and each send is recorded for the contact policy and the audit log', async () => {
    const store = getStore();
    const t = await shop(store);
    const mail = createMemoryEmailProvider();
    const first = await t.campaign.run(
      { name: 'spring', dryRun: false, publicUrl: PUBLIC },
      { provider: mail.provider },
    );
    expect(first).toMatchObject({ sent: 2, eligible: 2, alreadySent: 0, failed: [] });
    expect(mail.deliveries.map((d) => d.email).sort()).toEqual([people.ada, people.hal]);
    const again = await t.campaign.run(
      { name: 'spring', dryRun: false, publicUrl: PUBLIC },
      { provider: mail.provider },
    );
    expect(again).toMatchObject({ sent: 0, alreadySent: 2 });
    expect(mail.calls()).toBe(1);
    expect(await count(store, contactSends, t.shopId)).toBe(2);
    // The contact policy now holds the next campaign back (at most 1 email in 3 days by default).
    const next = await t.campaign.run({ name: 'summer', dryRun: true, publicUrl: PUBLIC });
    expect(next.excluded.frequency_cap).toBe(2);
    let audit = '';
    for await (const chunk of t.audit.export('jsonl', { action: 'campaign.sent' })) audit += chunk;
    expect(audit).toContain('"sent":2');
    expect(audit).not.toContain('@example.com');
    expect((await t.audit.verify()).audit.ok).toBe(true);
  });

  it('a crash after the provider sent (or before it did) is resumed under the same key: nobody gets it twice, nobody is missed', async () => {
    for (const fault of ['after', 'before'] as const) {
      const store = getStore();
      const t = await shop(store);
      const mail = createMemoryEmailProvider();
      mail.faults.push(fault);
      expect(
        await codeOf(
          t.campaign.run(
            { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'a' },
            { provider: mail.provider },
          ),
        ),
      ).toBe('CAMPAIGN.INTERRUPTED');
      // Another instance does not take the wave while its lease runs, but it does not send to those people either.
      const other = await t.campaign.run(
        { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'b' },
        { provider: mail.provider },
      );
      expect(other).toMatchObject({ sent: 0, alreadySent: 2, resumedWaves: 0 });
      const resumed = await t.campaign.run(
        { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'a' },
        { provider: mail.provider },
      );
      expect(resumed).toMatchObject({ resumedWaves: 1, sent: 2 });
      expect([mail.sendsTo(people.ada), mail.sendsTo(people.hal)], fault).toEqual([1, 1]);
      expect(await count(store, contactSends, t.shopId)).toBe(2);
    }
  });

  it('a stale wave is resumed by another instance once its lease ran out, after checking consent again', async () => {
    const store = getStore();
    const clock = { now: at(10) };
    const t = await shop(store, clock);
    const mail = createMemoryEmailProvider();
    mail.faults.push('before');
    await expect(
      t.campaign.run(
        { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'a', leaseSeconds: 60 },
        { provider: mail.provider },
      ),
    ).rejects.toMatchObject({ code: 'CAMPAIGN.INTERRUPTED' });
    // Hal withdraws before anyone resumes: he is released, never sent.
    await t.consent.record(grant(people.hal, 'email_marketing', 'h3', 'unknown', 'withdrawn', 10));
    clock.now = new Date(at(10).getTime() + 120_000);
    const resumed = await t.campaign.run(
      { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'b' },
      { provider: mail.provider },
    );
    expect(resumed).toMatchObject({ resumedWaves: 1, sent: 1, excluded: { no_email_consent: 3 } });
    expect(mail.sendsTo(people.ada)).toBe(1);
    expect(mail.sendsTo(people.hal)).toBe(0);
  });

  it('two instances running the same campaign at once never send to the same person twice', async () => {
    const store = getStore();
    const t = await shop(store);
    const u = await createTactful({ store, shop: t.shopId, now: t.now });
    const mail = createMemoryEmailProvider();
    const [x, y] = await Promise.all([
      t.campaign.run(
        { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'x' },
        { provider: mail.provider },
      ),
      u.campaign.run(
        { name: 'spring', dryRun: false, publicUrl: PUBLIC, instanceId: 'y' },
        { provider: mail.provider },
      ),
    ]);
    expect(x.sent + y.sent).toBe(2);
    expect([mail.sendsTo(people.ada), mail.sendsTo(people.hal)]).toEqual([1, 1]);
  });

  it('a person unsubscribed at the provider is reported as failed and may be tried again later; maxRecipients caps the whole campaign', async () => {
    const store = getStore();
    const t = await shop(store);
    const mail = createMemoryEmailProvider();
    mail.unsubscribed.add(people.hal);
    const result = await t.campaign.run(
      { name: 'spring', dryRun: false, publicUrl: PUBLIC, maxRecipients: 5 },
      { provider: mail.provider },
    );
    expect(result.sent).toBe(1);
    expect(result.failed).toEqual([{ email: people.hal, code: 'MEMORY.UNSUBSCRIBED', message: 'unsubscribed here' }]);
    const capped = await t.campaign.run({ name: 'autumn', dryRun: true, publicUrl: PUBLIC, maxRecipients: 1 });
    expect(capped.eligible).toBe(1);
    expect(capped.excluded.over_max_recipients ?? 0).toBeLessThanOrEqual(1);
  });

  it('stats: sends, the provider report and revenue from featured products bought after the email', async () => {
    const store = getStore();
    const clock = { now: at(10) };
    const t = await shop(store, clock);
    const mail = createMemoryEmailProvider();
    const run = await t.campaign.run({ name: 'spring', dryRun: false, publicUrl: PUBLIC }, { provider: mail.provider });
    expect(run.sent).toBe(2);
    const featured = mail.deliveries
      .find((d) => d.email === people.ada)!
      .request.recipients.find((r) => r.email === people.ada)!.content.products[0]!.productId;
    await t.orders.ingest([order('after-1', people.ada, [featured, 'oddity'], 12)], 'shopify');
    // An order of something not featured, and one outside the window, do not count.
    await t.orders.ingest(
      [order('after-2', people.hal, ['oddity'], 12), order('late', people.ada, [featured], 45)],
      'shopify',
    );
    clock.now = at(13);
    expect(await t.campaign.refreshReports(mail.provider)).toEqual({ refreshed: 1 });
    const [stats] = await t.campaign.stats();
    expect(stats).toMatchObject({ name: 'spring', sends: 2, opens: 1, attributedOrders: 1, revenue: 10 });
  });

  it('bad input is refused with a clear error and changes nothing', async () => {
    const store = getStore();
    const t = await shop(store);
    const mail = createMemoryEmailProvider();
    expect(await codeOf(t.campaign.run({ name: 'no spaces!', dryRun: true, publicUrl: PUBLIC }))).toBe(
      'CAMPAIGN.INVALID',
    );
    expect(await codeOf(t.campaign.run({ name: 'x', dryRun: true, publicUrl: 'not a url' }))).toBe('CAMPAIGN.INVALID');
    expect(await codeOf(t.campaign.run({ name: 'x', dryRun: false, publicUrl: PUBLIC }))).toBe('CAMPAIGN.NO_PROVIDER');
    expect(
      await codeOf(
        t.campaign.run({ name: 'x', dryRun: false, publicUrl: PUBLIC, at: at(11) }, { provider: mail.provider }),
      ),
    ).toBe('CAMPAIGN.INVALID');
    const bare = await createTactful({ store, shop: uniqueShop('campaign-nosender'), now: t.now });
    expect(
      await codeOf(bare.campaign.run({ name: 'x', dryRun: false, publicUrl: PUBLIC }, { provider: mail.provider })),
    ).toBe('CAMPAIGN.NO_SENDER');
    expect((await bare.campaign.run({ name: 'x', dryRun: true, publicUrl: PUBLIC })).warnings[0]).toMatch(
      /sender identity/,
    );
    expect(await codeOf(t.settings.update({ sender: { name: 'X', email: 'nope', postalAddress: '' } }))).toBe(
      'CONFIG.INVALID',
    );
    expect(mail.calls()).toBe(0);
    for (const table of [campaignRecipients, campaignWaves, contactSends])
      expect(await count(store, table, t.shopId)).toBe(0);
    expect(
      await rawStore(store)
        .db.select()
        .from(campaignRecipients)
        .where(and(eq(campaignRecipients.shopId, bare.shopId))),
    ).toEqual([]);
  });
});
