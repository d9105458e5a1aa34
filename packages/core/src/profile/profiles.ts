/**
 * Customer profiles: one per subject per shop, held ONLY while the subject's `personalization` consent is
 * granted. Identity (the email and the ids in other systems) lives in `subjects`; everything else — the
 * attributes with their provenance, the order summary, the RFM scores — lives in `profiles`, is deleted in
 * the same transaction as a withdrawal and rebuilt from order history (kept on the basis of the sales
 * contract) on a fresh grant. Attribute values are sealed with the subject's data key; only coarse derived
 * values that segments filter on in SQL are plain (see the comment on `profiles` in store/schema.ts).
 */
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ianaTimeZone } from './time-zone.js';
import { appendAudit, insertAuditRows, nextAuditRow, type Actor } from '../audit/log.js';
import { hmac } from '../crypto/cipher.js';
import { openForSubject, sealForSubject, type KeyRing, type ShopKeys } from '../store/keyring.js';
import { TactfulError } from '../errors/tactful-error.js';
import { formatZodIssues } from '../errors/zod.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { consentState, kv, profiles } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { openPreferences, type CustomerPreferences } from '../preferences/preferences.js';

/** The purpose whose grant allows a profile to exist. */
export const PROFILE_PURPOSE = 'personalization';

/** Attributes a profile may hold. Those in `sealedAttributes` are only ever stored encrypted. */
export const profileAttributeNames = [
  'firstName',
  'lastName',
  'gender',
  'birthDate',
  'country',
  'region',
  'city',
  'jobTitle',
  'interests',
  'timeZone',
] as const;
export type ProfileAttributeName = (typeof profileAttributeNames)[number];
/** Attributes that segments may compare for equality through a keyed hash (their values stay encrypted). */
export const sealedAttributes = ['firstName', 'lastName', 'birthDate', 'city', 'jobTitle', 'timeZone'] as const;

const shortText = z.string().trim().min(1).max(200);
// A real calendar day (2026-02-31 is refused: Date.parse would roll it over to March).
const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD')
  .refine((s) => {
    const t = Date.parse(`${s}T00:00:00Z`);
    return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
  }, 'not a real date');
const timeZone = ianaTimeZone;

/** Validates an attribute patch; `null` deletes an attribute. */
export const profileAttributesInput = z
  .object({
    firstName: shortText.nullable(),
    lastName: shortText.nullable(),
    gender: z.string().trim().toLowerCase().min(1).max(40).nullable(),
    birthDate: isoDay
      .refine((s) => Date.parse(`${s}T00:00:00Z`) <= Date.now(), 'a birth date cannot be in the future')
      .nullable(),
    country: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'a two-letter ISO country code')
      .nullable(),
    region: shortText.nullable(),
    city: shortText.nullable(),
    jobTitle: shortText.nullable(),
    interests: z.array(z.string().trim().toLowerCase().min(1).max(60)).max(100).nullable(),
    timeZone: timeZone.nullable(),
  })
  .partial()
  .strict();
export type ProfileAttributesInput = z.input<typeof profileAttributesInput>;

export interface AttributeValue {
  value: string | string[];
  /** The system that reported it: `shopify`, `cli`, `form`, ... */
  source: string;
  updatedAt: string;
}
export type ProfileAttributes = Partial<Record<ProfileAttributeName, AttributeValue>>;

export interface ProfileContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
  now: () => Date;
}

/** The normalised form of a value before it is blind-indexed (segments normalise their operand the same way). */
export function normaliseForIndex(value: string): string {
  return value.trim().toLowerCase().normalize('NFC');
}

export function attributeIndex(shopKeys: ShopKeys, name: string, value: string): string {
  return hmac(shopKeys.indexKey, `attr:${name}:${normaliseForIndex(value)}`).toString('hex');
}

