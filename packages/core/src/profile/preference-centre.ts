/** Preference operations by email, for the engine, the CLI and the preference centre. */
import type { Actor } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { readProfile } from './view.js';
import { CUSTOMER_SOURCE } from './attributes.js';
import { requireSubjectByEmail } from './service.js';
import { readShopSettings } from '../shop/settings.js';
import {
  catalogueCategories,
  changePreferences,
  emptyPreferences,
  sameCategory,
  type CustomerPreferences,
  type PreferenceChange,
  type PreferenceChangeResult,
} from '../preferences/preferences.js';

export interface PreferencesView {
  subjectId: string;
  /** False while personalization is not granted: nothing is used, nothing can be excluded. */
  personalization: boolean;
  preferences: CustomerPreferences;
  /** The products the customer bought, with whether each is excluded, for a "not this" list. */
  purchases: Array<{ productId: string; title: string; category: string | null; excluded: boolean }>;
  /** The catalogue's categories, with the customer's choices on each. */
  categories: Array<{
    category: string;
    sensitive: boolean;
    excluded: boolean;
    declaredInterest: boolean;
    optedIn: boolean;
  }>;
  /**
   * Categories the customer told us they like (the `interests` attribute when they declared it, source
   * `customer`), in the catalogue's spelling where it has one.
   */
  interests: string[];
}

/**
 * `categories` gives the shop's categories: by default read from the products, a `distinct` over every product of
 * the shop; the engine passes one kept in memory until the catalogue changes (api/preferences.ts).
 */
export async function showPreferences(
  ctx: ShopContext,
  email: string,
  categories: () => Promise<Map<string, string>> = () => catalogueCategories(ctx.db, ctx.shopId),
): Promise<PreferencesView> {
  const subject = await requireSubjectByEmail(ctx, email);
  const view = await readProfile(ctx, subject);
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  const shopCategories = await categories();
  // The profile just read holds them (opened with the same key): no second read of the row.
  const preferences = view.profile?.preferences ?? emptyPreferences();
  const attribute = view.profile?.attributes.interests;
  const declared = attribute?.source === CUSTOMER_SOURCE ? attribute.value : [];
  const interests = (Array.isArray(declared) ? declared : []).map(
    (i) => shopCategories.get(i.trim().toLowerCase().normalize('NFC')) ?? i,
  );
  return {
    subjectId: subject.subjectId,
    personalization: view.profile !== null,
    preferences,
    purchases: (view.profile?.products ?? []).map((p) => ({
      productId: p.productId,
      title: p.title,
      category: p.category,
      excluded: preferences.excludedProducts.includes(p.productId),
    })),
    categories: [...shopCategories.values()].map((category) => ({
      category,
      sensitive: settings.sensitiveCategories.some((c) => sameCategory(c, category)),
      excluded: preferences.excludedCategories.some((c) => sameCategory(c, category)),
      declaredInterest: interests.some((c) => sameCategory(c, category)),
      optedIn: preferences.sensitiveOptIns.some((c) => sameCategory(c, category)),
    })),
    interests,
  };
}

export async function changePreferencesByEmail(
  ctx: ShopContext,
  email: string,
  change: PreferenceChange,
  actor: Actor,
): Promise<PreferenceChangeResult> {
  const subject = await requireSubjectByEmail(ctx, email);
  return withShopTransaction(ctx, actor, (s) =>
    changePreferences(
      s.tx,
      { keys: ctx.keys, shopId: ctx.shopId, head: s.head, sensitiveCategories: s.settings.sensitiveCategories },
      subject.subjectId,
      change,
      actor,
      s.recordedAt,
    ),
  );
}
