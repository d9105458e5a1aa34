/**
 * Scale out: two app instances (two stores, two pools, two engines) share one PostgreSQL and must never do
 * the same work. Deliveries of the inbox and rows of the outbox are claimed with FOR UPDATE SKIP LOCKED;
 * these tests run the two instances at the same time and count what each one did.
 * PostgreSQL only (PGlite is one process); CI sets DATABASE_URL, locally `source /tmp/pgenv`.
 */
import { describe, expect, it } from 'vitest';
import { createTactful } from '@tactful/core';
import { storeTargets, uniqueShop, rawStore } from '@tactful/core/testing';

import { twoStoresOnOwnDatabase } from './two-stores.js';

const target = storeTargets().find((t) => t.name === 'postgres');

describe.runIf(target !== undefined)('two instances on one PostgreSQL', () => {
  const stores = twoStoresOnOwnDatabase(target!, 'tactful_scale');

  it('inbox - two workers process every delivery exactly once, even when deliveries touch the same people', async () => {
    const shop = uniqueShop('scale');
    const one = await createTactful({ store: stores.a, shop });
    const two = await createTactful({ store: stores.b, shop });
    const deliveries = 240;
    const at = new Date('2026-05-01T00:00:00Z');
    // 40 people, six deliveries each (consent changes and orders), so concurrent workers meet on the same rows.
    for (let i = 0; i < deliveries; i++) {
      const email = `p${i % 40}@example.com`;
      const occurredAt = new Date(at.getTime() + i * 1000);
      const event =
        i % 2 === 0
          ? {
              kind: 'consent' as const,
              consent: {
                email,
                purpose: 'email_marketing',
                state: (i % 4 === 0 ? 'granted' : 'withdrawn') as 'granted' | 'withdrawn',
                level: 'single' as const,
                occurredAt,
                sourceEventId: `c${i}`,
                method: 'checkout' as const,
              },
            }
          : {
              kind: 'order' as const,
              order: {
                id: `o${i}`,
                email,
                createdAt: occurredAt,
                updatedAt: occurredAt,
                lines: [
                  { productId: `p${i % 7}`, title: 'x', quantity: 1 },
                  { productId: `p${(i + 3) % 7}`, title: 'y', quantity: 1 },
                ],
              },
            };
      await one.inbox.receive(shop, event, {
        system: 'shopify',
        deliveryId: `d${i}`,
        receivedAt: occurredAt,
        topic: event.kind,
      });
    }
    const work = async (t: typeof one) => {
      const total = { processed: 0, failed: 0, refused: 0 };
      for (let round = 0; round < 200; round++) {
        const r = await t.processInbox({ limit: 7 });
        total.processed += r.processed;
        total.failed += r.failed;
        total.refused += r.refused;
        const [left] = await rawStore(stores.a).query<{ n: number }>(
          'select count(*)::int as n from inbox where shop_id = $1 and processed_at is null',
          [shop],
        );
        if (left!.n === 0) break;
      }
      return total;
    };
    const [ra, rb] = await Promise.all([work(one), work(two)]);
    expect(ra.processed + rb.processed + ra.refused + rb.refused).toBe(deliveries);
    // No attempt failed: the workers never deadlocked on the shop's head and the model's row.
    expect(ra.failed + rb.failed).toBe(0);
    const rows = await rawStore(stores.a).query<{ attempts: number; n: number }>(
      'select attempts, count(*)::int as n from inbox where shop_id = $1 group by attempts',
      [shop],
    );
    expect(rows).toEqual([{ attempts: 1, n: deliveries }]);
    const [ledger] = await rawStore(stores.a).query<{ n: number }>(
      'select count(*)::int as n from consent_ledger where shop_id = $1 and source_system = $2',
      [shop, 'shopify'],
    );
    expect(ledger!.n).toBe(deliveries / 2);
    const [orders] = await rawStore(stores.a).query<{ n: number }>(
      'select count(*)::int as n from orders where shop_id = $1',
      [shop],
    );
    expect(orders!.n).toBe(deliveries / 2);
    expect((await one.audit.verify()).ledger.ok).toBe(true);
  });

  it('inbox - workers serving every shop split the shops between them: each delivery once, both busy', async () => {
    const shops = [uniqueShop('scale'), uniqueShop('scale'), uniqueShop('scale'), uniqueShop('scale')];
    const engines = await Promise.all(
      shops.map((shop, i) => createTactful({ store: i % 2 === 0 ? stores.a : stores.b, shop })),
    );
    const at = new Date('2026-05-02T00:00:00Z');
    for (const [i, shop] of shops.entries()) {
      for (let k = 0; k < 30; k++) {
        const occurredAt = new Date(at.getTime() + k * 1000);
        await engines[i]!.inbox.receive(
          shop,
          {
            kind: 'order',
            order: {
              id: `o${k}`,
              email: `s${k % 5}@example.com`,
              createdAt: occurredAt,
              updatedAt: occurredAt,
              lines: [
                { productId: `p${k % 4}`, title: 'x', quantity: 1 },
                { productId: `p${(k + 1) % 4}`, title: 'y', quantity: 1 },
              ],
            },
          },
          { system: 'shopify', deliveryId: `d${k}`, receivedAt: occurredAt, topic: 'orders/create' },
        );
      }
    }
    const mine = `shop_id in (${shops.map((_, i) => `$${i + 1}`).join(', ')})`;
    const work = async (t: (typeof engines)[number]) => {
      let processed = 0;
      for (let round = 0; round < 200; round++) {
        // One shop at a time per call: the limit is smaller than one shop's deliveries.
        const r = await t.processInbox({ allShops: true, limit: 10 });
        processed += r.processed;
        if (r.failed > 0) {
          const errors = await rawStore(stores.a).query<{ last_error: string }>(
            `select distinct last_error from inbox where ${mine} and last_error is not null`,
            shops,
          );
          expect.fail(`${r.failed} deliveries failed: ${errors.map((e) => e.last_error).join('; ')}`);
        }
        const [left] = await rawStore(stores.a).query<{ n: number }>(
          `select count(*)::int as n from inbox where ${mine} and processed_at is null`,
          shops,
        );
        if (left!.n === 0) break;
      }
      return processed;
    };
    const [pa, pb] = await Promise.all([work(engines[0]!), work(engines[1]!)]);
    expect(pa + pb).toBe(shops.length * 30);
    expect(pa).toBeGreaterThan(0);
    expect(pb).toBeGreaterThan(0);
    const rows = await rawStore(stores.a).query<{ attempts: number; n: number }>(
      `select attempts, count(*)::int as n from inbox where ${mine} group by attempts`,
      shops,
    );
    expect(rows).toEqual([{ attempts: 1, n: shops.length * 30 }]);
    const [orders] = await rawStore(stores.a).query<{ n: number }>(
      `select count(*)::int as n from orders where ${mine}`,
      shops,
    );
    expect(orders!.n).toBe(shops.length * 30);
  });

  it('outbox - two dispatchers on two instances deliver every row exactly once', async () => {
    const shop = uniqueShop('scale');
    const one = await createTactful({ store: stores.a, shop });
    const two = await createTactful({ store: stores.b, shop });
    await one.settings.update({ connectedSystems: ['memory'] });
    const people = 120;
    for (let i = 0; i < people; i++) {
      await one.consent.record({
        subject: { email: `q${i}@example.com` },
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt: new Date('2026-05-01T00:00:00Z'),
        source: { system: 'cli', eventId: `e${i}`, method: 'form' },
      });
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