/** Whole years between a birth date (YYYY-MM-DD) and `at`, and when that number next changes. */
export function ageAt(birthDate: string, at: Date): { age: number; validUntil: Date } {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - y;
  const birthdayThisYear = Date.UTC(at.getUTCFullYear(), m - 1, d);
  if (at.getTime() < birthdayThisYear) age -= 1;
  const next = new Date(Date.UTC(y + age + 1, m - 1, d));
  return { age, validUntil: next };
}

type ProfileRow = typeof profiles.$inferSelect;

/** The plain, derived columns of a profile from its attributes. */
function derivedColumns(shopKeys: ShopKeys, attrs: ProfileAttributes, at: Date) {
  const text = (name: ProfileAttributeName) => {
    const v = attrs[name]?.value;
    return typeof v === 'string' ? v : null;
  };
  const birth = text('birthDate');
  const age = birth ? ageAt(birth, at) : null;
  const attrIndex: Record<string, string> = {};
  for (const name of sealedAttributes) {
    const v = text(name);
    if (v) attrIndex[name] = attributeIndex(shopKeys, name, v);
  }
  const interests = attrs.interests?.value;
  return {
    attrIndex,
    attrKeys: Object.keys(attrs).sort(),
    gender: text('gender'),
    age: age?.age ?? null,
    ageValidUntil: age?.validUntil ?? null,
    country: text('country'),
    region: text('region'),
    interests: Array.isArray(interests) ? interests : [],
  };
}

export function sealAttributes(key: Buffer, shopId: string, subjectId: string, attrs: ProfileAttributes): Buffer {
  return sealForSubject(key, shopId, subjectId, 'profile', JSON.stringify(attrs));
}

export function openAttributes(
  key: Buffer | null,
  row: Pick<ProfileRow, 'shopId' | 'subjectId' | 'attrsEnc'>,
): ProfileAttributes {
  if (!key || !row.attrsEnc) return {};
  return JSON.parse(openForSubject(key, row.shopId, row.subjectId, 'profile', row.attrsEnc)) as ProfileAttributes;
}

export async function personalizationGranted(db: Db, shopId: string, subjectId: string): Promise<boolean> {
  const [row] = await db
    .select({ state: consentState.state })
    .from(consentState)
    .where(
      and(
        eq(consentState.shopId, shopId),
        eq(consentState.subjectId, subjectId),
        eq(consentState.purpose, PROFILE_PURPOSE),
      ),
    );
  return row?.state === 'granted';
}

const idsJson = (ids: readonly string[]) => JSON.stringify([...new Set(ids)]);

/**
 * Links orders that name the subject only by the blind index of its email (or by an id of another
 * system) to the subject, then recomputes the order summary of these subjects' profiles.
 */
export async function refreshOrderSummaries(
  tx: Db,
  shopId: string,
  subjectIds: readonly string[],
  at: Date,
): Promise<void> {
  if (subjectIds.length === 0) return;
  await markRfmStale(tx, shopId);
  const ids = idsJson(subjectIds);
  // The subjects' order references (email index and platform ids) are listed first, then matched with plain
  // equality, which the orders_customer_ref index serves even before the planner has statistics; an
  // expression join made every grant compare each order with each subject.
  const refs = await rows<{ subject_id: string; ref: string }>(
    tx,
    sql`select s.subject_id, r.ref
        from subjects s
        cross join lateral (
          select 'e:' || encode(s.email_index, 'hex') as ref
          union all select e.key || ':' || e.value from jsonb_each_text(s.external_ids) e
        ) r
        where s.shop_id = ${shopId} and s.subject_id in (select jsonb_array_elements_text(${ids}::jsonb)) and s.wrapped_key is not null`,
  );
  if (refs.length > 0) {
    await tx.execute(sql`
      update orders o set subject_id = x.subject_id
      from jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) as x(subject_id text, ref text)
      where o.shop_id = ${shopId} and o.subject_id is null and o.customer_ref = x.ref`);
  }
  await tx.execute(sql`
    update profiles p set
      order_count = coalesce(agg.n, 0),
      revenue = coalesce(agg.revenue, 0),
      first_order_at = agg.first_at,
      last_order_at = agg.last_at,
      updated_at = ${at.toISOString()}::timestamptz
    from (
      select q.subject_id, o.n, o.revenue, o.first_at, o.last_at
      from (select jsonb_array_elements_text(${ids}::jsonb) as subject_id) q
      left join (
        select subject_id, count(*)::int as n, sum(coalesce(nullif(total_price, '')::numeric, 0)) as revenue,
               min(created_at) as first_at, max(created_at) as last_at
        from orders
        where shop_id = ${shopId} and counted and subject_id in (select jsonb_array_elements_text(${ids}::jsonb))
        group by subject_id
      ) o on o.subject_id = q.subject_id
    ) agg
    where p.shop_id = ${shopId} and p.subject_id = agg.subject_id`);
}

