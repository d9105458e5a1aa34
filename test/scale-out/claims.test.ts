/**
 * Scale out: two app instances (two stores, two pools, two engines) share one PostgreSQL and must never do
 * the same work. Deliveries of the inbox and rows of the outbox are claimed with FOR UPDATE SKIP LOCKED;
 * these tests run the two instances at the same time and count what each one did.
 * PostgreSQL only (PGlite is one process); CI sets DATABASE_URL, locally `source /tmp/pgenv`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, openStore, type Store } from '@tactful/core';
import { storeTargets, uniqueShop } from '@tactful/core/testing';

const target = storeTargets().find((t) => t.name === 'postgres');

describe.runIf(target !== undefined)('two instances on one PostgreSQL', () => {
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    if (target?.unavailable) throw new Error(target.unavailable);
    a = await openStore({ url: target!.url, secret: target!.secret });
    b = await openStore({ url: target!.url, secret: target!.secret });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('inbox - two workers process every delivery exactly once, even when deliveries touch the same people', async () => {
    const shop = uniqueShop('scale');
    const one = await createTactful({ store: a, shop });
    const two = await createTactful({ store: b, shop });
    const deliveries = 240;
    const at = new Date('2026-05-01T00:00:00Z');
    // 40 people, six deliveries each (consent changes and orders), so concurrent workers meet on the same rows.
    for (let i = 0; i < deliveries; i++) {
      const email = `p${i % 40}@example.com`;
      const occurredAt = new Date(at.getTime() + i * 1000);
      const event =
        i % 2 === 0
          ? { kind: 'consent' as const, consent: { email, purpose: 'email_marketing', state: (i % 4 === 0 ? 'granted' : 'withdrawn') as 'granted' | 'withdrawn', level: 'single' as const, occurredAt, sourceEventId: `c${i}`, method: 'checkout' as const } }
          : { kind: 'order' as const, order: { id: `o${i}`, email, createdAt: occurredAt, updatedAt: occurredAt, lines: [{ productId: `p${i % 7}`, title: 'x', quantity: 1 }, { productId: `p${(i + 3) % 7}`, title: 'y', quantity: 1 }] } };
      await one.inbox.receive(shop, event, { system: 'shopify', deliveryId: `d${i}`, receivedAt: occurredAt, topic: event.kind });
    }
    const work = async (t: typeof one) => {
      const total = { processed: 0, failed: 0, refused: 0 };
      for (let round = 0; round < 200; round++) {
        const r = await t.processInbox({ limit: 7 });
        total.processed += r.processed;
        total.failed += r.failed;
        total.refused += r.refused;
        const [left] = await a.query<{ n: number }>('select count(*)::int as n from inbox where shop_id = $1 and processed_at is null', [shop]);
        if (left!.n === 0) break;
      }
      return total;
    };
    const [ra, rb] = await Promise.all([work(one), work(two)]);
    expect(ra.processed + rb.processed + ra.refused + rb.refused).toBe(deliveries);
    // No attempt failed: the workers never deadlocked on the shop's head and the model's row.
    expect(ra.failed + rb.failed).toBe(0);
    const rows = await a.query<{ attempts: number; n: number }>('select attempts, count(*)::int as n from inbox where shop_id = $1 group by attempts', [shop]);
    expect(rows).toEqual([{ attempts: 1, n: deliveries }]);
    const [ledger] = await a.query<{ n: number }>('select count(*)::int as n from consent_ledger where shop_id = $1 and source_system = $2', [shop, 'shopify']);
    expect(ledger!.n).toBe(deliveries / 2);
    const [orders] = await a.query<{ n: number }>('select count(*)::int as n from orders where shop_id = $1', [shop]);
    expect(orders!.n).toBe(deliveries / 2);
    expect((await one.audit.verify()).ledger.ok).toBe(true);
  });

  it('outbox - two dispatchers on two instances deliver every row exactly once', async () => {
    const shop = uniqueShop('scale');
    const one = await createTactful({ store: a, shop });
    const two = await createTactful({ store: b, shop });
    await one.settings.update({ connectedSystems: ['memory'] });
    const people = 120;
    for (let i = 0; i < people; i++) {
      await one.consent.record({ subject: { email: `q${i}@example.com` }, purpose: 'email_marketing', state: 'granted', level: 'single', occurredAt: new Date('2026-05-01T00:00:00Z'), source: { system: 'cli', eventId: `e${i}`, method: 'form' } });
    }
    const received: Array<{ instance: string; id: number }> = [];
    const deliverer = (instance: string) => async (items: Array<{ id: number }>) => {
      await new Promise((r) => setTimeout(r, 2));
      for (const item of items) received.push({ instance, id: item.id });
      return items.map(() => ({ ok: true as const }));
    };
    const da = one.outbox.dispatcher({ targets: { memory: deliverer('a') }, claimLimit: 6 });
    const db = two.outbox.dispatcher({ targets: { memory: deliverer('b') }, claimLimit: 6 });
    await Promise.all([da.drain(), db.drain()]);
    const ids = received.map((r) => r.id);
    expect(ids).toHaveLength(people);
    expect(new Set(ids).size).toBe(people);
    expect(received.some((r) => r.instance === 'a')).toBe(true);
    expect(received.some((r) => r.instance === 'b')).toBe(true);
    expect(await one.outbox.counts()).toEqual({ pending: 0, done: people, dead: 0 });
  });
});
