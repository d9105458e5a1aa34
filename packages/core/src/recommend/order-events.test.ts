import { describe, expect, it } from 'vitest';
import type { OrderRecord } from '../ports.js';
import { createCoPurchaseModel } from './model.js';
import { applyOrderEvent, basketFromOrder, catalogProduct } from './order-events.js';

const makeOrder = (overrides: Partial<OrderRecord> = {}): OrderRecord => ({
  id: 'gid://shopify/Order/1',
  customerId: 'gid://shopify/Customer/7',
  createdAt: new Date('2025-05-11T13:55:16Z'),
  updatedAt: new Date('2025-05-11T13:55:16Z'),
  lines: [
    { productId: 'P1', variantId: 'V1', title: 'Board', quantity: 1 },
    { productId: 'P1', variantId: 'V2', title: 'Board (red)', quantity: 1 },
    { productId: 'P2', title: 'Wax', quantity: 2 },
    { productId: 'P3', title: 'Returned', quantity: 0 },
  ],
  ...overrides,
});

describe('order events', () => {
  it('a platform order becomes a product-level basket', () => {
    expect(basketFromOrder(makeOrder())).toEqual({
      orderId: 'gid://shopify/Order/1',
      customerId: 'gid://shopify/Customer/7',
      productIds: ['P1', 'P1', 'P2'],
      time: Date.parse('2025-05-11T13:55:16Z'),
    });
  });

  it('created counts, cancelled or refunded subtracts exactly', () => {
    const model = createCoPurchaseModel();
    applyOrderEvent(model, makeOrder());
    expect(model.pairCount('P1', 'P2')).toBe(1);
    expect(model.productCount('P1')).toBe(1);
    const delta = applyOrderEvent(model, makeOrder({ cancelledAt: new Date('2025-05-12T00:00:00Z') }));
    expect(delta.basketCount).toBe(-1);
    expect(model.basketCount).toBe(0);
    applyOrderEvent(model, makeOrder());
    applyOrderEvent(model, makeOrder({ refunded: true }));
    expect(model.snapshot()).toEqual({ version: 1, basketCount: 0, products: [], pairs: [], orders: [] });
  });

  it('a draft or archived product is not available', () => {
    expect(catalogProduct({ id: 'P1', title: 'Board', available: true, status: 'draft' }).available).toBe(false);
    expect(
      catalogProduct({ id: 'P1', title: 'Board', available: true, status: 'active' }, { replenishable: true }),
    ).toMatchObject({ available: true, replenishable: true });
  });
});