/** Creates (empty) profiles for subjects whose personalization was just granted and fills their order summary. */
export async function rebuildProfiles(
  tx: Db,
  shopId: string,
  head: ShopHead,
  subjectIds: readonly string[],
  actor: Actor,
  at: Date,
): Promise<void> {
  if (subjectIds.length === 0) return;
  const ids = idsJson(subjectIds);
  await tx.execute(sql`
    insert into profiles (shop_id, subject_id, created_at, updated_at)
    select ${shopId}, q.id, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz
    from (select jsonb_array_elements_text(${ids}::jsonb) as id) q
    on conflict (shop_id, subject_id) do nothing`);
  await refreshOrderSummaries(tx, shopId, subjectIds, at);
  await insertAuditRows(
    tx,
    [...new Set(subjectIds)].map((subjectId) =>
      nextAuditRow(shopId, head, {
        action: 'profile.changed',
        actor,
        subjectId,
        at,
        details: { rebuilt: true, reason: 'personalization granted' },
      }),
    ),
  );
}

/** Deletes the profiles of subjects whose personalization is no longer granted; the ledger keeps the proof. */
export async function purgeProfiles(
  tx: Db,
  shopId: string,
  head: ShopHead,
  subjectIds: readonly string[],
  actor: Actor,
  at: Date,
  reason = 'personalization withdrawn',
): Promise<number> {
  if (subjectIds.length === 0) return 0;
  const ids = idsJson(subjectIds);
  await markRfmStale(tx, shopId);
  const deleted = await rows<{ subject_id: string }>(
    tx,
    sql`delete from profiles where shop_id = ${shopId} and subject_id in (select jsonb_array_elements_text(${ids}::jsonb)) returning subject_id`,
  );
  await insertAuditRows(
    tx,
    deleted.map((r) =>
      nextAuditRow(shopId, head, { action: 'profile.purged', actor, subjectId: r.subject_id, at, details: { reason } }),
    ),
  );
  return deleted.length;
}

/** The source of values the customer declared themselves (preference centre, a rectification request). */
export const CUSTOMER_SOURCE = 'customer';

/**
 * `kept`: attributes left as they were because the customer declared them and this update comes from another
 * source (an import, a platform sync): what the customer said outranks imported and inferred values.
 */
export type AttributeUpdate =
  | { stored: true; changed: string[]; kept?: string[] }
  | { stored: false; reason: 'no-personalization-consent' };

/**
 * Sets (or with `null` deletes) attributes of the subject's profile, each with its source and time. Stores
 * nothing and says so when personalization is not granted.
 */
