import { systemActor } from '../audit/actors.js';
import type { ShopContext } from '../shop/context.js';
import type { TactfulPreferences } from '../tactful.js';
import { changePreferencesByEmail, showPreferences } from '../profile/preference-centre.js';

export function preferencesApi(ctx: ShopContext): TactfulPreferences {
  return {
    show: (email) => showPreferences(ctx, email),
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
