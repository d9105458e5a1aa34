/**
 * What a customer says about their own personalisation, beyond their attributes:
 * - "not this": a past purchase (a gift, say) or a whole category excluded from personalisation. It is never
 *   a basis, a stated reason or a recommendation for them again, until they undo it;
 * - opt-ins to sensitive categories: the shop marks categories sensitive (`sensitiveCategories` in the shop
 *   settings); purchases in them are never used unless the customer opted in to exactly that category.
 * Declared interests are the `interests` attribute of the profile with source `customer`.
 *
 * The preferences live on the profile (sealed with the subject's data key, column `preferences_enc`), so they
 * exist only while personalization is granted, are part of the export bundle and go with an erasure.
 */
import { and, eq, sql } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { openForSubject, sealForSubject, type KeyRing } from '../store/keyring.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { profiles } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';

export interface CustomerPreferences {
  /** Product ids of purchases the customer excluded. */
  excludedProducts: string[];
  /** Categories the customer excluded, in the catalogue's spelling. */
  excludedCategories: string[];
  /** Sensitive categories the customer allowed to be used, in the catalogue's spelling. */
  sensitiveOptIns: string[];
}

export const emptyPreferences = (): CustomerPreferences => ({
  excludedProducts: [],
  excludedCategories: [],
  sensitiveOptIns: [],
});

/** Categories compare case-insensitively. */
export function sameCategory(a: string, b: string): boolean {
  return categoryKey(a) === categoryKey(b);
}

function categoryKey(category: string): string {
  return category.trim().toLowerCase().normalize('NFC');
}

export function openPreferences(
  key: Buffer | null,
  row: { shopId: string; subjectId: string; preferencesEnc: Buffer | null },
): CustomerPreferences {
  if (!key || !row.preferencesEnc) return emptyPreferences();
  return {
    ...emptyPreferences(),
    ...(JSON.parse(
      openForSubject(key, row.shopId, row.subjectId, 'preferences', row.preferencesEnc),
    ) as Partial<CustomerPreferences>),
  };
}

export function sealPreferences(
  key: Buffer,
  shopId: string,
  subjectId: string,
  preferences: CustomerPreferences,
): Buffer {
  return sealForSubject(key, shopId, subjectId, 'preferences', JSON.stringify(preferences));
}

/** The categories of the shop's catalogue, by their case-insensitive key. */
export async function catalogueCategories(db: Db, shopId: string): Promise<Map<string, string>> {
  const found = await rows<{ category: string }>(
    db,
    sql`select distinct category from products where shop_id = ${shopId} and category is not null and category <> '' order by category`,
  );
  return new Map(found.map((r) => [categoryKey(r.category), r.category]));
}

/** What the customer bought (counted or not): product id → category. */
async function purchasedProducts(db: Db, shopId: string, subjectId: string): Promise<Map<string, string | null>> {
  const found = await rows<{ product_id: string; category: string | null }>(
    db,
    sql`select distinct l.product_id, p.category from orders o
        join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id
        left join products p on p.shop_id = l.shop_id and p.product_id = l.product_id
        where o.shop_id = ${shopId} and o.subject_id = ${subjectId}`,
  );
  return new Map(found.map((r) => [r.product_id, r.category]));
}

export type PreferenceChange =
  | { kind: 'exclude-product'; productId: string; undo?: boolean | undefined }
  | { kind: 'exclude-category'; category: string; undo?: boolean | undefined }
  | { kind: 'allow-sensitive'; category: string; undo?: boolean | undefined };

export interface PreferenceChangeResult {
  changed: boolean;
  preferences: CustomerPreferences;
}

const noProfile = () =>
  new TactfulError(
    'PREFERENCES.NO_PROFILE',
    'This customer has not allowed personal recommendations (personalization), so nothing about them is used and there is nothing to exclude or allow; they can turn it on in the preference centre.',
  );

/**
 * Applies one change (or its undo) to the subject's preferences, in the caller's transaction, and audits the
 * NAME of the list that changed (never the product or category: an audit entry must not reveal a purchase).
 * Bad input (a product they never bought, a category the shop does not have, undoing what is not there)
 * throws PREFERENCES.* and changes nothing.
 */
