import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTactfulError } from '../errors/tactful-error.js';
import { buildModel, createCoPurchaseModel, modelFromSnapshot, type OrderBasket } from './model.js';
import { PairTable } from './pair-table.js';
import { logLikelihoodRatio, pairStats } from './stats.js';

describe('statistics', () => {
  it('G² - independent counts give 0, a perfect association gives 2·N·ln 2 for a balanced table', () => {
    expect(logLikelihoodRatio(5, 5, 5, 5)).toBe(0);
    expect(logLikelihoodRatio(10, 0, 0, 10)).toBeCloseTo(40 * Math.log(2), 12);
  });

  it('G² - equals 2·Σ O·ln(O/E) on an arbitrary table', () => {
    const [a, b, c, d] = [13, 7, 29, 951];
    const n = a + b + c + d;
    const expected = (row: number, col: number) => (row * col) / n;
    const cells: Array<[number, number]> = [
      [a, expected(a + b, a + c)],
      [b, expected(a + b, b + d)],
      [c, expected(c + d, a + c)],
      [d, expected(c + d, b + d)],
    ];
    const g2 = 2 * cells.reduce((sum, [o, e]) => sum + o * Math.log(o / e), 0);
    expect(logLikelihoodRatio(a, b, c, d)).toBeCloseTo(g2, 9);
  });

  it('pair statistics - support, confidence, coverage and lift from the counts', () => {
    const s = pairStats(10, 20, 40, 100);
    expect(s).toMatchObject({ count: 10, support: 0.1, confidence: 0.5, coverage: 0.2 });
    expect(s.lift).toBeCloseTo(1.25, 12);
  });
});

describe('pair table', () => {
  it('counts survive growth and subtraction back to zero drops the pair', () => {
    const table = new PairTable(16);
    for (let a = 0; a < 200; a++) for (let b = a + 1; b < a + 5; b++) table.add(b, a, 2);
    expect(table.size()).toBe(800);
    expect(table.get(3, 5)).toBe(2);
    expect(table.get(5, 3)).toBe(2);
    for (let a = 0; a < 200; a++) for (let b = a + 1; b < a + 5; b++) table.add(a, b, -2);
    expect(table.size()).toBe(0);
    expect(() => table.add(1, 2, -1)).toThrow(RangeError);
    const reserved = new PairTable(16);
    reserved.reserve(1000);
    const capacity = reserved.capacity;
    expect(capacity).toBeGreaterThanOrEqual(1000 / 0.7);
    for (let a = 0; a < 1000; a++) reserved.add(a, a + 1, 1);
    expect(reserved.capacity).toBe(capacity);
  });
});

