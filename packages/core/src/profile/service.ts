/** Profile operations by email, for the engine and the CLI. */
import type { Actor } from '../audit/log.js';
import { parseEmail, withShopTransaction, type ShopContext } from '../consent/service.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { CustomerRecord } from '../ports.js';
import { findSubjectByEmail, subjectsByIndexes, type SubjectRow } from './subjects.js';
import { and, eq } from 'drizzle-orm';
import { validInterests } from '../preferences/preferences.js';
import { consentState } from '../store/schema.js';
import { enqueue } from '../sync/outbox.js';
import {
  CUSTOMER_SOURCE,
  changeSubjectEmail,
  profileAttributesInput,
  readProfile,
  updateAttributes,
  type AttributeUpdate,
  type ProfileAttributesInput,
  type ProfileView,
} from './profiles.js';
import { formatZodIssues } from '../errors/zod.js';

export async function requireSubjectByEmail(ctx: ShopContext, email: string): Promise<SubjectRow & { email: string }> {
  const normalised = parseEmail(email);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const subject = await findSubjectByEmail(ctx.db, { keys: ctx.keys, shopKeys, shopId: ctx.shopId }, normalised);
  if (!subject || subject.erasedAt)
    throw new TactfulError(
      'SUBJECT.NOT_FOUND',
      `No customer with email ${normalised} in shop ${ctx.shopId}: check the address or the --shop.`,
    );
  return { ...subject, email: normalised };
}

export async function showProfile(ctx: ShopContext, email: string): Promise<ProfileView> {
  const subject = await requireSubjectByEmail(ctx, email);
  return readProfile(ctx, subject);
}

export async function setProfileAttributes(
  ctx: ShopContext,
  email: string,
  attributes: ProfileAttributesInput | unknown,
  source: string,
  actor: Actor,
): Promise<AttributeUpdate> {
  const subject = await requireSubjectByEmail(ctx, email);
  return withShopTransaction(ctx, actor, (s) =>
    updateAttributes(s.tx, s, subject.subjectId, attributes, source, actor, s.recordedAt),
  );
}

/** Attributes other systems hold for a person and learn of when the customer corrects them. */
export const pushedAttributes = ['firstName', 'lastName'] as const;

/** The outbox kind of a customer's correction of attributes other systems hold. */
export const PROFILE_PUSH = 'profile.push';

/** What a `profile.push` outbox row carries: the corrected values, `null` for a value the customer removed. */
export interface ProfilePushPayload {
  email: string;
  externalIds?: Record<string, string>;
  fields: Partial<Record<(typeof pushedAttributes)[number], string | null>>;
}

/**
 * Rectification (GDPR Art. 16): the customer corrects what is held about them. Values are stored with source
 * `customer`, which later imports and syncs do not overwrite; each change is audited (names of the fields,
 * never values); names reach every connected system through the outbox, in the same transaction. Declared
 * interests must be categories of the catalogue. Returns `{ stored: false }` while personalization is not
 * granted (nothing beyond identity is held then).
 */
export async function rectifyProfile(
  ctx: ShopContext,
  email: string,
  attributes: ProfileAttributesInput | unknown,
  actor: Actor,
): Promise<AttributeUpdate> {
  const subject = await requireSubjectByEmail(ctx, email);
  const parsed = profileAttributesInput.safeParse(attributes);
  if (!parsed.success)
    throw new TactfulError(
      'PROFILE.INVALID',
      `Invalid profile attributes: ${formatZodIssues(parsed.error).join('; ')}`,
    );
  const input: Record<string, unknown> = { ...parsed.data };
  if (Array.isArray(parsed.data.interests))
    input.interests = (await validInterests(ctx.db, ctx.shopId, parsed.data.interests)).map((i) => i.toLowerCase());
  return withShopTransaction(ctx, actor, async (s) => {
    const update = await updateAttributes(s.tx, s, subject.subjectId, input, CUSTOMER_SOURCE, actor, s.recordedAt);
    if (!update.stored) return update;
    const fields: ProfilePushPayload['fields'] = {};
    for (const name of pushedAttributes)
      if (update.changed.includes(name)) fields[name] = (parsed.data[name] as string | null | undefined) ?? null;
    if (Object.keys(fields).length === 0 || s.settings.connectedSystems.length === 0) return update;
    // An email provider holds only people in its audience: those with an email-marketing state Tactful knows.
    const [marketing] = await s.tx
      .select({ state: consentState.state })
      .from(consentState)
      .where(
        and(
          eq(consentState.shopId, ctx.shopId),
          eq(consentState.subjectId, subject.subjectId),
          eq(consentState.purpose, 'email_marketing'),
        ),
      );
    const payload: ProfilePushPayload = { email: subject.email, externalIds: subject.externalIds, fields };
    await enqueue(
      s.tx,
      ctx.keys,
      ctx.shopId,
      s.settings.connectedSystems.map((target) => ({
        target,
        kind: PROFILE_PUSH,
        subjectId: subject.subjectId,
        payload: { ...payload, inAudience: marketing !== undefined },
      })),
      s.recordedAt,
    );
    return update;
  });
}

/**
 * Takes the attributes a commerce platform holds (names, location) for customers Tactful knows; customers
 * without a subject or without personalization consent are skipped (counted), nothing of them is stored.
 */
export async function ingestCustomerAttributes(
  ctx: ShopContext,
  records: readonly CustomerRecord[],
  source: string,
  actor: Actor,
): Promise<{ stored: number; skipped: number }> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const withEmail = records.filter((r): r is CustomerRecord & { email: string } => Boolean(r.email));
  const known = new Map(
    (
      await subjectsByIndexes(
        ctx.db,
        ctx.shopId,
        withEmail.map((r) => ctx.keys.emailIndex(shopKeys, r.email.trim().toLowerCase())),
      )
    ).map((s) => [s.emailIndex.toString('hex'), s.subjectId]),
  );
  let stored = 0;
  let skipped = records.length - withEmail.length;
  await withShopTransaction(ctx, actor, async (s) => {
    for (const r of withEmail) {
      const subjectId = known.get(ctx.keys.emailIndex(shopKeys, r.email.trim().toLowerCase()).toString('hex'));
      if (!subjectId) {
        skipped += 1;
        continue;
      }
      const patch: Record<string, string> = {};
      if (r.firstName) patch.firstName = r.firstName;
      if (r.lastName) patch.lastName = r.lastName;
      if (r.country && /^[A-Za-z]{2}$/.test(r.country.trim())) patch.country = r.country;
      if (r.region) patch.region = r.region;
      if (r.city) patch.city = r.city;
      const out = await updateAttributes(s.tx, s, subjectId, patch, source, actor, s.recordedAt);
      if (out.stored) stored += 1;
      else skipped += 1;
    }
  });
  return { stored, skipped };
}

/** An email change keeps the subject, its consent history and its profile. */
export async function changeEmail(
  ctx: ShopContext,
  oldEmail: string,
  newEmail: string,
  actor: Actor,
): Promise<{ subjectId: string }> {
  const subject = await requireSubjectByEmail(ctx, oldEmail);
  const next = parseEmail(newEmail);
  await withShopTransaction(ctx, actor, (s) =>
    changeSubjectEmail(s.tx, s, subject.subjectId, next, actor, s.recordedAt),
  );
  ctx.keys.forgetSubject(ctx.shopId, subject.subjectId);
  return { subjectId: subject.subjectId };
}
