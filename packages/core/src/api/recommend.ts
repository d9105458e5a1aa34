import type { ShopContext } from '../shop/context.js';
import { scheduleOnOrders } from '../flows/schedule.js';
import { ingestOrders, upsertProducts } from '../recommend/orders.js';
import { sharedModelCache } from '../recommend/model-cache.js';
import type { TactfulOrders, TactfulProducts, TactfulRecommend } from '../tactful.js';
import { productTitles, topProducts } from '../recommend/catalog.js';
import {
  catalogueCache,
  fitCache,
  recommendForCustomerRef,
  relatedToProduct,
  type FitPolicy,
} from '../recommend/service.js';

/** The recommendation part; its `forCustomer` is the one every caller (pages, CLI, campaigns) goes through. */
export function recommendApi(ctx: ShopContext, fitPolicy?: Partial<FitPolicy>): TactfulRecommend {
  const getModel = sharedModelCache(ctx).get;
  const fits = fitCache(ctx, getModel, fitPolicy);
  // The catalogue beside the model, reloaded when the products or the merchandising rules change.
  const getCatalogue = catalogueCache(ctx.db, ctx.shopId);
  return {
    model: getModel,
    fit: () => fits.current(),
    refit: fits.refresh,
    forCustomer: (customer, options) =>
      recommendForCustomerRef(ctx, getModel, customer, options, fits.current, getCatalogue),
    related: async (productId, k) => (await relatedToProduct(ctx, getModel, productId, k, getCatalogue)).related,
    relatedExplained: (productId, k) => relatedToProduct(ctx, getModel, productId, k, getCatalogue),
    topProducts: (limit) => topProducts(ctx.db, ctx.shopId, limit),
  };
}

export function ordersApi(ctx: ShopContext): TactfulOrders {
  // Paid orders schedule their flow steps in the ingest's own transaction.
  const schedule = scheduleOnOrders(ctx);
  // The engine's ingest commits on its own: the engine's model follows each change instead of reloading.
  const model = sharedModelCache(ctx);
  return { ingest: (records, source) => ingestOrders(ctx, records, source, schedule, model.follow) };
}

export function productsApi(ctx: ShopContext): TactfulProducts {
  return {
    upsert: (records, extra) => upsertProducts(ctx, records, extra),
    titles: (ids) => productTitles(ctx.db, ctx.shopId, ids),
  };
}
