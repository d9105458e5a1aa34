/**
 * The oracle of stated reasons: every stated reason of a recommendation is a purchase or a declaration of THAT
 * customer which is neither excluded by them nor in a sensitive category they did not opt in to. It reads
 * the truth through the public engine API only (profile, preferences, shop settings), never through the
 * recommender, so a bug there cannot hide itself.
 *
 * `assertReasonsTrue(tactful, email, recommendations)` checks structured recommendations;
 * `assertReasonTextTrue(tactful, email, text)` checks a rendered email or page (names no blocked product or
 * category, and every "because you bought X" / "you told us you like X" names something allowed).
 */
import type { CustomerRecommendations, Tactful } from '@tactful/core';

export interface ReasonTruth {
  /** Products the customer bought that may be named as a reason: id → title. */
  allowedPurchases: Map<string, string>;
  /** Categories that may be named: of allowed purchases, or declared by the customer (lower-cased). */
  allowedPurchaseCategories: Set<string>;
  declaredInterests: Set<string>;
  /** Products and categories that must never be a reason or a recommendation (lower-cased categories). */
  blockedProducts: Map<string, string>;
  blockedCategories: Set<string>;
  /** Category of every catalogue product the customer bought (id → lower-cased category or null). */
  categoryOf: Map<string, string | null>;
}

const key = (category: string) => category.trim().toLowerCase().normalize('NFC');

export async function reasonTruth(tactful: Tactful, email: string): Promise<ReasonTruth> {
  const prefs = await tactful.preferences.show(email);
  const settings = await tactful.settings.get();
  const excludedCategories = new Set(prefs.preferences.excludedCategories.map(key));
  const optIns = new Set(prefs.preferences.sensitiveOptIns.map(key));
  const blockedCategories = new Set([
    ...excludedCategories,
    ...settings.sensitiveCategories.map(key).filter((c) => !optIns.has(c)),
  ]);
  const excludedProducts = new Set(prefs.preferences.excludedProducts);
  const truth: ReasonTruth = {
    allowedPurchases: new Map(),
    allowedPurchaseCategories: new Set(),
    declaredInterests: new Set(),
    blockedProducts: new Map(),
    blockedCategories,
    categoryOf: new Map(),
  };
  for (const p of prefs.purchases) {
    const category = p.category === null ? null : key(p.category);
    truth.categoryOf.set(p.productId, category);
    if (excludedProducts.has(p.productId) || (category !== null && blockedCategories.has(category)))
      truth.blockedProducts.set(p.productId, p.title);
    else {
      truth.allowedPurchases.set(p.productId, p.title);
      if (category !== null) truth.allowedPurchaseCategories.add(category);
    }
  }
  for (const id of excludedProducts) if (!truth.blockedProducts.has(id)) truth.blockedProducts.set(id, id);
  // Only what the customer declared themselves may read "you told us" (the view lists declarations only).
  for (const i of prefs.interests) if (!blockedCategories.has(key(i))) truth.declaredInterests.add(key(i));
  return truth;
}

function fail(email: string, message: string): never {
  throw new Error(`reason oracle, ${email}: ${message}`);
}

/** Throws unless every reason of every recommendation is true of `email` and allowed. */
export async function assertReasonsTrue(
  tactful: Tactful,
  email: string,
  recommendations: CustomerRecommendations['recommendations'],
): Promise<ReasonTruth> {
  const truth = await reasonTruth(tactful, email);
  for (const rec of recommendations) {
    if (truth.blockedProducts.has(rec.productId))
      fail(email, `recommends ${rec.productId}, a purchase they excluded or one in a blocked category`);
    const category = rec.product.category ? key(rec.product.category) : null;
    if (category !== null && truth.blockedCategories.has(category))
      fail(email, `recommends ${rec.productId} in blocked category "${rec.product.category}"`);
    if (rec.reasons.length === 0) fail(email, `${rec.productId} carries no reason`);
    for (const reason of rec.reasons) {
      switch (reason.kind) {
        case 'bought-with':
          if (!truth.allowedPurchases.has(reason.because)) {
            fail(
              email,
              `${rec.productId} is explained by "${reason.because}", which is ${truth.blockedProducts.has(reason.because) ? 'excluded or in a blocked category' : 'not a purchase of theirs'}`,
            );
          }
          break;
        case 'declared-interest':
          if (!truth.declaredInterests.has(key(reason.category)))
            fail(
              email,
              `${rec.productId} is explained by an interest in "${reason.category}" they did not declare (or that is blocked)`,
            );
          break;
        case 'popular-in-category':
          if (!truth.allowedPurchaseCategories.has(key(reason.category)))
            fail(
              email,
              `${rec.productId} is "popular in ${reason.category}", a category they did not buy from (or that is blocked)`,
            );
          break;
        case 'popular':
          break;
        default:
          fail(email, `unknown reason kind ${(reason as { kind: string }).kind}: extend the oracle`);
      }
    }
  }
  return truth;
}

/**
 * Throws unless a rendered text (an email, a page) states only true reasons: each "you bought X" names an
 * allowed purchase (never an excluded one, nor one in a blocked category), each "you told us you like X" a
 * category the customer declared (not blocked), each "popular in X, which you buy from" a category of an
 * allowed purchase. Pass `truth` (from `reasonTruth`) to check many texts of one customer at once.
 */
export async function assertReasonTextTrue(
  tactful: Tactful,
  email: string,
  text: string,
  truth?: ReasonTruth,
): Promise<void> {
  const t = truth ?? (await reasonTruth(tactful, email));
  const lower = text.toLowerCase();
  const titles = [...t.allowedPurchases.values()].map((x) => x.trim().toLowerCase());
  const blockedTitles = [...t.blockedProducts.values()].map((x) => x.trim().toLowerCase());
  // Each clause is read name by name, longest known name first (names may hold "and", commas or dots).
  const readNames = (start: number, allowed: readonly string[], blocked: readonly string[], what: string) => {
    let at = start;
    for (;;) {
      const rest = lower.slice(at);
      const longest = (names: readonly string[]) =>
        names.filter((n) => rest.startsWith(n)).sort((x, y) => y.length - x.length)[0];
      const ok = longest(allowed);
      const bad = longest(blocked);
      if (bad !== undefined && (ok === undefined || bad.length > ok.length))
        fail(email, `the text names blocked ${what} "${bad}" as a reason: ${text}`);
      if (ok === undefined)
        fail(email, `"${lower.slice(start, start + 60)}" names no allowed ${what} of theirs: ${text}`);
      at += ok.length;
      const sep = /^(, and |, | and )/.exec(lower.slice(at));
      if (!sep || /^, and you told/.test(lower.slice(at))) return;
      at += sep[0].length;
    }
  };
  for (const m of lower.matchAll(/you bought /g)) readNames(m.index + m[0].length, titles, blockedTitles, 'purchase');
  const declared = [...t.declaredInterests];
  const blockedCategories = [...t.blockedCategories];
  for (const m of lower.matchAll(/you told us you like /g))
    readNames(m.index + m[0].length, declared, blockedCategories, 'category');
  for (const m of lower.matchAll(/popular in (.+?), which you buy from/g)) {
    if (!t.allowedPurchaseCategories.has(key(m[1]!)))
      fail(email, `"popular in ${m[1]}" names a category they do not buy from (or a blocked one): ${text}`);
  }
}