export async function updateAttributes(
  tx: Db,
  ctx: { keys: KeyRing; shopKeys: ShopKeys; shopId: string; head: ShopHead },
  subjectId: string,
  input: unknown,
  source: string,
  actor: Actor,
  at: Date,
): Promise<AttributeUpdate> {
  const parsed = profileAttributesInput.safeParse(input);
  if (!parsed.success)
    throw new TactfulError(
      'PROFILE.INVALID',
      `Invalid profile attributes: ${formatZodIssues(parsed.error).join('; ')}`,
    );
  const { shopId } = ctx;
  if (!(await personalizationGranted(tx, shopId, subjectId)))
    return { stored: false, reason: 'no-personalization-consent' };
  const key = await ctx.keys.subjectKey(tx, shopId, subjectId);
  if (!key) return { stored: false, reason: 'no-personalization-consent' };
  let [row] = await tx
    .select()
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subjectId)))
    .for('update');
  if (!row) {
    await rebuildProfiles(tx, shopId, ctx.head, [subjectId], actor, at);
    [row] = await tx
      .select()
      .from(profiles)
      .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subjectId)));
  }
  const attrs = openAttributes(key, row!);
  const changed: string[] = [];
  const kept: string[] = [];
  for (const [name, value] of Object.entries(parsed.data) as Array<
    [ProfileAttributeName, string | string[] | null | undefined]
  >) {
    if (value === undefined) continue;
    if (source !== CUSTOMER_SOURCE && attrs[name]?.source === CUSTOMER_SOURCE) {
      kept.push(name);
      continue;
    }
    const before = attrs[name]?.value;
    if (value === null) {
      if (before !== undefined) {
        delete attrs[name];
        changed.push(name);
      }
      continue;
    }
    if (JSON.stringify(before) === JSON.stringify(value) && attrs[name]?.source === source) continue;
    attrs[name] = { value, source, updatedAt: at.toISOString() };
    changed.push(name);
  }
  if (changed.length === 0) return kept.length > 0 ? { stored: true, changed, kept } : { stored: true, changed };
  await tx
    .update(profiles)
    .set({
      attrsEnc: sealAttributes(key, shopId, subjectId, attrs),
      ...derivedColumns(ctx.shopKeys, attrs, at),
      updatedAt: at,
    })
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subjectId)));
  // Names of the changed fields only, never their values.
  await appendAudit(tx, shopId, ctx.head, {
    action: 'profile.changed',
    actor,
    subjectId,
    at,
    details: kept.length > 0 ? { fields: changed, source, kept } : { fields: changed, source },
  });
  return kept.length > 0 ? { stored: true, changed, kept } : { stored: true, changed };
}

// ---------------------------------------------------------------------------------------------------------
// RFM

/**
 * RFM labels from the recency score R and the mean of the frequency and monetary scores FM (rounded),
 * first match wins. Documented in docs/privacy.md.
 */
export const rfmLabels = [
  { label: 'champions', rule: 'R >= 4 and FM >= 4', sql: 'r >= 4 and fm >= 4' },
  { label: 'loyal', rule: 'R >= 3 and FM >= 4', sql: 'r >= 3 and fm >= 4' },
  { label: 'potential_loyalists', rule: 'R >= 4 and FM 2-3', sql: 'r >= 4 and fm >= 2' },
  { label: 'new_customers', rule: 'R >= 4 and FM = 1', sql: 'r >= 4' },
  { label: 'need_attention', rule: 'R = 3 and FM = 3', sql: 'r = 3 and fm = 3' },
  { label: 'promising', rule: 'R = 3 and FM <= 2', sql: 'r = 3' },
  { label: 'cannot_lose', rule: 'R = 1 and FM = 5', sql: 'r = 1 and fm = 5' },
  { label: 'at_risk', rule: 'R <= 2 and FM >= 3', sql: 'fm >= 3' },
  { label: 'hibernating', rule: 'R = 2 and FM <= 2', sql: 'r = 2' },
  { label: 'lost', rule: 'R = 1 and FM <= 2', sql: 'true' },
] as const;
export type RfmLabel = (typeof rfmLabels)[number]['label'];

const RFM_KEY = 'profiles.rfm_scored_at';

/**
 * Recomputes every profile's R, F and M quintile (1–5 among the shop's profiles with at least one order;
 * ties share the lower score) and label in two statements, and refreshes ages whose birthday passed.
 */
