import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createTactful, openStore, type Store } from '@tactful/core';
import { describeEachStore, uniqueShop } from '@tactful/core/testing';
import { createShopifyPlatform, storeCheckpointStore } from '../index.js';
import { importOrders } from './import.js';
import { createShopifySandbox, seedFromGroceries } from '../testing/index.js';
import { readGroceries } from '../../../../test/support/groceries.js';

const groceries = readGroceries();

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const sleep = async () => undefined;

describeEachStore('bulk import claim across instances', (getStore, target) => {
  // On PostgreSQL the second instance has a connection pool of its own, as a second process would.
  let second: Store | undefined;
  beforeAll(async () => {
    if (target.name === 'postgres') second = await openStore({ url: target.url, secret: target.secret });
  });
  afterAll(async () => {
    await second?.close();
  });

  async function twoInstances() {
    const sandbox = createShopifySandbox();
    server.use(...sandbox.handlers);
    const shop = uniqueShop('bulk');
    const instance = async (store: Store) =>
      createShopifyPlatform({
        shop: sandbox.shop,
        accessToken: sandbox.accessToken,
        sleep,
        bulk: { pollIntervalMs: 1 },
        checkpoints: storeCheckpointStore(await createTactful({ store, shop }), { name: 'orders' }),
      });
    const a = await instance(getStore());
    const b = await instance(second ?? getStore());
    return { sandbox, shop, a, b };
  }

  it('a second instance does not start a second import of the shop while one runs, and may run once it ended', async () => {
    const { sandbox, a, b } = await twoInstances();
    seedFromGroceries(sandbox, groceries, { orders: 40 });
    const running = a.streamAllOrders()[Symbol.asyncIterator]();
    const first: string[] = [];
    for (let i = 0; i < 10; i++) first.push((await running.next()).value!.id);
    await expect(b.streamAllOrders()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SHOPIFY.BULK_CLAIMED',
      retryable: true,
    });
    expect(sandbox.state.bulkOperations.size).toBe(1);
    for (;;) {
      const next = await running.next();
      if (next.done) break;
      first.push(next.value.id);
    }
    expect(new Set(first).size).toBe(40);
    // The lease is given back at the end: the other instance's next import runs (a new operation).
    let again = 0;
    for await (const _ of b.streamAllOrders()) again += 1;
    expect(again).toBe(40);
    expect(sandbox.state.bulkOperations.size).toBe(2);
  });

  it('a crashed holder blocks others until its lease runs out; the next instance resumes from its checkpoint, none twice', async () => {
    const { sandbox, shop, a, b } = await twoInstances();
    seedFromGroceries(sandbox, groceries, { orders: 50 });
    // Instance A, with a lease of 400 ms, dies after 20 orders: it never returns, so it never gives the lease back.
    const dying = importOrders({
      client: a.client,
      checkpoints: storeCheckpointStore(await createTactful({ store: getStore(), shop }), { name: 'orders' }),
      pollIntervalMs: 1,
      timeoutMs: 60_000,
      groupObjects: false,
      window: 1000,
      checkpointEvery: 1,
      sleep,
      leaseMs: 400,
    });
    const delivered: string[] = [];
    for (let i = 0; i < 20; i++) delivered.push((await dying.next()).value!.id);
    // Asking for the 21st order acknowledges the 20th (it then dies holding the 21st, unprocessed).
    await dying.next();
    await expect(b.streamAllOrders()[Symbol.asyncIterator]().next()).rejects.toMatchObject({
      code: 'SHOPIFY.BULK_CLAIMED',
    });
    await new Promise((r) => setTimeout(r, 600));
    for await (const order of b.streamAllOrders()) delivered.push(order.id);
    expect(delivered).toHaveLength(50);
    expect(new Set(delivered).size).toBe(50);
    expect(sandbox.state.bulkOperations.size).toBe(1);
  });
});
