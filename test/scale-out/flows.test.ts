/**
 * Scale out: two instances (two stores, two pools, two engines) run the same shop's due flow steps at the same
 * time against one PostgreSQL. Steps are leased with FOR UPDATE SKIP LOCKED: every order's email goes out once,
 * nobody held out gets one, and no step is left half-done. PostgreSQL only (PGlite is one process); CI sets
 * DATABASE_URL.
 */
import { describe, expect, it } from 'vitest';
import { createTactful } from '@tactful/core';
import { createMemoryEmailProvider, rawStore, storeTargets, uniqueShop } from '@tactful/core/testing';

import { bothConsentsGranted, teaAndCoffeeHistory } from '../support/flow-shop.js';
import { twoStoresOnOwnDatabase } from './two-stores.js';

const target = storeTargets().find((t) => t.name === 'postgres');

describe.runIf(target !== undefined)('flow steps with two instances on one PostgreSQL', () => {
  const stores = twoStoresOnOwnDatabase(target!, 'tactful_flows');

  it('every due step is sent once or held out once, whichever instance took it', async () => {
    const shop = uniqueShop('flowscale');
    const t0 = new Date('2026-05-04T12:00:00Z');
    let now = t0;
    const one = await createTactful({ store: stores.a, shop, now: () => now });
    const two = await createTactful({ store: stores.b, shop, now: () => now });
    await one.contact.setPolicy({ quietHours: null, caps: [{ max: 10, days: 1 }] });
    await one.products.upsert(
      ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({ id, title: id, available: true })),
    );
    const people = Array.from({ length: 40 }, (_, i) => `p${i}@example.com`);
    await one.consent.recordBatch(bothConsentsGranted(people, new Date(t0.getTime() - 40 * 86_400_000)));
    await one.orders.ingest(teaAndCoffeeHistory(new Date(t0.getTime() - 30 * 86_400_000)), 'shopify');
    await one.flows.set('post-purchase', { enabled: true, holdoutShare: 0.2, journeyId: '9', stepId: '1' });
    await one.orders.ingest(
      people.map((email, i) => ({
        id: `o${i}`,
        email,
        createdAt: t0,
        updatedAt: t0,
        lines: [{ productId: i % 2 ? 'tea' : 'coffee', title: 'x', quantity: 1 }],
      })),
      'shopify',
    );
    now = new Date(t0.getTime() + 7 * 86_400_000 + 3_600_000);
    // One provider behind both instances, like one Mailchimp account.
    const mail = createMemoryEmailProvider();
    const deps = { provider: mail.provider, publicUrl: 'https://t.example' };
    const drain = async (engine: typeof one, instanceId: string) => {
      let sent = 0;
      for (;;) {
        const r = await engine.flows.runDue(deps, { limit: 4, instanceId });
        sent += r.sent;
        if (r.leased === 0) return sent;
      }
    };
    const [sentA, sentB] = await Promise.all([drain(one, 'a'), drain(two, 'b')]);
    const rows = await rawStore(stores.a).query<{ order_id: string; status: string }>(
      'select order_id, status from flow_steps where shop_id = $1',
      [shop],
    );
    const byStatus = (s: string) => rows.filter((r) => r.status === s).map((r) => r.order_id);
    expect(rows).toHaveLength(40);
    expect(byStatus('sending')).toEqual([]);
    expect(byStatus('sent').length + byStatus('held_out').length + byStatus('skipped').length).toBe(40);
    const keys = mail.journeys.map((j) => j.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual(
      byStatus('sent')
        .map((o) => `flow:post-purchase:${o}`)
        .sort(),
    );
    expect(sentA + sentB).toBe(keys.length);
    for (const held of byStatus('held_out')) expect(keys).not.toContain(`flow:post-purchase:${held}`);
    expect(byStatus('held_out').length).toBeGreaterThan(0);
    expect(sentA).toBeGreaterThan(0);
    expect(sentB).toBeGreaterThan(0);
  });
});
