import { expect, it } from 'vitest';
import { createTactful, engineInternals } from '../engine.js';
import { handleInbound } from '../inbound.js';
import { isTactfulError } from '../errors/tactful-error.js';
import type { CommercePlatform, ConsentPush, EmailProvider, InboundEvent, MemberChange, PushResult } from '../ports.js';
import type { Tactful } from '../tactful.js';
import { processInbox, processInboxClaim, type InboundHandler } from './inbox.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore, type Store } from '../store/open.js';
import { KeyRing } from '../store/keyring.js';
import { shopRowCounts } from '../privacy/oracle.js';

const meta = (deliveryId: string, topic = 'test') => ({
  system: 'shopify',
  deliveryId,
  receivedAt: new Date('2026-05-01T00:00:00Z'),
  topic,
});

/** Minimal in-memory systems behind the ports (what a sandbox does, without HTTP). */
function memoryPlatform(): CommercePlatform & { pushed: ConsentPush[] } {
  const pushed: ConsentPush[] = [];
  return {
    system: 'shopify',
    capabilities: { bulkOrders: false, consentWrite: true, erasure: false, webhooks: true },
    pushed,
    listCustomers: async () => ({ items: [] }),
    listOrders: async () => ({ items: [] }),
    listProducts: async () => ({ items: [] }),
    pushConsent: async (changes) => {
      pushed.push(...changes);
      return changes.map((c) => ({ email: c.email, ok: true as const }));
    },
  };
}

function memoryProvider(failEmail?: string): EmailProvider & { changes: MemberChange[] } {
  const changes: MemberChange[] = [];
  return {
    system: 'mailchimp',
    capabilities: { campaigns: false, reports: false, webhooks: true, maxBatch: 2 },
    changes,
    pushMembers: async (batch) =>
      batch.map((c): PushResult => {
        if (c.email === failEmail)
          return {
            email: c.email,
            ok: false,
            code: 'MAILCHIMP.MEMBER_IN_COMPLIANCE_STATE',
            message: 'no',
            retryable: false,
          };
        changes.push(c);
        return { email: c.email, ok: true };
      }),
    listMembers: async () => ({ items: [] }),
    getMember: async () => null,
  };
}

const day = (n: number) => new Date(Date.UTC(2026, 3, 1 + n, 10));

/** Deliveries of a busy shop: orders, customers (with consent and names) and consent facts, some for one person. */
function mixedDeliveries(round: 'a' | 'b'): Array<[InboundEvent, string]> {
  const consent = (email: string, id: string, purpose: string, state: 'granted' | 'withdrawn', n: number) => ({
    kind: 'consent' as const,
    externalId: id,
    consent: {
      email,
      purpose,
      state,
      level: 'single' as const,
      occurredAt: day(n),
      sourceEventId: `s${n}`,
      method: 'checkout' as const,
    },
  });
  const customer = (id: string, email: string, firstName: string, n: number): InboundEvent => ({
    kind: 'customer',
    customer: {
      id,
      email,
      firstName,
      city: 'Lyon',
      updatedAt: day(n),
      emailConsent: {
        email,
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: day(n),
        sourceEventId: `cu${n}`,
        method: 'sync',
      },
    },
  });
  const order = (
    id: string,
    email: string,
    customerId: string | null,
    products: string[],
    n: number,
  ): InboundEvent => ({
    kind: 'order',
    order: {
      id,
      email,
      customerId,
      createdAt: day(n),
      updatedAt: day(n),
      totalPrice: '12.00',
      lines: products.map((productId) => ({ productId, title: productId, quantity: 1, price: '6.00' })),
    },
  });
  const out: Array<[InboundEvent, string]> = [
    [consent('fay@example.com', '1', 'personalization', 'granted', 1), 'customers_email_marketing_consent/update'],
    [order('o1', 'fay@example.com', '1', ['p1', 'p2'], 2), 'orders/create'],
    [customer('2', 'Gus@Example.com', 'Gus', 3), 'customers/update'],
    [order('o2', 'gus@example.com', '2', ['p1', 'p3'], 4), 'orders/create'],
    [order('o3', 'hal@example.com', null, ['p2', 'p3'], 5), 'orders/create'],
    // Hal's customer record after his order, then his personalization: the same person again.
    [customer('3', 'hal@example.com', 'Hal', 6), 'customers/update'],
    [consent('hal@example.com', '3', 'personalization', 'granted', 7), 'customers_email_marketing_consent/update'],
    [order('o1', 'fay@example.com', '1', ['p1'], 8), 'orders/updated'],
    [consent('fay@example.com', '1', 'email_marketing', 'withdrawn', 9), 'customers_email_marketing_consent/update'],
    [customer('1', 'fay@example.com', 'Fay', 10), 'customers/update'],
  ];
  // A purpose the shop never defined: refused for good, whatever else its claim holds.
  if (round === 'a') out.splice(4, 0, [consent('ivy@example.com', '4', 'sms_marketing', 'granted', 4), 'poison']);
  // Gus's address changed in Shopify: the change is made one delivery at a time.
  if (round === 'b') out.push([customer('2', 'gus@new.example.com', 'Gus', 11), 'customers/update']);
  return out;
}

