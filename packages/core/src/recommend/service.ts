import { and, eq, gt, or, sql, type SQL } from 'drizzle-orm';
import type { KeyRing } from '../store/keyring.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from '../store/open.js';
import { consentState, orderLines, orders } from '../store/schema.js';
import { emailAddress } from '../identity/email.js';
import { fitHeader, loadFit, saveFit } from './model-store.js';
import { byCatalogueRevision } from './catalogue-revision.js';
import { DEFAULT_EASE_ITEMS, fitEase, type EaseFit } from './ease.js';
import { fitWithValidation } from './evaluate.js';
import type { CoPurchaseModel } from './model.js';
import type { CatalogProduct } from './parse.js';
import { recommendForCustomer, relatedProducts, type Recommendation, type RecommendOptions } from './recommender.js';
import { basisRules, emptyPreferences, openPreferences } from '../preferences/preferences.js';
import { openAttributes } from '../profile/sealed-attributes.js';
import { CUSTOMER_SOURCE } from '../profile/attributes.js';
import { findSubjectByEmail } from '../profile/subjects.js';
import { profiles } from '../store/schema.js';
import { readShopSettings } from '../shop/settings.js';
import { merchandisedCatalogue, type LeftOut, type MerchandisingRules } from './merchandising.js';
import type { PairStats } from './stats.js';

export interface RecommendContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  now: () => Date;
}

/** The shop's catalogue as the recommendations use it (see `merchandisedCatalogue`). */
export type MerchandisedCatalogue = Awaited<ReturnType<typeof merchandisedCatalogue>>;

/**
 * Keeps the shop's merchandised catalogue in memory beside the cached model: reading 20 000 product rows cost
 * about a second per recommendation. Reloaded when the products changed (their revision, bumped by every write
 * to them, so a change made by another instance or a webhook counts too) or the merchandising rules did.
 * Callers must not mutate it.
 */
export function catalogueCache(db: Db, shopId: string): (rules: MerchandisingRules) => Promise<MerchandisedCatalogue> {
  return byCatalogueRevision(
    db,
    shopId,
    (rules) => merchandisedCatalogue(db, shopId, rules),
    (rules) => JSON.stringify(rules),
  );
}

/** Reads the catalogue afresh on every call (no cache). */
const freshCatalogue =
  (ctx: RecommendContext) =>
  (rules: MerchandisingRules): Promise<MerchandisedCatalogue> =>
    merchandisedCatalogue(ctx.db, ctx.shopId, rules);

/** When the shop's fitted model is refreshed from the counts. */
export interface FitPolicy {
  /** Products fitted jointly (the most frequent); default DEFAULT_EASE_ITEMS. */
  maxItems: number;
  /** Refit once the basket count moved by this share since the fit; default 0.05. */
  refreshShare: number;
  /** Below this many baskets the pair scores alone rank (too little to fit); default 50. */
  minBaskets: number;
}

export const defaultFitPolicy: Readonly<FitPolicy> = Object.freeze({
  maxItems: DEFAULT_EASE_ITEMS,
  refreshShare: 0.05,
  minBaskets: 50,
});

/**
 * Fits EASE on a model: λ chosen on a validation split of its tracked orders when it has enough of them (a
 * fixed seed, so two instances agree), else the default share of the basket count.
 */
export function fitModel(model: CoPurchaseModel, maxItems: number, now: () => number = Date.now): EaseFit {
  const baskets: number[][] = [];
  model.forEachTrackedBasket((items) => {
    baskets.push(items as number[]);
  });
  const fit =
    baskets.length >= 200
      ? fitWithValidation(model, baskets, { maxItems, seed: 1 })
      : fitEase(model, { maxItems, now });
  return { ...fit, fittedAt: now() };
}

/** Whether a fit no longer describes the counts well enough: the basket count moved by `refreshShare`. */
export function fitIsStale(fit: { basketCount: number }, model: CoPurchaseModel, policy: FitPolicy): boolean {
  return Math.abs(model.basketCount - fit.basketCount) > policy.refreshShare * Math.max(1, fit.basketCount);
}

/**
 * The newest fitted model of the shop: the stored one (reloaded when another instance stored a newer one),
 * refitted and stored when missing or stale; `refresh()` refits on demand. Null while the shop has too few
 * baskets to fit.
 */