export async function changePreferences(
  tx: Db,
  ctx: { keys: KeyRing; shopId: string; head: ShopHead; sensitiveCategories: readonly string[] },
  subjectId: string,
  change: PreferenceChange,
  actor: Actor,
  at: Date,
): Promise<PreferenceChangeResult> {
  const { shopId } = ctx;
  const [row] = await tx
    .select({ shopId: profiles.shopId, subjectId: profiles.subjectId, preferencesEnc: profiles.preferencesEnc })
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subjectId)))
    .for('update');
  const key = await ctx.keys.subjectKey(tx, shopId, subjectId);
  if (!row || !key) throw noProfile();
  const preferences = openPreferences(key, row);
  const undo = change.undo === true;
  let list: keyof CustomerPreferences;
  let value: string;
  if (change.kind === 'exclude-product') {
    list = 'excludedProducts';
    value = change.productId;
    if (typeof value !== 'string' || value === '')
      throw new TactfulError(
        'PREFERENCES.INVALID',
        'Name the product to exclude by its id (as in `tactful profile show`).',
      );
    if (!undo && !(await purchasedProducts(tx, shopId, subjectId)).has(value)) {
      throw new TactfulError(
        'PREFERENCES.UNKNOWN_PURCHASE',
        `Product "${value}" is not among this customer's purchases: only a past purchase can be excluded (see \`tactful profile show\`).`,
      );
    }
  } else {
    list = change.kind === 'exclude-category' ? 'excludedCategories' : 'sensitiveOptIns';
    const categories = await catalogueCategories(tx, shopId);
    const named = typeof change.category === 'string' ? change.category.trim() : '';
    const found =
      named === ''
        ? undefined
        : (categories.get(categoryKey(named)) ?? preferences[list].find((c) => sameCategory(c, named)));
    if (!found)
      throw new TactfulError(
        'PREFERENCES.UNKNOWN_CATEGORY',
        `"${change.category}" is not a category of this shop's catalogue: use one of ${[...categories.values()].slice(0, 10).join(', ')}${categories.size > 10 ? ', ...' : ''}.`,
      );
    if (change.kind === 'allow-sensitive' && !undo && !ctx.sensitiveCategories.some((c) => sameCategory(c, found))) {
      throw new TactfulError(
        'PREFERENCES.UNKNOWN_SENSITIVE_CATEGORY',
        `"${found}" is not a sensitive category of this shop: its purchases are used without an opt-in (exclude it instead to stop that).`,
      );
    }
    value = found;
  }
  const has = preferences[list].some((v) => (list === 'excludedProducts' ? v === value : sameCategory(v, value)));
  if (undo && !has) {
    const what = list === 'excludedProducts' ? `product "${value}"` : `category "${value}"`;
    throw new TactfulError(
      'PREFERENCES.NOT_FOUND',
      `Nothing to undo: ${what} is not in this customer's ${list === 'sensitiveOptIns' ? 'sensitive opt-ins' : 'exclusions'}.`,
    );
  }
  if (undo === !has) return { changed: false, preferences };
  preferences[list] = undo
    ? preferences[list].filter((v) => (list === 'excludedProducts' ? v !== value : !sameCategory(v, value)))
    : [...preferences[list], value].sort();
  await tx
    .update(profiles)
    .set({ preferencesEnc: sealPreferences(key, shopId, subjectId, preferences), updatedAt: at })
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subjectId)));
  await appendAudit(tx, shopId, ctx.head, {
    action: 'profile.changed',
    actor,
    subjectId,
    at,
    details: { preferences: list, change: undo ? 'removed' : 'added', source: 'customer' },
  });
  return { changed: true, preferences };
}

/**
 * What may serve as a basis or a stated reason for the subject's recommendations, for the recommender:
 * purchases they excluded and categories they excluded or that are sensitive without their opt-in are blocked.
 */
export function basisRules(
  preferences: CustomerPreferences,
  sensitiveCategories: readonly string[],
): { blockedProducts: Set<string>; blockedCategories: Set<string> } {
  const blockedCategories = new Set(preferences.excludedCategories.map(categoryKey));
  for (const category of sensitiveCategories) {
    if (!preferences.sensitiveOptIns.some((c) => sameCategory(c, category)))
      blockedCategories.add(categoryKey(category));
  }
  return { blockedProducts: new Set(preferences.excludedProducts), blockedCategories };
}

/** Checks declared interests against the catalogue and returns them in the catalogue's spelling. */
export async function validInterests(db: Db, shopId: string, interests: readonly unknown[]): Promise<string[]> {
  const categories = await catalogueCategories(db, shopId);
  const unknown: string[] = [];
  const out: string[] = [];
  for (const i of interests) {
    const found = typeof i === 'string' ? categories.get(i.trim().toLowerCase().normalize('NFC')) : undefined;
    if (found) out.push(found);
    else unknown.push(String(i));
  }
  if (unknown.length > 0) {
    throw new TactfulError(
      'PROFILE.INVALID',
      `Unknown interest ${unknown.map((u) => `"${u}"`).join(', ')}: declared interests are categories of this shop's catalogue (${[...categories.values()].slice(0, 10).join(', ')}${categories.size > 10 ? ', ...' : ''}).`,
    );
  }
  return [...new Set(out)];
}
