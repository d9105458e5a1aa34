/**
 * The attributes a profile may hold, their validation, and their update: each value carries its source and
 * time, and what the customer declared themselves outranks imported and inferred values.
 */
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit, type Actor } from '../audit/log.js';
import { TactfulError } from '../errors/tactful-error.js';
import { formatZodIssues } from '../errors/zod.js';
import type { KeyRing, ShopKeys } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { profiles } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { personalizationGranted, rebuildProfiles } from './lifecycle.js';
import { derivedColumns, openAttributes, sealAttributes } from './sealed-attributes.js';
import { ianaTimeZone } from './time-zone.js';

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