export function fitCache(
  ctx: RecommendContext,
  getModel: () => Promise<CoPurchaseModel>,
  policy: Partial<FitPolicy> = {},
) {
  const rules: FitPolicy = { ...defaultFitPolicy, ...policy };
  let cached: EaseFit | null = null;
  const refit = async (model: CoPurchaseModel): Promise<EaseFit> => {
    const fit = fitModel(model, rules.maxItems, () => ctx.now().getTime());
    await saveFit(ctx.db, ctx.shopId, fit);
    cached = fit;
    return fit;
  };
  return {
    /** The fit for `known` (the model the caller just read), else for the model as it is now. */
    async current(known?: CoPurchaseModel): Promise<EaseFit | null> {
      const model = known ?? (await getModel());
      if (model.basketCount < rules.minBaskets) return null;
      const header = await fitHeader(ctx.db, ctx.shopId);
      if (header && !(cached && cached.fittedAt === header.fittedAt.getTime() && cached.revision === header.revision))
        cached = await loadFit(ctx.db, ctx.shopId);
      if (!header) cached = null;
      if (!cached || fitIsStale(cached, model, rules)) return refit(model);
      return cached;
    },
    async refresh(): Promise<EaseFit | null> {
      const model = await getModel();
      if (model.basketCount < rules.minBaskets) return null;
      return refit(model);
    },
  };
}

/** A recommendation whose reasons also name the product bought, for emails and pages. */
export type ExplainedRecommendation = Omit<Recommendation, 'reasons'> & {
  reasons: Array<Recommendation['reasons'][number] & { becauseTitle?: string }>;
};

export interface CustomerRecommendations {
  customer: string;
  subjectId: string;
  purchases: number;
  recommendations: ExplainedRecommendation[];
  /** Products the list would have held but for a rule of the shop (merchandising), with the rule. */
  leftOut: LeftOut[];
}

/**
 * Recommendations for one customer, by email or platform customer id. Personal recommendations are
 * profiling: they are computed only while the customer has `personalization` granted.
 */
export async function recommendForCustomerRef(
  ctx: RecommendContext,
  getModel: () => Promise<CoPurchaseModel>,
  customer: string,
  options: RecommendOptions = {},
  getFit: (model: CoPurchaseModel) => Promise<EaseFit | null> = async () => null,
  getCatalogue: (rules: MerchandisingRules) => Promise<MerchandisedCatalogue> = freshCatalogue(ctx),
): Promise<CustomerRecommendations> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const asEmail = emailAddress.safeParse(customer);
  // The orders the address or platform id names: by its blind index (an email), else `<source>:<id>`.
  const byRef = asEmail.success
    ? eq(orders.customerRef, `e:${ctx.keys.emailIndex(shopKeys, asEmail.data).toString('hex')}`)
    : sql`${orders.customerRef} in (select distinct ${orders.source} || ':' || ${customer} from ${orders} where ${orders.shopId} = ${ctx.shopId})`;
  // The person who holds the address now, else whoever the orders of that id name.
  let subjectId: string | null = null;
  if (asEmail.success) {
    const holder = await findSubjectByEmail(ctx.db, { keys: ctx.keys, shopKeys, shopId: ctx.shopId }, asEmail.data);
    subjectId = holder && !holder.erasedAt ? holder.subjectId : null;
  }
  // Everything the person bought hangs on them, whichever address or id each order named: one statement when the
  // person is known up front (an address someone holds), orders and their bought lines together.
  const rows = await countedOrderLines(ctx, subjectId ? or(byRef, eq(orders.subjectId, subjectId))! : byRef);
  if (!subjectId) {
    subjectId = rows.find((r) => r.subjectId)?.subjectId ?? null;
    if (subjectId) {
      const seen = new Set(rows.map((r) => r.orderId));
      for (const row of await countedOrderLines(ctx, eq(orders.subjectId, subjectId)))
        if (!seen.has(row.orderId)) rows.push(row);
    }
  }
  if (!subjectId && rows.length === 0) {
    throw new TactfulError(
      'SUBJECT.NOT_FOUND',
      `No customer "${customer}" in shop ${ctx.shopId}: give an email or a platform customer id of an imported order.`,
    );
  }
  const [consent] = subjectId
    ? await ctx.db
        .select({ state: consentState.state })
        .from(consentState)
        .where(
          and(
            eq(consentState.shopId, ctx.shopId),
            eq(consentState.subjectId, subjectId),
            eq(consentState.purpose, 'personalization'),
          ),
        )
    : [];
  if (consent?.state !== 'granted') {
    throw new TactfulError(
      'CONSENT.NOT_GRANTED',
      `Customer "${customer}" has not granted personalization (state: ${consent?.state ?? 'none'}): personal recommendations need it. Related products of a product need no consent.`,
    );
  }
  const orderCount = new Set(rows.map((r) => r.orderId)).size;
  // Only lines with a quantity are bought (a returned or zeroed line is not): as in the counts and the model.
  const purchases = rows.flatMap((r) => (r.productId === null ? [] : [{ productId: r.productId, time: r.createdAt }]));
  // What the customer said: exclusions, sensitive opt-ins (with the shop's sensitive categories), declared interests.
  const [profile] = await ctx.db
    .select()
    .from(profiles)
    .where(and(eq(profiles.shopId, ctx.shopId), eq(profiles.subjectId, subjectId!)));
  const key = profile ? await ctx.keys.subjectKey(ctx.db, ctx.shopId, subjectId!) : null;
  const preferences = profile ? openPreferences(key, profile) : emptyPreferences();
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  const { blockedProducts, blockedCategories } = basisRules(preferences, settings.sensitiveCategories);
  const declared = profile ? openAttributes(key, profile).interests : undefined;
  // Only what the customer told us reads "you told us": interests imported from elsewhere are not declarations.
  const interests = declared?.source === CUSTOMER_SOURCE && Array.isArray(declared.value) ? declared.value : [];
  const model = await getModel();
  const fit = options.fit === undefined ? await getFit(model) : options.fit;
  const rules = settings.merchandising;
  const { items, open, keptOut } = await getCatalogue(rules);
  const titleOf = (id: string) => items.get(id)?.title ?? id;
  const history = { purchases, interests, blockedProducts, blockedCategories };
  const listed = recommendForCustomer(model, { ...history, pinned: rules.pinnedProducts }, items, {
    now: ctx.now(),
    ...options,
    fit,
  });
  // What the shop's rules changed: the list the same customer would get without them, kept-out products only.
  const leftOut: LeftOut[] =
    keptOut.size === 0
      ? []
      : recommendForCustomer(model, history, open, { now: ctx.now(), ...options, fit }).flatMap((r) =>
          keptOut.has(r.productId) ? [keptOut.get(r.productId)!] : [],
        );
  const recommendations = listed.map((r) => ({
    ...r,
    reasons: r.reasons.map((reason) =>
      reason.kind === 'bought-with' ? { ...reason, becauseTitle: titleOf(reason.because) } : reason,
    ),
  }));
  return { customer, subjectId: subjectId!, purchases: orderCount, recommendations, leftOut };
}

