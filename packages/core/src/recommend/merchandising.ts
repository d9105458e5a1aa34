/**
 * Merchandising: what the shop never recommends (products and categories it names, and automatically gift cards,
 * products out of stock and products not published) and what it favours (pinned products). The rules live in
 * the shop's settings; the recommendation service applies them to every list it makes, so every caller (the
 * explorer, campaigns, the preference centre, flows) inherits them, and says which product a rule left out.
 */
import { and, asc, eq, ilike, or } from 'drizzle-orm';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from '../store/open.js';
import { products } from '../store/schema.js';
import type { ShopSettings } from '../shop/settings.js';
import type { CatalogProduct } from './parse.js';
import { categoryKey } from './recommender.js';

export type MerchandisingRules = ShopSettings['merchandising'];

/** Why the shop's rules keep a product out of every recommendation. */
export type LeftOutRule = 'excluded-product' | 'excluded-category' | 'gift-card' | 'out-of-stock' | 'not-published';

/** A product a recommendation list would have held but for a rule of the shop. */
export interface LeftOut {
  productId: string;
  title: string;
  rule: LeftOutRule;
  /** The rule in the owner's words: "never recommended by the shop". */
  note: string;
}

/** A catalogue row as the rules read it. */
export interface MerchandisedProduct extends CatalogProduct {
  /** `active`, `draft` or `archived` (the platform's publication status). */
  status: string;
  /** In stock (the platform's `available`), whatever the status. */
  inStock: boolean;
}

/** A product whose category or title names a gift card: it is money, not a product to suggest. */
export function isGiftCard(product: Pick<CatalogProduct, 'title' | 'category'>): boolean {
  const giftCard = /\bgift[\s-]?cards?\b/i;
  return giftCard.test(product.category ?? '') || giftCard.test(product.title);
}

/** The rule that keeps `product` out of recommendations, or null when none does. Exclusions named by the shop first. */
export function ruleOf(product: MerchandisedProduct, rules: MerchandisingRules): LeftOutRule | null {
  if (rules.excludedProducts.includes(product.id)) return 'excluded-product';
  if (product.category && rules.excludedCategories.some((c) => categoryKey(c) === categoryKey(product.category!)))
    return 'excluded-category';
  if (isGiftCard(product)) return 'gift-card';
  if (product.status !== 'active') return 'not-published';
  if (!product.inStock) return 'out-of-stock';
  return null;
}

/** The rule in the owner's words. */
export function ruleNote(rule: LeftOutRule, product: Pick<CatalogProduct, 'category'>): string {
  switch (rule) {
    case 'excluded-product':
      return 'never recommended by the shop';
    case 'excluded-category':
      return `its category "${product.category ?? ''}" is never recommended by the shop`;
    case 'gift-card':
      return 'a gift card: never recommended';
    case 'not-published':
      return 'not published in the shop (draft or archived)';
    case 'out-of-stock':
      return 'out of stock';
  }
}

/** A product's own words for the list of what a rule left out. */
export function leftOutOf(product: MerchandisedProduct, rule: LeftOutRule): LeftOut {
  return { productId: product.id, title: product.title, rule, note: ruleNote(rule, product) };
}

/**
 * The shop's catalogue twice: as recommendations may use it (every product a rule keeps out is unavailable), and
 * open (those products available, to find what a rule changed), with each kept-out product's rule.
 */
export async function merchandisedCatalogue(
  db: Db,
  shopId: string,
  rules: MerchandisingRules,
): Promise<{
  items: Map<string, CatalogProduct>;
  open: Map<string, CatalogProduct>;
  keptOut: Map<string, LeftOut>;
  all: Map<string, MerchandisedProduct>;
}> {
  const rows = await db.select().from(products).where(eq(products.shopId, shopId));
  const items = new Map<string, CatalogProduct>();
  const open = new Map<string, CatalogProduct>();
  const keptOut = new Map<string, LeftOut>();
  const all = new Map<string, MerchandisedProduct>();
  for (const p of rows) {
    const product: MerchandisedProduct = {
      id: p.productId,
      title: p.title,
      url: p.url ?? undefined,
      imageUrl: p.imageUrl,
      price: p.price ?? undefined,
      category: p.category,
      available: p.available && p.status === 'active',
      replenishable: p.replenishDays !== null,
      repurchaseIntervalDays: p.replenishDays ?? undefined,
      status: p.status,
      inStock: p.available,
    };
    all.set(p.productId, product);
    const rule = ruleOf(product, rules);
    const { status: _status, inStock: _inStock, ...plain } = product;
    if (rule === null) {
      items.set(p.productId, plain);
      open.set(p.productId, plain);
    } else {
      keptOut.set(p.productId, leftOutOf(product, rule));
      items.set(p.productId, { ...plain, available: false });
      open.set(p.productId, { ...plain, available: true });
    }
  }
  return { items, open, keptOut, all };
}

