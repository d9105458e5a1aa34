import { systemActor } from '../audit/actors.js';
import type { ShopContext } from '../shop/context.js';
import type { TactfulPreferences } from '../tactful.js';
import { changePreferencesByEmail, showPreferences } from '../profile/preference-centre.js';
import { catalogueCategories } from '../preferences/preferences.js';
import { byCatalogueRevision } from '../recommend/catalogue-revision.js';

export function preferencesApi(ctx: ShopContext): TactfulPreferences {
  // The shop's categories, read again only when its products change: a page costs one primary-key read for them
  // instead of a distinct over every product (3.3 ms at 20 000 products on PostgreSQL, growing with the catalogue).
  const categories = byCatalogueRevision<void, Map<string, string>>(ctx.db, ctx.shopId, () =>
    catalogueCategories(ctx.db, ctx.shopId),
  );
  return {
    show: (email) => showPreferences(ctx, email, categories),
    exclude: (email, target, options = {}, actor = systemActor) =>
      changePreferencesByEmail(
        ctx,
        email,
        'productId' in target
          ? { kind: 'exclude-product', productId: target.productId, undo: options.undo }
          : { kind: 'exclude-category', category: target.category, undo: options.undo },
        actor,
      ),
    allowSensitive: (email, category, options = {}, actor = systemActor) =>
      changePreferencesByEmail(ctx, email, { kind: 'allow-sensitive', category, undo: options.undo }, actor),
    change: (email, change, actor = systemActor) => changePreferencesByEmail(ctx, email, change, actor),
  };
}
