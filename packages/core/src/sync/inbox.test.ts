import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import type { CommercePlatform, ConsentPush, EmailProvider, MemberChange, PushResult } from '../ports.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';

const meta = (deliveryId: string, topic = 'test') => ({ system: 'shopify', deliveryId, receivedAt: new Date('2026-05-01T00:00:00Z'), topic });

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
        if (c.email === failEmail) return { email: c.email, ok: false, code: 'MAILCHIMP.MEMBER_IN_COMPLIANCE_STATE', message: 'no', retryable: false };
        changes.push(c);
        return { email: c.email, ok: true };
      }),
    listMembers: async () => ({ items: [] }),
    getMember: async () => null,
  };
}

describeEachStore('inbox and delivery targets', (getStore) => {
  it('inbox - a delivery is stored once (replays are duplicates) and processed into consent, orders and products', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    const consent = { kind: 'consent' as const, externalId: 'gid://shopify/Customer/1', consent: { email: 'Fay@Example.com', purpose: 'email_marketing', state: 'granted' as const, level: 'single' as const, occurredAt: new Date('2026-04-30T10:00:00Z'), sourceEventId: 'c1', method: 'checkout' as const } };
    expect(await t.inbox.receive(t.shopId, consent, meta('d1'))).toBe('accepted');
    expect(await t.inbox.receive(t.shopId, consent, meta('d1'))).toBe('duplicate');
    await t.inbox.receive(t.shopId, { kind: 'product', product: { id: 'p1', title: 'Tea', available: true, category: 'drinks' } }, meta('d2'));
    await t.inbox.receive(t.shopId, { kind: 'order', order: { id: 'o1', email: 'fay@example.com', createdAt: new Date('2026-04-30T10:00:00Z'), updatedAt: new Date('2026-04-30T10:00:00Z'), lines: [{ productId: 'p1', title: 'Tea', quantity: 2 }, { productId: 'p2', title: 'Cups', quantity: 1 }] } }, meta('d3'));
    const report = await t.processInbox();
    expect(report).toEqual({ processed: 3, failed: 0, refused: 0 });
    const view = await t.consent.show('fay@example.com');
    expect(view.purposes[0]).toMatchObject({ state: 'granted', since: new Date('2026-04-30T10:00:00Z'), source: { system: 'shopify', eventId: 'c1' } });
    expect((await t.recommend.model()).pairCount('p1', 'p2')).toBe(1);
    const rows = await getStore().query<{ payload_enc: unknown; processed_at: unknown }>('select payload_enc, processed_at from inbox where shop_id = $1', [t.shopId]);
    expect(rows.every((r) => r.payload_enc === null && r.processed_at !== null)).toBe(true);
  });

  it('inbox - a delivery without a handler stays pending with its reason; nothing is lost', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.inbox.receive(t.shopId, { kind: 'erase_shop', requestId: 'r1' }, meta('e1', 'shop/redact'));
    expect(await t.processInbox()).toMatchObject({ processed: 0, failed: 1 });
    const [row] = await getStore().query<{ last_error: string; processed_at: unknown }>('select last_error, processed_at from inbox where shop_id = $1', [t.shopId]);
    expect(row!.processed_at).toBeNull();
    expect(row!.last_error).toMatch(/No handler for "erase_shop"/);
    const handled: string[] = [];
    expect(await t.processInbox({ extra: { erase_shop: async (e) => void handled.push(e.kind) } })).toMatchObject({ processed: 1 });
    expect(handled).toEqual(['erase_shop']);
  });

  it('targets - consent changes reach the platform and the provider with their original time; per-item failures are kept', async () => {
    const t = await createTactful({ store: getStore(), shop: uniqueShop() });
    await t.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    const when = new Date('2026-04-01T08:00:00Z');
    for (const [i, email] of ['a@example.com', 'b@example.com', 'c@example.com'].entries()) {
      await t.consent.record({ subject: { email }, purpose: 'email_marketing', state: 'granted', level: 'single', occurredAt: when, source: { system: 'cli', eventId: `g${i}`, method: 'form' } });
    }
    await t.consent.record({ subject: { email: 'a@example.com' }, purpose: 'personalization', state: 'granted', level: 'single', occurredAt: when, source: { system: 'cli', eventId: 'p0', method: 'form' } });
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
    const [dead] = await getStore().query<{ last_error: string }>(`select last_error from outbox where shop_id = $1 and status = 'dead'`, [t.shopId]);
    expect(dead!.last_error).toMatch(/MAILCHIMP.MEMBER_IN_COMPLIANCE_STATE/);
  });
});