/** Catalogue products whose title (or id) contains `query`, for the owner's pickers; at most `limit`. */
export async function searchProducts(
  db: Db,
  shopId: string,
  query: string,
  limit = 20,
): Promise<
  Array<{ productId: string; title: string; category: string | null; imageUrl: string | null; price: string | null }>
> {
  const text = query.trim();
  if (text === '') return [];
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const found = await db
    .select({
      productId: products.productId,
      title: products.title,
      category: products.category,
      imageUrl: products.imageUrl,
      price: products.price,
    })
    .from(products)
    .where(and(eq(products.shopId, shopId), or(ilike(products.title, pattern), ilike(products.productId, pattern))))
    .orderBy(asc(products.title), asc(products.productId))
    .limit(Math.max(1, Math.min(100, Math.trunc(limit))));
  return found;
}

/** One change of the shop's rules, as the admin makes them. */
export type MerchandisingChange =
  | { action: 'exclude-product' | 'include-product' | 'pin' | 'unpin' | 'move-up'; productId: string }
  | { action: 'exclude-category' | 'include-category'; category: string };

/**
 * Applies one change to the rules, refusing (RECOMMEND.RULE_INVALID, nothing changed) a product or category the
 * catalogue does not hold, and a favourite that a rule keeps out (an exclusion always wins over a pin).
 */
export function changedRules(
  rules: MerchandisingRules,
  change: MerchandisingChange,
  catalogue: ReadonlyMap<string, MerchandisedProduct>,
): MerchandisingRules {
  const without = (list: readonly string[], value: string) => list.filter((v) => v !== value);
  if ('category' in change) {
    const category = change.category.trim();
    if (change.action === 'include-category')
      return {
        ...rules,
        excludedCategories: rules.excludedCategories.filter((c) => categoryKey(c) !== categoryKey(category)),
      };
    const known = [...catalogue.values()].find((p) => p.category && categoryKey(p.category) === categoryKey(category));
    if (!known)
      throw new TactfulError(
        'RECOMMEND.RULE_INVALID',
        `No product of the catalogue is in a category "${category}": pick one of the catalogue's categories.`,
      );
    if (rules.excludedCategories.some((c) => categoryKey(c) === categoryKey(category))) return rules;
    return { ...rules, excludedCategories: [...rules.excludedCategories, known.category!] };
  }
  const product = catalogue.get(change.productId);
  if (!product && change.action !== 'include-product' && change.action !== 'unpin')
    throw new TactfulError(
      'RECOMMEND.RULE_INVALID',
      `No product "${change.productId}" in the catalogue: search the catalogue by title and pick one.`,
    );
  switch (change.action) {
    case 'exclude-product':
      return rules.excludedProducts.includes(change.productId)
        ? rules
        : {
            ...rules,
            excludedProducts: [...rules.excludedProducts, change.productId],
            pinnedProducts: without(rules.pinnedProducts, change.productId),
          };
    case 'include-product':
      return { ...rules, excludedProducts: without(rules.excludedProducts, change.productId) };
    case 'pin': {
      if (rules.pinnedProducts.includes(change.productId)) return rules;
      const rule = ruleOf(product!, rules);
      if (rule !== null)
        throw new TactfulError(
          'RECOMMEND.RULE_INVALID',
          `"${product!.title}" cannot be favoured: it is ${ruleNote(rule, product!)}. An exclusion always wins; lift it first.`,
        );
      if (rules.pinnedProducts.length >= 50)
        throw new TactfulError('RECOMMEND.RULE_INVALID', 'At most 50 products can be favoured: remove one first.');
      return { ...rules, pinnedProducts: [...rules.pinnedProducts, change.productId] };
    }
    case 'unpin':
      return { ...rules, pinnedProducts: without(rules.pinnedProducts, change.productId) };
    case 'move-up': {
      const at = rules.pinnedProducts.indexOf(change.productId);
      if (at <= 0) return rules;
      const next = [...rules.pinnedProducts];
      [next[at - 1], next[at]] = [next[at]!, next[at - 1]!];
      return { ...rules, pinnedProducts: next };
    }
  }
}
