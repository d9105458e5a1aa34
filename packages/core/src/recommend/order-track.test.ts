import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrderTrack } from './order-track.js';

interface Held {
  customer: string | null;
  items: number[];
  time: number | null;
}

/** The plain structure the track replaces: a Map of orders and a Map of each customer's order ids. */
class Reference {
  readonly orders = new Map<string, Held>();
  readonly customers = new Map<string, Set<string>>();
  add(id: string, held: Held): void {
    this.remove(id);
    this.orders.set(id, held);
    if (held.customer !== null) {
      let set = this.customers.get(held.customer);
      if (!set) this.customers.set(held.customer, (set = new Set()));
      set.add(id);
    }
  }
  remove(id: string): void {
    const held = this.orders.get(id);
    if (!held) return;
    this.orders.delete(id);
    if (held.customer !== null) {
      const set = this.customers.get(held.customer)!;
      set.delete(id);
      if (set.size === 0) this.customers.delete(held.customer);
    }
  }
}

function contents(track: OrderTrack) {
  const orders: Array<[string, Held]> = [];
  track.forEach((slot) =>
    orders.push([
      track.orderIdOf(slot),
      { customer: track.customerOf(slot), items: Array.from(track.items(slot)), time: track.timeOf(slot) },
    ]),
  );
  const customers = track.customers().map((c) => [c, track.slotsOf(c).map((s) => track.orderIdOf(s))]);
  return { orders, customers, size: track.size };
}

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    id: fc.integer({ min: 0, max: 40 }),
    customer: fc.option(fc.integer({ min: 0, max: 6 })),
    items: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 12 }),
    time: fc.option(fc.integer({ min: 0, max: 2 ** 40 })),
  }),
  fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: 40 }) }),
);

describe('the compact order track', () => {
  it('holds what a map of orders and a map of customer sets hold, in the same order, through growth and compaction (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 600 }), (operations) => {
        const track = new OrderTrack();
        const reference = new Reference();
        for (const op of operations) {
          if (op.kind === 'add') {
            const held = { customer: op.customer === null ? null : `c${op.customer}`, items: op.items, time: op.time };
            track.add(`o${op.id}`, held.customer, op.items, op.items.length, op.time);
            reference.add(`o${op.id}`, held);
          } else {
            track.remove(`o${op.id}`);
            reference.remove(`o${op.id}`);
          }
        }
        expect(contents(track)).toEqual({
          orders: [...reference.orders],
          customers: [...reference.customers].map(([c, ids]) => [c, [...ids]]),
          size: reference.orders.size,
        });
        for (let id = 0; id <= 40; id++) expect(track.has(`o${id}`)).toBe(reference.orders.has(`o${id}`));
      }),
      { numRuns: 200 },
    );
  });

  it('a long churn of a few orders keeps its arrays to the live orders (holes are squeezed out)', () => {
    const track = new OrderTrack();
    for (let i = 0; i < 100_000; i++) {
      track.add(`o${i % 50}`, `c${i % 7}`, [i, i + 1, i + 2], 3, i);
      if (i % 3 === 0) track.remove(`o${(i * 7) % 50}`);
    }
    const order = contents(track);
    expect(order.size).toBeLessThanOrEqual(50);
    expect(track.byteLength).toBeLessThan(64 * 1024);
  });
});