export async function rescoreProfiles(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  await refreshAges(db, keys, shopId, at);
  const score = (col: string) =>
    sql.raw(`least(5, 1 + floor(5.0 * (rank() over (order by ${col}) - 1) / count(*) over ()))::int`);
  const label = sql.raw(`case ${rfmLabels.map((l) => `when ${l.sql} then '${l.label}'`).join(' ')} end`);
  await db.transaction(async (tx) => {
    await tx.execute(sql`
      with s as (
        select subject_id, ${score('last_order_at')} as r, ${score('order_count')} as f, ${score('revenue')} as m
        from profiles where shop_id = ${shopId} and order_count > 0
      ), l as (select subject_id, r, f, m, round((f + m) / 2.0)::int as fm from s),
      lab as (select subject_id, r, f, m, ${label} as label from l)
      update profiles p set recency_score = lab.r, frequency_score = lab.f, monetary_score = lab.m, rfm_label = lab.label
      from lab where p.shop_id = ${shopId} and p.subject_id = lab.subject_id
        and (p.recency_score is distinct from lab.r or p.frequency_score is distinct from lab.f
             or p.monetary_score is distinct from lab.m or p.rfm_label is distinct from lab.label)`);
    await tx.execute(sql`update profiles set recency_score = null, frequency_score = null, monetary_score = null, rfm_label = null
      where shop_id = ${shopId} and order_count = 0 and recency_score is not null`);
    await tx
      .insert(kv)
      .values({ shopId, key: RFM_KEY, value: at.toISOString(), updatedAt: at })
      .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value: at.toISOString(), updatedAt: at } });
  });
}

/** Marks the shop's RFM scores stale: the next report or RFM segment rescores first. */
export async function markRfmStale(tx: Db, shopId: string): Promise<void> {
  await tx.delete(kv).where(and(eq(kv.shopId, shopId), eq(kv.key, RFM_KEY)));
}

/** Rescores when the order summaries changed since the last scoring (or an age went stale). */
export async function ensureScored(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  const [state] = await rows<{ scored: boolean; stale: number }>(
    db,
    sql`select exists (select 1 from kv where shop_id = ${shopId} and key = ${RFM_KEY}) as scored,
               (select count(*)::int from profiles where shop_id = ${shopId} and age_valid_until <= ${at.toISOString()}::timestamptz) as stale`,
  );
  if (state?.scored && Number(state.stale) === 0) return;
  await rescoreProfiles(db, keys, shopId, at);
}

async function refreshAges(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  const stale = await db
    .select({ shopId: profiles.shopId, subjectId: profiles.subjectId, attrsEnc: profiles.attrsEnc })
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), sql`${profiles.ageValidUntil} <= ${at.toISOString()}::timestamptz`));
  for (const row of stale) {
    const key = await keys.subjectKey(db, shopId, row.subjectId);
    const birth = openAttributes(key, row).birthDate?.value;
    const age = typeof birth === 'string' ? ageAt(birth, at) : null;
    await db
      .update(profiles)
      .set({ age: age?.age ?? null, ageValidUntil: age?.validUntil ?? null })
      .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, row.subjectId)));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Reading a profile

export interface ProfileView {
  subjectId: string;
  email: string;
  externalIds: Record<string, string>;
  personalization: 'granted' | 'not-granted';
  /** Null while personalization is not granted: nothing beyond identity is held. */
  profile: {
    attributes: ProfileAttributes;
    age: number | null;
    orders: {
      count: number;
      revenue: number;
      averageOrderValue: number;
      firstOrderAt: Date | null;
      lastOrderAt: Date | null;
    };
    products: Array<{
      productId: string;
      title: string;
      category: string | null;
      quantity: number;
      lastBoughtAt: Date;
    }>;
    categories: Array<{ category: string; quantity: number }>;
    rfm: { recency: number; frequency: number; monetary: number; label: string } | null;
    /** What the customer excluded ("not this") and which sensitive categories they allowed. */
    preferences: CustomerPreferences;
    createdAt: Date;
    updatedAt: Date;
  } | null;
}

