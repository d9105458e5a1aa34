import type { OrderRecord, ProductRecord } from '../ports.js';
import type { CoPurchaseModel, ModelDelta, OrderBasket } from './model.js';
import type { CatalogProduct } from './parse.js';

/** Whether a platform order counts in the model: not cancelled and not fully refunded. */
export function orderCounts(order: OrderRecord): boolean {
  return !order.cancelledAt && !order.refunded;
}

/** The basket of a platform order: its products (product level, not variant) with a positive quantity. */
export function basketFromOrder(order: OrderRecord): OrderBasket {
  return {
    orderId: order.id,
    customerId: order.customerId ?? null,
    productIds: order.lines.filter((line) => line.quantity > 0).map((line) => line.productId),
    time: order.createdAt.getTime(),
  };
}

/**
 * Applies an order event from a platform: a new or updated order is counted (replacing its earlier basket);
 * a cancelled or refunded one is subtracted. Returns the delta to persist.
 */
export function applyOrderEvent(model: CoPurchaseModel, order: OrderRecord): ModelDelta {
  return orderCounts(order) ? model.addOrder(basketFromOrder(order)) : model.removeOrder(order.id);
}

/** A platform product as the recommender sees it; `replenishable` comes from the store's own settings. */
export function catalogProduct(
  product: ProductRecord,
  extra: Pick<CatalogProduct, 'replenishable' | 'repurchaseIntervalDays'> = {},
): CatalogProduct {
  return {
    id: product.id,
    title: product.title,
    url: product.url,
    imageUrl: product.imageUrl ?? null,
    price: product.price,
    category: product.category ?? null,
    available: product.available && (product.status === undefined || product.status === 'active'),
    ...extra,
  };
}
