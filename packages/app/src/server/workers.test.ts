import { embeddedTestStore } from '@tactful/core/testing';
import { createTactful, type Store } from '@tactful/core';
import pino from 'pino';
import { beforeAll, expect, it } from 'vitest';
import { startWorkers } from './workers.js';

let store: Store;
beforeAll(async () => {
  store = await embeddedTestStore();
});

it('workers - a webhook delivery acknowledged by a route is processed shortly after, without anyone waiting on it', async () => {
  const tactful = await createTactful({ store, shop: 'workers.myshopify.com' });
  const occurredAt = new Date('2026-05-01T10:00:00Z');
  await tactful.inbox.receive(
    tactful.shopId,
    {
      kind: 'consent',
      consent: {
        email: 'hal@example.com',
        purpose: 'email_marketing',
        state: 'granted',
        level: 'single',
        occurredAt,
        sourceEventId: 'w1',
        method: 'checkout',
      },
    },
    { system: 'shopify', deliveryId: 'd-1', receivedAt: new Date(), topic: 'customers_email_marketing_consent/update' },
  );
  const workers = startWorkers(tactful, pino({ level: 'silent' }), { intervalMs: 20 });
  try {
    let state = 'none';
    for (let i = 0; i < 200 && state !== 'granted'; i++) {
      await new Promise((r) => setTimeout(r, 25));
      state = (await tactful.consent.show('hal@example.com').catch(() => null))?.purposes[0]?.state ?? 'none';
    }
    expect(state).toBe('granted');
  } finally {
    await workers.stop();
  }
});
