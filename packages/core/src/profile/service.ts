/** Profile operations by email, for the engine and the CLI. */
import type { Actor } from '../audit/log.js';
import { parseEmail, withShopTransaction, type ShopContext } from '../consent/service.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { CustomerRecord } from '../ports.js';
import { findSubjectByEmail, subjectsByIndexes, type SubjectRow } from './subjects.js';
import { changeSubjectEmail, readProfile, updateAttributes, type AttributeUpdate, type ProfileAttributesInput, type ProfileView } from './profiles.js';

export async function requireSubjectByEmail(ctx: ShopContext, email: string): Promise<SubjectRow & { email: string }> {
  const normalised = parseEmail(email);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const subject = await findSubjectByEmail(ctx.db, { keys: ctx.keys, shopKeys, shopId: ctx.shopId }, normalised);
  if (!subject || subject.erasedAt) throw new TactfulError('SUBJECT.NOT_FOUND', `No customer with email ${normalised} in shop ${ctx.shopId}: check the address or the --shop.`);
  return { ...subject, email: normalised };
}

export async function showProfile(ctx: ShopContext, email: string): Promise<ProfileView> {
  const subject = await requireSubjectByEmail(ctx, email);
  return readProfile(ctx, subject);
}

export async function setProfileAttributes(ctx: ShopContext, email: string, attributes: ProfileAttributesInput | unknown, source: string, actor: Actor): Promise<AttributeUpdate> {
  const subject = await requireSubjectByEmail(ctx, email);
  return withShopTransaction(ctx, actor, (s) => updateAttributes(s.tx, s, subject.subjectId, attributes, source, actor, s.recordedAt));
}

/**
 * Takes the attributes a commerce platform holds (names, location) for customers Tactful knows; customers
 * without a subject or without personalization consent are skipped (counted), nothing of them is stored.
 */
export async function ingestCustomerAttributes(ctx: ShopContext, records: readonly CustomerRecord[], source: string, actor: Actor): Promise<{ stored: number; skipped: number }> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const withEmail = records.filter((r): r is CustomerRecord & { email: string } => Boolean(r.email));
  const known = new Map(
    (await subjectsByIndexes(ctx.db, ctx.shopId, withEmail.map((r) => ctx.keys.emailIndex(shopKeys, r.email.trim().toLowerCase())))).map((s) => [s.emailIndex.toString('hex'), s.subjectId]),
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
export async function changeEmail(ctx: ShopContext, oldEmail: string, newEmail: string, actor: Actor): Promise<{ subjectId: string }> {
  const subject = await requireSubjectByEmail(ctx, oldEmail);
  const next = parseEmail(newEmail);
  await withShopTransaction(ctx, actor, (s) => changeSubjectEmail(s.tx, s, subject.subjectId, next, actor, s.recordedAt));
  ctx.keys.forgetSubject(ctx.shopId, subject.subjectId);
  return { subjectId: subject.subjectId };
}