/** What a shop ends with: consent, profiles, orders (with who they belong to), the model, the inbox's marks. */
async function endState(t: Tactful, store: Store) {
  const people = ['fay@example.com', 'gus@example.com', 'gus@new.example.com', 'hal@example.com', 'ivy@example.com'];
  const consent = await Promise.all(
    people.map((e) =>
      t.consent.show(e).then(
        (v) => v.purposes.map((p) => [p.purpose, p.state, p.since?.toISOString()]),
        () => null,
      ),
    ),
  );
  const profiles = await Promise.all(
    people.map((e) =>
      t.profiles.show(e).then(
        (v) => [v.personalization, v.externalIds, v.profile?.attributes, v.profile?.orders],
        () => null,
      ),
    ),
  );
  const orders = await rawStore(store).query<{ order_id: string; subject_id: string | null; counted: boolean }>(
    'select order_id, subject_id, counted from orders where shop_id = $1 order by order_id',
    [t.shopId],
  );
  const owner = new Map<string, string>();
  for (const o of orders) if (o.subject_id && !owner.has(o.subject_id)) owner.set(o.subject_id, `person${owner.size}`);
  const model = await t.recommend.model();
  const inboxRows = await rawStore(store).query<{
    delivery_id: string;
    done: boolean;
    attempts: number;
    last_error: string | null;
  }>(
    'select delivery_id, processed_at is not null as done, attempts, last_error from inbox where shop_id = $1 order by delivery_id',
    [t.shopId],
  );
  return {
    consent,
    profiles,
    orders: orders.map((o) => [o.order_id, o.subject_id ? owner.get(o.subject_id) : null, o.counted]),
    pairs: [model.pairCount('p1', 'p2'), model.pairCount('p1', 'p3'), model.pairCount('p2', 'p3')],
    inbox: inboxRows,
  };
}

