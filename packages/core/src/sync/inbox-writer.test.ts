import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';

describeEachStore('inbox group commit', (getStore) => {
  it('a burst of concurrent deliveries is stored once each; replays in the burst or later are duplicates', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('inbox-writer') });
    const at = new Date('2026-05-01T10:00:00Z');
    const deliver = (id: number) =>
      t.inbox.receive(
        t.shopId,
        { kind: 'product_deleted', productId: `p${id}`, occurredAt: at },
        { system: 'shopify', deliveryId: `d${id}`, receivedAt: at, topic: 'products/delete' },
      );
    // 300 deliveries at once, every 10th sent twice in the same burst.
    const ids = Array.from({ length: 300 }, (_, i) => i);
    const outcomes = await Promise.all([...ids, ...ids.filter((i) => i % 10 === 0)].map(deliver));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(300);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(30);
    const [row] = await rawStore(store).query<{ n: number }>(
      'select count(*)::int as n from inbox where shop_id = $1',
      [t.shopId],
    );
    expect(row!.n).toBe(300);
    expect(await deliver(7)).toBe('duplicate');
    // Another shop's delivery with the same id is its own.
    const other = await createTactful({ store, shop: uniqueShop('inbox-writer-other') });
    expect(
      await other.inbox.receive(
        other.shopId,
        { kind: 'product_deleted', productId: 'p7', occurredAt: at },
        { system: 'shopify', deliveryId: 'd7', receivedAt: at, topic: 'products/delete' },
      ),
    ).toBe('accepted');
  });

  it('a failed insert rejects every delivery of its batch and stores none of them', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('inbox-writer-fail') });
    const at = new Date('2026-05-01T10:00:00Z');
    // A NUL cannot be stored in a text column: the whole statement fails, nobody is acknowledged.
    const bad = t.inbox.receive(
      t.shopId,
      { kind: 'uninstalled' },
      { system: 'shopify', deliveryId: 'bad', receivedAt: at, topic: 'app/uninstalled\u0000' },
    );
    await expect(bad).rejects.toThrow();
    const [row] = await rawStore(store).query<{ n: number }>(
      'select count(*)::int as n from inbox where shop_id = $1',
      [t.shopId],
    );
    expect(row!.n).toBe(0);
    expect(
      await t.inbox.receive(
        t.shopId,
        { kind: 'uninstalled' },
        { system: 'shopify', deliveryId: 'good', receivedAt: at, topic: 'app/uninstalled' },
      ),
    ).toBe('accepted');
  });

  it('deliveries that arrive in separate turns of the event loop while none is written are written together', async () => {
    const store = getStore();
    const t = await createTactful({ store, shop: uniqueShop('inbox-writer-turns') });
    const at = new Date('2026-05-01T10:00:00Z');
    // As requests are read from their sockets: each in its own callback. PGlite settles a statement without a
    // turn of the event loop, so a write begun by the first would finish before the second was read.
    const outcomes = await Promise.all(
      Array.from(
        { length: 20 },
        (_, i) =>
          new Promise((resolve, reject) =>
            setImmediate(() =>
              t.inbox
                .receive(
                  t.shopId,
                  { kind: 'product_deleted', productId: `p${i}`, occurredAt: at },
                  { system: 'shopify', deliveryId: `turn${i}`, receivedAt: at, topic: 'products/delete' },
                )
                .then(resolve, reject),
            ),
          ),
      ),
    );
    expect(outcomes).toEqual(Array(20).fill('accepted'));
    // One transaction wrote them all: every row carries the same creating transaction id.
    const [row] = await rawStore(store).query<{ rows: number; transactions: number }>(
      'select count(*)::int as rows, count(distinct xmin::text)::int as transactions from inbox where shop_id = $1',
      [t.shopId],
    );
    expect(row).toEqual({ rows: 20, transactions: 1 });
  });
});