/** A shop's counted orders matching `where`, each with its lines that have a quantity (null: none). */
function countedOrderLines(ctx: RecommendContext, where: SQL) {
  return ctx.db
    .select({
      orderId: orders.orderId,
      subjectId: orders.subjectId,
      createdAt: orders.createdAt,
      productId: orderLines.productId,
    })
    .from(orders)
    .leftJoin(
      orderLines,
      and(eq(orderLines.shopId, orders.shopId), eq(orderLines.orderId, orders.orderId), gt(orderLines.quantity, 0)),
    )
    .where(and(eq(orders.shopId, ctx.shopId), eq(orders.counted, true), where))
    .orderBy(orders.createdAt, orders.orderId, orderLines.lineNo);
}

export async function relatedToProduct(
  ctx: RecommendContext,
  getModel: () => Promise<CoPurchaseModel>,
  productId: string,
  k = 10,
  getCatalogue: (rules: MerchandisingRules) => Promise<MerchandisedCatalogue> = freshCatalogue(ctx),
): Promise<{ related: RelatedProduct[]; leftOut: LeftOut[] }> {
  const model = await getModel();
  if (model.productCount(productId) === 0) {
    throw new TactfulError(
      'RECOMMEND.UNKNOWN_PRODUCT',
      `Product "${productId}" is in no counted order of shop ${ctx.shopId}: check the id (ids are kept exactly, spaces included).`,
    );
  }
  const { items, keptOut } = await getCatalogue((await readShopSettings(ctx.db, ctx.shopId)).merchandising);
  // Ask for enough neighbours that the rules' removals still leave k.
  const neighbours = relatedProducts(model, productId, k + keptOut.size);
  const related: RelatedProduct[] = [];
  const leftOut: LeftOut[] = [];
  for (const n of neighbours) {
    const rule = keptOut.get(n.productId);
    if (rule) {
      if (related.length < k) leftOut.push(rule);
    } else if (related.length < k) related.push({ ...n, product: items.get(n.productId) ?? null });
  }
  return { related, leftOut };
}

/** A product bought together with another, with the pair's statistics. */
export interface RelatedProduct {
  productId: string;
  product: CatalogProduct | null;
  score: number;
  stats: PairStats;
}