describeEachStore('inbox and delivery targets', (getStore) => {
  it('inbox - a delivery is stored once (replays are duplicates) and processed into consent, orders and products', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const consent = {
      kind: 'consent' as const,
      externalId: 'gid://shopify/Customer/1',
      consent: {
        email: 'Fay@Example.com',
        purpose: 'email_marketing',
        state: 'granted' as const,
        level: 'single' as const,
        occurredAt: new Date('2026-04-30T10:00:00Z'),
        sourceEventId: 'c1',
        method: 'checkout' as const,
      },
    };
    expect(await t.inbox.receive(t.shopId, consent, meta('d1'))).toBe('accepted');
    expect(await t.inbox.receive(t.shopId, consent, meta('d1'))).toBe('duplicate');
    await t.inbox.receive(
      t.shopId,
      { kind: 'product', product: { id: 'p1', title: 'Tea', available: true, category: 'drinks' } },
      meta('d2'),
    );
    await t.inbox.receive(
      t.shopId,
      {
        kind: 'order',
        order: {
          id: 'o1',
          email: 'fay@example.com',
          createdAt: new Date('2026-04-30T10:00:00Z'),
          updatedAt: new Date('2026-04-30T10:00:00Z'),
          lines: [
            { productId: 'p1', title: 'Tea', quantity: 2 },
            { productId: 'p2', title: 'Cups', quantity: 1 },
          ],
        },
      },
      meta('d3'),
    );
    const report = await t.processInbox();
    expect(report).toEqual({ processed: 3, failed: 0, refused: 0 });
    const view = await t.consent.show('fay@example.com');
    expect(view.purposes[0]).toMatchObject({
      state: 'granted',
      since: new Date('2026-04-30T10:00:00Z'),
      source: { system: 'shopify', eventId: 'c1' },
    });
    expect((await t.recommend.model()).pairCount('p1', 'p2')).toBe(1);
    const rows = await rawStore(getStore()).query<{ payload_enc: unknown; processed_at: unknown }>(
      'select payload_enc, processed_at from inbox where shop_id = $1',
      [t.shopId],
    );
    expect(rows.every((r) => r.payload_enc === null && r.processed_at !== null)).toBe(true);
  });

  it('inbox - a delivery without a handler stays pending with its reason; nothing is lost', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    // A kind this version does not know, as a newer instance might have stored it.
    await t.inbox.receive(t.shopId, { kind: 'loyalty_points', points: 3 } as never, meta('e1', 'loyalty/update'));
    expect(await t.processInbox()).toMatchObject({ processed: 0, failed: 1 });
    const [row] = await rawStore(getStore()).query<{ last_error: string; processed_at: unknown }>(
      'select last_error, processed_at from inbox where shop_id = $1',
      [t.shopId],
    );
    expect(row!.processed_at).toBeNull();
    expect(row!.last_error).toMatch(/No handler for "loyalty_points"/);
    const handled: string[] = [];
    expect(
      await t.processInbox({
        extra: { loyalty_points: async (e: { kind: string }) => void handled.push(e.kind) } as never,
      }),
    ).toMatchObject({ processed: 1 });
    expect(handled).toEqual(['loyalty_points']);
  });

  it('compliance - customers/redact erases the person and the named orders; data_request stores a bundle; shop/redact removes every row', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const when = new Date('2026-04-30T10:00:00Z');
    await t.consent.record({
      subject: { email: 'gus@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: when,
      source: { system: 'cli', eventId: 'g1', method: 'form' },
    });
    await t.orders.ingest(
      [
        {
          id: 'o1',
          email: 'gus@example.com',
          createdAt: when,
          updatedAt: when,
          lines: [
            { productId: 'p1', title: 'Tea', quantity: 1 },
            { productId: 'p2', title: 'Cups', quantity: 1 },
          ],
        },
        {
          id: 'o2',
          customerId: '77',
          createdAt: when,
          updatedAt: when,
          lines: [
            { productId: 'p1', title: 'Tea', quantity: 1 },
            { productId: 'p2', title: 'Cups', quantity: 1 },
          ],
        },
      ],
      'shopify',
    );
    expect((await t.recommend.model()).pairCount('p1', 'p2')).toBe(2);
    await t.inbox.receive(
      t.shopId,
      { kind: 'data_request', email: 'gus@example.com', orderIds: ['o1'], requestId: 'dr-1' },
      meta('c1', 'customers/data_request'),
    );
    await t.inbox.receive(
      t.shopId,
      { kind: 'erase_customer', email: 'gus@example.com', orderIds: ['o2'], requestId: 'rd-1' },
      meta('c2', 'customers/redact'),
    );
    expect(await t.processInbox()).toMatchObject({ processed: 2, failed: 0 });
    expect(await t.privacy.dataRequests()).toEqual([
      { requestId: 'dr-1', preparedAt: expect.any(String), subjectId: expect.any(String) },
    ]);
    expect(JSON.stringify((await t.privacy.dataRequest('dr-1')).bundle)).toContain('gus@example.com');
    expect((await t.recommend.model()).pairCount('p1', 'p2')).toBe(0);
    expect(await rawStore(getStore()).query('select order_id from orders where shop_id = $1', [t.shopId])).toEqual([]);
    expect(isTactfulError(await t.consent.show('gus@example.com').catch((e: unknown) => e), 'SUBJECT.NOT_FOUND')).toBe(
      true,
    );
    expect((await t.audit.verify()).ledger.ok).toBe(true);
    // A guest's order after the person's erasure: the model changes again (and logs the change).
    await t.orders.ingest(
      [
        {
          id: 'o3',
          createdAt: when,
          updatedAt: when,
          lines: ['p1', 'p2'].map((p) => ({ productId: p, title: p, quantity: 1 })),
        },
      ],
      'shopify',
    );
    expect((await t.recommend.model()).pairCount('p1', 'p2')).toBe(1);

    await t.inbox.receive(t.shopId, { kind: 'uninstalled', platformShopId: '42' }, meta('c3', 'app/uninstalled'));
    await t.inbox.receive(
      t.shopId,
      { kind: 'erase_shop', requestId: 'sr-1', platformShopId: '42' },
      { ...meta('c4', 'shop/redact'), receivedAt: new Date('2026-05-03T00:00:00Z') },
    );
    expect(await t.processInbox()).toMatchObject({ processed: 2, refused: 0 });
    // Every table of the migrated database, read from its catalogue (not from the schema the erasure walks).
    const counts = await shopRowCounts(rawStore(getStore()), t.shopId);
    expect([...counts.keys()]).toEqual(expect.arrayContaining(['consent_ledger', 'model_changes', 'shops']));
    expect(Object.fromEntries([...counts].filter(([, n]) => n > 0))).toEqual({});
  });

  it("compliance - an instance that held an erased shop's key uses the new one once the shop is installed again", async () => {
    const shop = uniqueShop();
    // Instances a (reads) and w (writes) have key rings of their own, on a clock of the test's; b erases the shop.
    let ms = 0;
    const ring = () => new KeyRing(rawStore(getStore()).masterKey, () => ms);
    const a = await createTactful({ store: getStore(), shop, keys: ring() });
    const w = await createTactful({ store: getStore(), shop, keys: ring() });
    const b = await createTactful({ store: getStore(), shop });
    const grant = (t: Tactful, email: string, eventId: string) =>
      t.consent.record({
        subject: { email },
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: new Date('2026-05-01T00:00:00Z'),
        source: { system: 'cli', eventId, method: 'form' },
      });
    const granted = async (t: Tactful, email: string) =>
      (await t.consent.show(email)).purposes.find((p) => p.purpose === 'email_marketing')?.state;
    await grant(a, 'dana@example.com', 'k1');
    expect(await granted(w, 'dana@example.com')).toBe('granted');
    await b.inbox.receive(shop, { kind: 'uninstalled', platformShopId: '9' }, meta('u1', 'app/uninstalled'));
    await b.inbox.receive(
      shop,
      { kind: 'erase_shop', requestId: 'r1', platformShopId: '9' },
      { ...meta('r1', 'shop/redact'), receivedAt: new Date('2026-05-03T00:00:00Z') },
    );
    expect(await b.processInbox()).toMatchObject({ processed: 2, failed: 0, refused: 0 });
    // Installed again: a new shop key. Instance a never restarted.
    const again = await createTactful({ store: getStore(), shop });
    await grant(again, 'eve@example.com', 'k2');
    // A write of w's, under the shop's lock, is made with the new key at once: the new install reads it.
    await grant(w, 'finn@example.com', 'k3');
    expect(await granted(again, 'finn@example.com')).toBe('granted');
    // A read of a's, outside any lock, follows within a second of its clock.
    ms += 1_000;
    expect(await granted(a, 'eve@example.com')).toBe('granted');
    expect(await granted(a, 'finn@example.com')).toBe('granted');
    expect(isTactfulError(await a.consent.show('dana@example.com').catch((e: unknown) => e), 'SUBJECT.NOT_FOUND')).toBe(
      true,
    );
    expect((await again.audit.verify()).ledger.ok).toBe(true);
  });

  it('compliance - a shop is erased only after its uninstall, a day or more later, for the same platform shop; an install in between cancels it', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.consent.record({
      subject: { email: 'stay@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: new Date('2026-04-30T10:00:00Z'),
      source: { system: 'cli', eventId: 's1', method: 'form' },
    });
    const at = (iso: string, id: string, topic: string) => ({ ...meta(id, topic), receivedAt: new Date(iso) });
    const redact = (id: string, iso: string, platformShopId?: string) =>
      t.inbox.receive(t.shopId, { kind: 'erase_shop', requestId: id, platformShopId }, at(iso, id, 'shop/redact'));
    const reasons = async () =>
      (
        await rawStore(getStore()).query<{ last_error: string }>(
          "select last_error from inbox where shop_id = $1 and topic = 'shop/redact' order by received_at, delivery_id",
          [t.shopId],
        )
      ).map((r) => r.last_error);
    const stillThere = async () => (await t.audit.subjectIdOf('stay@example.com')) !== null;

    await redact('r1', '2026-05-01T00:00:00Z'); // installed: never uninstalled
    await t.inbox.receive(
      t.shopId,
      { kind: 'uninstalled', platformShopId: '7' },
      at('2026-05-02T00:00:00Z', 'u1', 'app/uninstalled'),
    );
    await redact('r2', '2026-05-02T01:00:00Z', '7'); // an hour after the uninstall
    await redact('r3', '2026-05-04T00:00:00Z', '8'); // another platform shop
    await t.inbox.receive(t.shopId, { kind: 'installed' }, at('2026-05-04T01:00:00Z', 'i1', 'install'));
    await redact('r4', '2026-05-05T00:00:00Z', '7'); // installed again
    expect(await t.processInbox()).toEqual({ processed: 2, failed: 0, refused: 4 });
    expect(await stillThere()).toBe(true);
    const refused = await reasons();
    expect(refused).toHaveLength(4);
    expect(refused.every((r) => r.startsWith('PRIVACY.SHOP_INSTALLED'))).toBe(true);
    expect(refused[0]).toMatch(/not uninstalled/);
    expect(refused[1]).toMatch(/less than a day/);
    expect(refused[2]).toMatch(/names shop id 8/);

    await t.inbox.receive(
      t.shopId,
      { kind: 'uninstalled', platformShopId: '7' },
      at('2026-05-06T00:00:00Z', 'u2', 'app/uninstalled'),
    );
    await redact('r5', '2026-05-08T00:00:00Z', '7');
    expect(await t.processInbox()).toMatchObject({ refused: 0 });
    expect(await rawStore(getStore()).query('select 1 from shops where shop_id = $1', [t.shopId])).toEqual([]);
  });

  it('inbox - a delivery whose content was seen before is a replay under any new id, also within one batch', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const event = { kind: 'product_deleted' as const, productId: 'p9', occurredAt: new Date('2026-05-01T00:00:00Z') };
    const withContent = (id: string, contentHash: string) => ({ ...meta(id, 'products/delete'), contentHash });
    expect(await t.inbox.receive(t.shopId, event, withContent('d1', 'same'))).toBe('accepted');
    expect(await t.inbox.receive(t.shopId, event, withContent('d2', 'same'))).toBe('duplicate');
    const burst = await Promise.all([
      t.inbox.receive(t.shopId, event, withContent('d3', 'other')),
      t.inbox.receive(t.shopId, event, withContent('d4', 'other')),
      t.inbox.receive(t.shopId, event, withContent('d5', 'third')),
    ]);
    expect(burst).toEqual(['accepted', 'duplicate', 'accepted']);
    // Without a digest only the id counts, as before.
    expect(await t.inbox.receive(t.shopId, event, meta('d6'))).toBe('accepted');
    const rows = await rawStore(getStore()).query<{ delivery_id: string }>(
      'select delivery_id from inbox where shop_id = $1 order by delivery_id',
      [t.shopId],
    );
    expect(rows.map((r) => r.delivery_id)).toEqual(['d1', 'd3', 'd5', 'd6']);
  });

  it('targets - consent changes reach the platform and the provider with their original time; per-item failures are kept', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    const when = new Date('2026-04-01T08:00:00Z');
    for (const [i, email] of ['a@example.com', 'b@example.com', 'c@example.com'].entries()) {
      await t.consent.record({
        subject: { email },
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: when,
        source: { system: 'cli', eventId: `g${i}`, method: 'form' },
      });
    }
    await t.consent.record({
      subject: { email: 'a@example.com' },
      purpose: 'personalization',
      state: 'granted',
      level: 'single',
      occurredAt: when,
      source: { system: 'cli', eventId: 'p0', method: 'form' },
    });
    const platform = memoryPlatform();
    const provider = memoryProvider('c@example.com');
    const report = await t.outbox.dispatcher({ targets: t.targets({ platform, provider }) }).drain();
    expect(report).toMatchObject({ delivered: 7, deadLettered: 1 });
    expect(platform.pushed.map((p) => [p.email, p.state, p.occurredAt.toISOString(), p.firstParty])).toEqual([
      ['a@example.com', 'granted', when.toISOString(), true],
      ['b@example.com', 'granted', when.toISOString(), true],
      ['c@example.com', 'granted', when.toISOString(), true],
    ]);
    expect(provider.changes.map((c) => c.email)).toEqual(['a@example.com', 'b@example.com']);
    const [dead] = await rawStore(getStore()).query<{ last_error: string }>(
      `select last_error from outbox where shop_id = $1 and status = 'dead'`,
      [t.shopId],
    );
    expect(dead!.last_error).toMatch(/MAILCHIMP.MEMBER_IN_COMPLIANCE_STATE/);
  });
  it('inbox - a claim of orders, customers and consent is handled in batches and ends as one by one does; a poison delivery alone is refused', async () => {
    const store = getStore();
    const clock = () => new Date('2026-05-01T00:00:00Z');
    const batched = await createTactful({ store, shop: uniqueShop(), now: clock });
    const oneByOne = await createTactful({ store, shop: uniqueShop(), now: clock });
    for (const t of [batched, oneByOne]) await t.settings.update({ connectedSystems: ['shopify'] });
    // The real handler, with a note of what it was given: whole batches, or single deliveries.
    const real = handleInbound(engineInternals(batched).keys, clock)();
    const runs: string[][] = [];
    const singles: string[] = [];
    const handler: InboundHandler = Object.assign(
      (event: InboundEvent, m: Parameters<InboundHandler>[1], db: Parameters<InboundHandler>[2]) => {
        singles.push(m.deliveryId);
        return real(event, m, db);
      },
      {
        batch: {
          join: real.batch!.join,
          run: (
            deliveries: Parameters<NonNullable<InboundHandler['batch']>['run']>[0],
            db: Parameters<InboundHandler>[2],
          ) => {
            runs.push(deliveries.map((d) => d.meta.deliveryId));
            return real.batch!.run(deliveries, db);
          },
        },
      },
    );
    const { db } = rawStore(store);
    const deliver = async (round: 'a' | 'b') => {
      for (const [i, [event, topic]] of mixedDeliveries(round).entries()) {
        const m = {
          system: 'shopify',
          deliveryId: `${round}${String(i).padStart(2, '0')}`,
          receivedAt: new Date(Date.UTC(2026, 4, 1, 0, 0, i)),
          topic,
        };
        for (const t of [batched, oneByOne]) await t.inbox.receive(t.shopId, event, m);
      }
    };

    await deliver('a');
    const first = await processInboxClaim(db, engineInternals(batched).keys, handler, {
      shopId: batched.shopId,
      now: clock,
    });
    expect(first).toEqual({ processed: 10, failed: 0, refused: 1, claimed: 11 });
    // Hal's customer record follows his order: a new batch starts there, and with his consent another one; Fay's
    // consent follows her order's update, her customer record her consent.
    expect(runs).toEqual([
      ['a00', 'a01', 'a02', 'a03', 'a04', 'a05'],
      ['a07', 'a08'],
    ]);
    // The first batch held the poison delivery: it was rolled back and its deliveries handled one at a time.
    expect(singles).toEqual(['a00', 'a01', 'a02', 'a03', 'a04', 'a05', 'a06', 'a09', 'a10']);
    expect(await oneByOne.processInbox({ batches: false })).toEqual({ processed: 10, failed: 0, refused: 1 });

    // Without a poison delivery the batches commit as a whole, but the one with an address change.
    runs.length = 0;
    singles.length = 0;
    await deliver('b');
    expect(
      await processInboxClaim(db, engineInternals(batched).keys, handler, { shopId: batched.shopId, now: clock }),
    ).toEqual({ processed: 11, failed: 0, refused: 0, claimed: 11 });
    expect(runs).toEqual([
      ['b00', 'b01', 'b02', 'b03', 'b04'],
      ['b06', 'b07'],
      ['b09', 'b10'],
    ]);
    expect(singles).toEqual(['b05', 'b08', 'b09', 'b10']);
    expect(await oneByOne.processInbox({ batches: false })).toEqual({ processed: 11, failed: 0, refused: 0 });

    const want = await endState(oneByOne, store);
    expect(await endState(batched, store)).toEqual(want);
    const refused = want.inbox.filter((r) => r.last_error);
    expect(refused).toEqual([
      { delivery_id: 'a04', done: true, attempts: 1, last_error: expect.stringMatching(/CONSENT.UNKNOWN_PURPOSE/) },
    ]);
    expect(want.orders.filter((o) => o[1])).toHaveLength(3);
  });

  it('inbox - a claim stops handling once its budget is spent and leaves the rest, in order, for the next claim', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop() });
    const events: InboundEvent[] = [];
    for (let i = 0; i < 4; i++)
      events.push({
        kind: 'order',
        order: {
          id: `o${i}`,
          email: `p${i}@example.com`,
          createdAt: day(i),
          updatedAt: day(i),
          lines: [{ productId: 'p1', title: 'Tea', quantity: 1 }],
        },
      });
    for (let i = 0; i < 3; i++) events.push({ kind: 'product_deleted', productId: `x${i}`, occurredAt: day(i) });
    for (const [i, event] of events.entries())
      await t.inbox.receive(t.shopId, event, { ...meta(`d${i}`), receivedAt: new Date(Date.UTC(2026, 4, 1, 0, 0, i)) });
    // Every reading of the clock is 10 ms later: the batch of four orders and two lone deliveries fit in 25 ms.
    let ms = 0;
    const clock = () => (ms += 10);
    const { db } = rawStore(store);
    const { keys } = engineInternals(t);
    const handler = handleInbound(keys, () => new Date())();
    const options = { shopId: t.shopId, budgetMs: 25, clock };
    expect(await processInboxClaim(db, keys, handler, options)).toEqual({
      processed: 6,
      failed: 0,
      refused: 0,
      claimed: 7,
    });
    const pending = async () =>
      (
        await rawStore(store).query<{ delivery_id: string; attempts: number }>(
          'select delivery_id, attempts from inbox where shop_id = $1 and processed_at is null order by delivery_id',
          [t.shopId],
        )
      ).map((r) => [r.delivery_id, r.attempts]);
    expect(await pending()).toEqual([['d6', 0]]);
    expect(await processInboxClaim(db, keys, handler, options)).toEqual({
      processed: 1,
      failed: 0,
      refused: 0,
      claimed: 1,
    });
    expect(await pending()).toEqual([]);
    // No budget: one claim takes everything, whatever the clock says.
    await t.inbox.receive(t.shopId, events[4]!, meta('e1'));
    await t.inbox.receive(t.shopId, events[5]!, meta('e2'));
    expect(await processInboxClaim(db, keys, handler, { shopId: t.shopId, clock })).toMatchObject({
      processed: 2,
      claimed: 2,
    });
  });

  it('inbox - a webhook received while a backlog is processed is stored between two claims, not after the backlog', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop() });
    for (let i = 0; i < 6; i++)
      await t.inbox.receive(
        t.shopId,
        { kind: 'product_deleted', productId: `x${i}`, occurredAt: day(i) },
        meta(`b${i}`),
      );
    const { db } = rawStore(store);
    const { keys } = engineInternals(t);
    const handler = handleInbound(keys, () => new Date())();
    const order: string[] = [];
    // Scheduled before the backlog's processing starts, as a request read from its socket meanwhile would be.
    // Embedded PGlite settles its statements without a turn of the event loop: without one between claims,
    // this request would be read only once every claim was done.
    setTimeout(() => {
      void t.inbox
        .receive(t.shopId, { kind: 'product_deleted', productId: 'late', occurredAt: day(9) }, meta('late'))
        .then((outcome) => order.push(`webhook ${outcome}`));
    }, 0);
    const report = await processInbox(db, keys, handler, { shopId: t.shopId, limit: 2 });
    order.push('backlog done');
    expect(order).toEqual(['webhook accepted', 'backlog done']);
    // The late delivery is processed in its turn, by the same run.
    expect(report).toEqual({ processed: 7, failed: 0, refused: 0 });
  });
});
