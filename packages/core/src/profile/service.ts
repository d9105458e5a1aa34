/** Profile operations by email, for the engine and the CLI. */
import type { Actor } from '../audit/log.js';
import { parseEmail } from '../identity/email.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { CustomerRecord } from '../ports.js';
import { findSubjectByEmail, findSubjectByIdentifier, subjectsByIndexes, type SubjectRow } from './subjects.js';
import { reportIsStale, repointAddress, type AddressChange } from '../identity/change.js';
import { and, eq } from 'drizzle-orm';
import { validInterests } from '../preferences/preferences.js';
import { consentState, subjects } from '../store/schema.js';
import { openForSubject } from '../store/keyring.js';
import { EMAIL, holdersOf, identifierIndex, identifiersOf } from '../identity/identifiers.js';
import { enqueue } from '../sync/outbox.js';
import { readProfile, type ProfileView } from './view.js';
import {
  CUSTOMER_SOURCE,
  profileAttributesInput,
  updateAttributes,
  type AttributeUpdate,
  type ProfileAttributesInput,
} from './attributes.js';
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

/** The live person an address (current or past) or an id of theirs names, with their address now. */
export async function requireSubjectByIdentifier(
  ctx: ShopContext,
  claim: { email?: string | null | undefined; ids?: Record<string, string> | undefined },
): Promise<SubjectRow & { email: string }> {
  const email = claim.email ? parseEmail(claim.email) : null;
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const found = await findSubjectByIdentifier(
    ctx.db,
    { keys: ctx.keys, shopKeys, shopId: ctx.shopId },
    {
      email,
      ids: claim.ids,
    },
  );
  const key = found ? ctx.keys.unwrapSubjectKey(shopKeys, ctx.shopId, found.subjectId, found.wrappedKey) : null;
  if (!found || !key)
    throw new TactfulError(
      'SUBJECT.NOT_FOUND',
      `No customer ${email ? `with email ${email}` : 'with that id'} in shop ${ctx.shopId}: check the address or the --shop.`,
    );
  return {
    shopId: found.shopId,
    subjectId: found.subjectId,
    externalIds: found.externalIds,
    createdAt: found.createdAt,
    erasedAt: found.erasedAt,
    email: openForSubject(key, ctx.shopId, found.subjectId, 'email', found.emailEnc),
  };
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

/**
 * An address change (the customer's own correction, or another system's report): the person keeps their
 * subject, consents, orders and profile; the old address stays in their history. The person is found by the
 * old address, or by an address they had before. Refusals (the new address is suppressed or another person's)
 * are audited and returned, not thrown: `requireChange` turns them into errors for callers that want one.
 */
export async function changeEmail(
  ctx: ShopContext,
  oldEmail: string,
  newEmail: string,
  actor: Actor,
  source = 'tactful',
): Promise<AddressChange> {
  const previous = parseEmail(oldEmail);
  const next = parseEmail(newEmail);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const found = await findSubjectByIdentifier(
    ctx.db,
    { keys: ctx.keys, shopKeys, shopId: ctx.shopId },
    { email: previous },
  );
  if (!found)
    throw new TactfulError(
      'SUBJECT.NOT_FOUND',
      `No customer with email ${previous} in shop ${ctx.shopId}: check the address or the --shop.`,
    );
  const lookup = { keys: ctx.keys, shopKeys, shopId: ctx.shopId };
  if (!found.emailIndex.equals(identifierIndex(lookup, EMAIL, previous))) {
    // The report starts from an address the person has left. When it lands on one they had after it, the
    // move is already in their history (Tactful's own change coming back, or a system catching up): nothing
    // moves back.
    const had = await identifiersOf(ctx.db, ctx.shopId, [found.subjectId]);
    const from = had.find((r) => r.kind === EMAIL && r.valueIndex.equals(identifierIndex(lookup, EMAIL, previous)));
    const onto = had.find((r) => r.kind === EMAIL && r.valueIndex.equals(identifierIndex(lookup, EMAIL, next)));
    if (from && onto && onto.validFrom.getTime() >= from.validFrom.getTime())
      return { status: 'unchanged', subjectId: found.subjectId };
  }
  return withShopTransaction(ctx, actor, (s) =>
    repointAddress(s, found.subjectId, next, { source, actor, at: s.recordedAt }),
  );
}

/**
 * What a system reports about one of its customers (Shopify customers/update, a sync): when the person holding
 * that system's id has another address in Tactful, the address changed there, and follows here (or the change
 * is refused and audited). Returns null when Tactful does not know the id.
 */
export async function noteCustomerAddress(
  ctx: ShopContext,
  system: string,
  externalId: string,
  email: string,
  actor: Actor,
  /** When the system says the customer record last changed (its `updatedAt`). */
  reportedAt: Date = ctx.now(),
): Promise<AddressChange | null> {
  const next = parseEmail(email);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const lookup = { keys: ctx.keys, shopKeys, shopId: ctx.shopId };
  const [holder] = [...(await holdersOf(ctx.db, ctx.shopId, [identifierIndex(lookup, system, externalId)])).values()];
  if (!holder?.current) return null;
  const [subject] = await ctx.db
    .select({ emailIndex: subjects.emailIndex, wrappedKey: subjects.wrappedKey })
    .from(subjects)
    .where(and(eq(subjects.shopId, ctx.shopId), eq(subjects.subjectId, holder.subjectId)));
  if (!subject?.wrappedKey) return null;
  const nextIndex = identifierIndex(lookup, EMAIL, next);
  if (subject.emailIndex.equals(nextIndex)) return { status: 'unchanged', subjectId: holder.subjectId };
  // An address the person had before: a change back only when the system has heard of the move off it.
  const past = (await identifiersOf(ctx.db, ctx.shopId, [holder.subjectId]))
    .filter((r) => r.kind === EMAIL && r.valueIndex.equals(nextIndex))
    .at(-1);
  if (past && (await reportIsStale(ctx.db, ctx.shopId, holder.subjectId, system, past, reportedAt)))
    return { status: 'unchanged', subjectId: holder.subjectId };
  return withShopTransaction(ctx, actor, (s) =>
    repointAddress(s, holder.subjectId, next, { source: system, actor, at: s.recordedAt }),
  );
}

/** The change, or the error that says why it was refused. */
export function requireChange(change: AddressChange): { subjectId: string } {
  if (change.status !== 'refused') return { subjectId: change.subjectId };
  if (change.reason === 'suppressed')
    throw new TactfulError(
      'PROFILE.SUPPRESSED',
      'The new address belongs to a person who asked to be erased: it cannot be given to anyone else. Use another address.',
    );
  if (change.reason === 'belongs-to-another')
    throw new TactfulError(
      'PROFILE.CONFLICT',
      'The new email already belongs to another customer of this shop: if they are the same person, merge them (tactful profile merge); otherwise keep one address each.',
    );
  throw new TactfulError('SUBJECT.NOT_FOUND', 'This customer was erased; their email cannot be changed.');
}