describe('model', () => {
  const orders: OrderBasket[] = [
    { orderId: 'o1', customerId: 'c1', productIds: ['a', 'b', 'c'], time: 1 },
    { orderId: 'o2', customerId: 'c2', productIds: ['a', 'b', 'b'], time: 2 },
    { orderId: 'o3', customerId: 'c1', productIds: ['c'], time: 3 },
  ];

  it('a basket is a set - a product twice in one order counts once', async () => {
    const model = await buildModel(orders);
    expect(model.basketCount).toBe(3);
    expect(model.productCount('b')).toBe(2);
    expect(model.pairCount('a', 'b')).toBe(2);
    expect(model.pairCount('b', 'a')).toBe(2);
    expect(model.pairCount('a', 'c')).toBe(1);
  });

  it('an order added again with the same id replaces the earlier basket', () => {
    const model = createCoPurchaseModel();
    model.addOrder({ orderId: 'o1', productIds: ['a', 'b'] });
    const delta = model.addOrder({ orderId: 'o1', productIds: ['a', 'c'] });
    expect(model.basketCount).toBe(1);
    expect(model.pairCount('a', 'b')).toBe(0);
    expect(model.pairCount('a', 'c')).toBe(1);
    expect(delta.basketCount).toBe(0);
    expect(delta.pairs).toEqual(
      expect.arrayContaining([
        { productA: 'a', productB: 'b', count: -1 },
        { productA: 'a', productB: 'c', count: 1 },
      ]),
    );
  });

  it('a batch model refuses subtraction it cannot do exactly', () => {
    const model = createCoPurchaseModel({ trackOrders: false });
    model.ingest(orders[0]!);
    expect(() => model.removeOrder('o1')).toThrowError(/trackOrders/);
  });

  it('a delta that would drive a count below zero is refused and changes nothing', () => {
    const model = createCoPurchaseModel();
    model.addOrder(orders[0]!);
    const before = model.snapshot();
    let error: unknown;
    try {
      model.applyDelta({
        basketCount: -1,
        products: [{ productId: 'a', count: -1 }],
        pairs: [{ productA: 'a', productB: 'z', count: -1 }],
        ordersAdded: [],
        ordersRemoved: [],
      });
    } catch (e) {
      error = e;
    }
    expect(isTactfulError(error, 'RECOMMEND.INVALID_DELTA')).toBe(true);
    expect(model.snapshot()).toEqual(before);
  });

  it('a snapshot that is not one is refused with every problem named', () => {
    expect(() => modelFromSnapshot({ version: 1, basketCount: -1, products: [], pairs: [], orders: [] })).toThrowError(
      /basketCount/,
    );
    const bad = {
      version: 1,
      basketCount: 1,
      products: [{ productId: '', count: 1 }],
      pairs: [{ productA: 'a', productB: 'a', count: 1.5 }],
      orders: 'x',
    } as never;
    expect(() => modelFromSnapshot(bad)).toThrowError(
      /products\.0\.productId.*pairs\.0: a product paired with itself.*pairs\.0\.count.*orders: expected an array/,
    );
  });

  it('neighbours - only positive, significant associations, best first, at most K', async () => {
    const baskets: OrderBasket[] = [];
    for (let i = 0; i < 50; i++) baskets.push({ orderId: `x${i}`, productIds: ['tea', 'lemon'] });
    for (let i = 0; i < 30; i++) baskets.push({ orderId: `y${i}`, productIds: ['tea', 'honey'] });
    for (let i = 0; i < 100; i++)
      baskets.push({ orderId: `z${i}`, productIds: ['bread', i % 10 === 0 ? 'tea' : 'butter'] });
    baskets.push({ orderId: 'rare', productIds: ['lemon', 'caviar'] });
    const model = await buildModel(baskets, { neighbours: { k: 1, minCount: 2, score: 'confidence' } });
    expect(model.neighbours('tea').map((n) => n.productId)).toEqual(['lemon']);
    const wide = await buildModel(baskets, { neighbours: { k: 5, minCount: 2, score: 'confidence' } });
    const tea = wide.neighbours('tea');
    expect(tea.map((n) => n.productId)).toEqual(['lemon', 'honey']); // bread: seen together less than by chance
    expect(tea[0]!.score).toBeCloseTo(50 / 90, 12); // confidence tea→lemon
    expect(tea[0]!.stats.llr).toBeGreaterThan(3.84);
    expect(wide.neighbours('caviar')).toEqual([]); // one basket is below minCount
    // The default score, uplift, is confidence minus the neighbour's base rate.
    const uplift = await buildModel(baskets, { neighbours: { k: 5, minCount: 2 } });
    const [first] = uplift.neighbours('tea');
    expect(first!.productId).toBe('lemon');
    expect(first!.score).toBeCloseTo(50 / 90 - 51 / baskets.length, 12);
  });
});

/** Operations the property test runs: add an order, cancel one, erase a customer. */
type Op = { kind: 'add'; order: OrderBasket } | { kind: 'cancel'; pick: number } | { kind: 'erase'; customer: string };

const product = fc.constantFrom('p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'roll products ', 'cream cheese ');
const customer = fc.constantFrom('c0', 'c1', 'c2', 'c3');
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({
        id: fc.integer({ min: 0, max: 30 }),
        customer: fc.option(customer, { nil: null }),
        products: fc.array(product, { maxLength: 6 }),
        time: fc.integer({ min: 0, max: 1e6 }),
      })
      .map(({ id, customer: c, products, time }) => ({
        kind: 'add' as const,
        order: { orderId: `o${id}`, customerId: c, productIds: products, time },
      })),
  },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'cancel' as const, pick })) },
  { weight: 1, arbitrary: customer.map((c) => ({ kind: 'erase' as const, customer: c })) },
);

describe('incremental equals rebuild', () => {
  it('any sequence of orders, cancellations and erasures leaves the counts of a full rebuild from the surviving orders', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const loose = { neighbours: { minCount: 1, minLlr: 0 } }; // so small samples have neighbours to compare
        const live = createCoPurchaseModel(loose);
        const mirror = createCoPurchaseModel(loose); // fed only with the deltas, as the store would be
        const surviving = new Map<string, OrderBasket>();
        for (const step of ops) {
          if (step.kind === 'add') {
            mirror.applyDelta(live.addOrder(step.order));
            surviving.set(step.order.orderId, step.order);
          } else if (step.kind === 'cancel') {
            const ids = [...surviving.keys()];
            const orderId = ids.length === 0 ? 'none' : ids[step.pick % ids.length]!;
            mirror.applyDelta(live.removeOrder(orderId));
            surviving.delete(orderId);
          } else {
            mirror.applyDelta(live.eraseCustomer(step.customer));
            for (const [id, order] of surviving) if (order.customerId === step.customer) surviving.delete(id);
          }
        }
        const rebuilt = await buildModel(surviving.values(), loose);
        const expected = rebuilt.snapshot();
        expect(live.snapshot()).toEqual(expected);
        expect(mirror.snapshot()).toEqual(expected);
        expect(modelFromSnapshot(live.snapshot()).snapshot()).toEqual(expected);
        // Derived read-outs agree too.
        for (const p of ['p0', 'p1', 'roll products ']) expect(live.neighbours(p)).toEqual(rebuilt.neighbours(p));
        expect(live.popular()).toEqual(rebuilt.popular());
      }),
      { numRuns: 300 },
    );
  });
});