export async function readProfile(
  ctx: ProfileContext,
  subject: { subjectId: string; email: string; externalIds: Record<string, string> },
): Promise<ProfileView> {
  const { db, shopId } = ctx;
  await ensureScored(db, ctx.keys, shopId, ctx.now());
  const [row] = await db
    .select()
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, subject.subjectId)));
  const base = { subjectId: subject.subjectId, email: subject.email, externalIds: subject.externalIds };
  if (!row) return { ...base, personalization: 'not-granted', profile: null };
  const key = await ctx.keys.subjectKey(db, shopId, subject.subjectId);
  const bought = await rows<{
    product_id: string;
    title: string | null;
    category: string | null;
    quantity: number;
    last_at: string;
  }>(
    db,
    sql`select l.product_id, pr.title, pr.category, sum(l.quantity)::int as quantity, max(o.created_at)::text as last_at
        from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id
        left join products pr on pr.shop_id = l.shop_id and pr.product_id = l.product_id
        where o.shop_id = ${shopId} and o.subject_id = ${subject.subjectId} and o.counted and l.quantity > 0
        group by l.product_id, pr.title, pr.category order by max(o.created_at) desc, l.product_id`,
  );
  const categories = new Map<string, number>();
  for (const b of bought) if (b.category) categories.set(b.category, (categories.get(b.category) ?? 0) + b.quantity);
  const revenue = Number(row.revenue);
  return {
    ...base,
    personalization: 'granted',
    profile: {
      attributes: openAttributes(key, row),
      age: row.age,
      orders: {
        count: row.orderCount,
        revenue,
        averageOrderValue: row.orderCount > 0 ? Math.round((revenue / row.orderCount) * 100) / 100 : 0,
        firstOrderAt: row.firstOrderAt,
        lastOrderAt: row.lastOrderAt,
      },
      products: bought.map((b) => ({
        productId: b.product_id,
        title: b.title ?? b.product_id,
        category: b.category,
        quantity: b.quantity,
        lastBoughtAt: new Date(b.last_at),
      })),
      categories: [...categories]
        .map(([category, quantity]) => ({ category, quantity }))
        .sort((a, b) => b.quantity - a.quantity || a.category.localeCompare(b.category)),
      rfm:
        row.recencyScore && row.frequencyScore && row.monetaryScore && row.rfmLabel
          ? {
              recency: row.recencyScore,
              frequency: row.frequencyScore,
              monetary: row.monetaryScore,
              label: row.rfmLabel,
            }
          : null,
      preferences: openPreferences(key, row),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    },
  };
}

/** Profiles of subjects with orders: the ids whose summary must follow an order change. */
export async function profiledAmong(db: Db, shopId: string, subjectIds: readonly string[]): Promise<string[]> {
  if (subjectIds.length === 0) return [];
  const found = await rows<{ subject_id: string }>(
    db,
    sql`select subject_id from profiles where shop_id = ${shopId} and subject_id in (select jsonb_array_elements_text(${idsJson(subjectIds)}::jsonb))`,
  );
  return found.map((r) => r.subject_id);
}

/**
 * The emails of many subjects in clear, in a few set-based reads (the subject keys unwrapped in memory);
 * erased subjects are left out. For reports that list many customers.
 */
export async function emailsOfMany(
  db: Db,
  keys: KeyRing,
  shopId: string,
  subjectIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (subjectIds.length === 0) return out;
  const shopKeys = await keys.shop(db, shopId);
  const unique = [...new Set(subjectIds)];
  for (let i = 0; i < unique.length; i += 5000) {
    const found = await rows<{
      subject_id: string;
      email_enc: Buffer | Uint8Array;
      wrapped_key: Buffer | Uint8Array | null;
    }>(
      db,
      sql`select subject_id, email_enc, wrapped_key from subjects where shop_id = ${shopId} and wrapped_key is not null
          and subject_id in (select jsonb_array_elements_text(${JSON.stringify(unique.slice(i, i + 5000))}::jsonb))`,
    );
    for (const r of found) {
      const key = keys.unwrapSubjectKey(shopKeys, shopId, r.subject_id, Buffer.from(r.wrapped_key!));
      if (key) out.set(r.subject_id, openForSubject(key, shopId, r.subject_id, 'email', Buffer.from(r.email_enc)));
    }
  }
  return out;
}
