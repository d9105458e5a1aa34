/**
 * Two subjects that turn out to be one person become one, as an explicit, audited step (Tactful never guesses
 * it; an id held by one person reported with another's address is audited as `subject.identity_conflict`).
 * The kept subject takes the other's consent history (copied into its ledger, evidence sealed again under its
 * key), its addresses and ids (as past ones, each with its span), orders, sends and campaign picks; its
 * consent is folded again over both histories, and the systems are told where the state changed. The merged
 * subject's key is destroyed: nothing of it stays readable outside the kept one.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { parseEmail } from '../identity/email.js';
import { withShopTransaction, type ShopContext, type ShopSession } from '../shop/context.js';
import type { ConsentEventData } from './event.js';
import type { ConsentState, OptInLevel } from '../ports.js';
import { foldConsent, isFirstPartyOptIn } from './fold.js';
import {
  eventContentHash,
  historiesOf,
  insertLedgerRows,
  nextLedgerRow,
  personalEvidenceOf,
  toFoldable,
  type LedgerRow,
} from './ledger.js';
import { TactfulError } from '../errors/tactful-error.js';
import {
  EMAIL,
  identifierIndex,
  identifiersOf,
  insertIdentifiers,
  newIdentifierRow,
  openIdentifier,
  suppressionsOf,
} from '../identity/identifiers.js';
import { rows } from '../store/open.js';
import {
  campaignRecipients,
  consentState,
  contactSends,
  flowSteps,
  optInTokens,
  orders,
  profiles,
  pushedConsent,
  subjectIdentifiers,
  subjects,
} from '../store/schema.js';
import { enqueue, type EnqueueInput } from '../sync/outbox.js';
import { refreshOrderSummaries } from '../profile/order-summaries.js';
import { personalizationGranted, purgeProfiles, rebuildProfiles } from '../profile/lifecycle.js';
import { requireSubjectByIdentifier } from '../profile/service.js';
import type { SubjectRow } from '../profile/subjects.js';
import { CUSTOMER_SOURCE, type ProfileAttributeName, type ProfileAttributes } from '../profile/attributes.js';
import { derivedColumns, openAttributes, sealAttributes } from '../profile/sealed-attributes.js';
import {
  emptyPreferences,
  openPreferences,
  sameCategory,
  sealPreferences,
  type CustomerPreferences,
} from '../preferences/preferences.js';

export interface MergeResult {
  keptSubjectId: string;
  mergedSubjectId: string;
  consentEvents: number;
  orders: number;
  /** Purposes whose state changed by the merge (and were pushed to the connected systems). */
  changed: string[];
  /** Attributes the kept person has from the merged one, and those where a value of either was dropped. */
  attributes: { fromMerged: string[]; dropped: AttributeLoser[] };
}

/** A value that lost to the other person's (its name, whose it was, its source and time; never the value). */
export interface AttributeLoser {
  name: string;
  of: 'kept' | 'merged';
  source: string;
  updatedAt: string;
}

/**
 * The attributes of one person from two profiles: per attribute, a value the customer declared outranks an
 * imported or inferred one (as in `updateAttributes`); between equals the newer wins, and on a tie the kept
 * person's. Each value that lost is named, with its source and time.
 */
export function mergeAttributes(
  kept: ProfileAttributes,
  merged: ProfileAttributes,
): { attrs: ProfileAttributes; fromMerged: string[]; dropped: AttributeLoser[] } {
  const attrs: ProfileAttributes = { ...kept };
  const fromMerged: string[] = [];
  const dropped: AttributeLoser[] = [];
  const rank = (v: { source: string }) => (v.source === CUSTOMER_SOURCE ? 1 : 0);
  for (const [name, theirs] of Object.entries(merged) as Array<
    [ProfileAttributeName, NonNullable<ProfileAttributes[ProfileAttributeName]>]
  >) {
    const ours = kept[name];
    if (!ours) {
      attrs[name] = theirs;
      fromMerged.push(name);
      continue;
    }
    if (JSON.stringify(ours.value) === JSON.stringify(theirs.value)) continue;
    const theirsWins =
      rank(theirs) !== rank(ours)
        ? rank(theirs) > rank(ours)
        : new Date(theirs.updatedAt).getTime() > new Date(ours.updatedAt).getTime();
    const loser = theirsWins ? ours : theirs;
    dropped.push({ name, of: theirsWins ? 'kept' : 'merged', source: loser.source, updatedAt: loser.updatedAt });
    if (theirsWins) {
      attrs[name] = theirs;
      fromMerged.push(name);
    }
  }
  return { attrs, fromMerged: fromMerged.sort(), dropped };
}

/**
 * One person's preferences from two: every exclusion of either stays (a "not this" is never lost), and so does
 * every sensitive-category opt-in (each was the person's own); categories compare as in the preference model.
 */
export function mergePreferences(kept: CustomerPreferences, merged: CustomerPreferences): CustomerPreferences {
  const union = (a: string[], b: string[], same: (x: string, y: string) => boolean) => {
    const out = [...a];
    for (const y of b) if (!out.some((x) => same(x, y))) out.push(y);
    return out;
  };
  const exact = (x: string, y: string) => x === y;
  return {
    excludedProducts: union(kept.excludedProducts, merged.excludedProducts, exact),
    excludedCategories: union(kept.excludedCategories, merged.excludedCategories, sameCategory),
    sensitiveOptIns: union(kept.sensitiveOptIns, merged.sensitiveOptIns, sameCategory),
  };
}

/**
 * The two people a merge names, or the refusal that says why not: two different addresses, neither erased
 * (on the suppression list), both known, not one person already.
 */
async function mergeablePair(
  ctx: ShopContext,
  keepEmail: string,
  mergeEmail: string,
): Promise<{ keep: SubjectRow & { email: string }; gone: SubjectRow & { email: string } }> {
  const keepAddress = parseEmail(keepEmail);
  const goneAddress = parseEmail(mergeEmail);
  if (keepAddress === goneAddress)
    throw new TactfulError(
      'PROFILE.INVALID',
      'Enter two different addresses: the person to keep and the one to merge.',
    );
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const lookup = { keys: ctx.keys, shopKeys, shopId: ctx.shopId };
  for (const address of [keepAddress, goneAddress])
    if ((await suppressionsOf(ctx.db, ctx.shopId, [identifierIndex(lookup, EMAIL, address)])).size > 0)
      throw new TactfulError(
        'PROFILE.SUPPRESSED',
        `${address} belongs to a person who asked to be erased: it cannot be merged into anyone.`,
      );
  // An address the person had before names them too: merging it again says they are one already.
  const keep = await requireSubjectByIdentifier(ctx, { email: keepAddress });
  const gone = await requireSubjectByIdentifier(ctx, { email: goneAddress });
  if (keep.subjectId === gone.subjectId)
    throw new TactfulError('PROFILE.INVALID', 'Both addresses are the same person already: nothing to merge.');
  return { keep, gone };
}

/** One person as a merge preview shows them. */
export interface MergePreviewPerson {
  subjectId: string;
  email: string;
  /** Every address they had before (their current one excluded). */
  pastEmails: string[];
  externalIds: Record<string, string>;
  consents: Array<{ purpose: string; state: string }>;
  orders: number;
  attributes: ProfileAttributes;
  preferences: CustomerPreferences;
}

/** What a merge would do, computed without changing anything (the view is audited). */
export interface MergePreview {
  keep: MergePreviewPerson;
  other: MergePreviewPerson;
  result: {
    consents: Array<{ purpose: string; state: string }>;
    orders: number;
    attributes: ProfileAttributes;
    fromMerged: string[];
    dropped: AttributeLoser[];
    preferences: CustomerPreferences;
    /** False when personalization is not granted after the fold: no profile (attributes, preferences) is kept. */
    profileKept: boolean;
  };
}

/** Both people and the merged result, as `mergeSubjects` would make it; refuses as it would. */
export async function previewMerge(
  ctx: ShopContext,
  keepEmail: string,
  mergeEmail: string,
  actor: Actor,
): Promise<MergePreview> {
  const { keep, gone } = await mergeablePair(ctx, keepEmail, mergeEmail);
  return withShopTransaction(ctx, actor, async (s) => {
    const keepKey = await ctx.keys.subjectKey(s.tx, s.shopId, keep.subjectId);
    const goneKey = await ctx.keys.subjectKey(s.tx, s.shopId, gone.subjectId);
    if (!keepKey || !goneKey) throw new TactfulError('SUBJECT.NOT_FOUND', 'One of the two people was erased.');
    const pair: Pair = { keep, gone, keepKey, goneKey };
    const held = await readProfiles(s, pair);
    const histories = await historiesOf(s.tx, s.shopId, [keep.subjectId, gone.subjectId]);
    const fold = (rows: LedgerRow[]) =>
      [...new Set(rows.map((r) => r.purpose))].sort().map((purpose) => ({
        purpose,
        state: foldConsent(rows.filter((r) => r.purpose === purpose).map(toFoldable)).state,
      }));
    const orderCounts = await s.tx
      .select({ subjectId: orders.subjectId, n: sql<number>`count(*)::int` })
      .from(orders)
      .where(and(eq(orders.shopId, s.shopId), inArray(orders.subjectId, [keep.subjectId, gone.subjectId])))
      .groupBy(orders.subjectId);
    const identifiers = await identifiersOf(s.tx, s.shopId, [keep.subjectId, gone.subjectId]);
    const person = (who: SubjectRow & { email: string }, key: Buffer, profile: HeldProfiles['kept']) => ({
      subjectId: who.subjectId,
      email: who.email,
      pastEmails: identifiers
        .filter((r) => r.subjectId === who.subjectId && r.kind === EMAIL && r.validTo !== null)
        .map((r) => openIdentifier(key, r))
        .filter((e, i, all) => e !== who.email && all.indexOf(e) === i),
      externalIds: who.externalIds,
      consents: fold(histories.filter((r) => r.subjectId === who.subjectId)),
      orders: orderCounts.find((c) => c.subjectId === who.subjectId)?.n ?? 0,
      attributes: profile.attrs,
      preferences: profile.preferences,
    });
    const consents = fold(histories);
    const profileKept = consents.some((c) => c.purpose === 'personalization' && c.state === 'granted');
    const merged = mergeAttributes(held.kept.attrs, held.merged.attrs);
    for (const subjectId of [keep.subjectId, gone.subjectId])
      await appendAudit(s.tx, s.shopId, s.head, {
        action: 'admin.action',
        actor,
        subjectId,
        at: s.recordedAt,
        details: { viewed: 'merge preview', with: subjectId === keep.subjectId ? gone.subjectId : keep.subjectId },
      });
    return {
      keep: person(keep, keepKey, held.kept),
      other: person(gone, goneKey, held.merged),
      result: {
        consents,
        orders: orderCounts.reduce((n, c) => n + c.n, 0),
        attributes: profileKept ? merged.attrs : {},
        fromMerged: profileKept ? merged.fromMerged : [],
        dropped: profileKept ? merged.dropped : [],
        preferences: profileKept
          ? mergePreferences(held.kept.preferences, held.merged.preferences)
          : emptyPreferences(),
        profileKept,
      },
    };
  });
}

/** Merges the person at `mergeEmail` into the person at `keepEmail`. */
export async function mergeSubjects(
  ctx: ShopContext,
  keepEmail: string,
  mergeEmail: string,
  actor: Actor,
): Promise<MergeResult> {
  const { keep, gone } = await mergeablePair(ctx, keepEmail, mergeEmail);
  const result = await withShopTransaction(ctx, actor, async (s) => {
    const keepKey = await ctx.keys.subjectKey(s.tx, s.shopId, keep.subjectId);
    const goneKey = await ctx.keys.subjectKey(s.tx, s.shopId, gone.subjectId);
    if (!keepKey || !goneKey) throw new TactfulError('SUBJECT.NOT_FOUND', 'One of the two people was erased.');
    const pair: Pair = { keep, gone, keepKey, goneKey };
    const held = await readProfiles(s, pair);
    const { copied, changed } = await mergeConsent(s, pair);
    await mergeIdentifiers(s, pair);
    const orders = await moveBelongings(s, pair);
    await followConsentWithProfile(s, keep.subjectId);
    const attributes = await mergeProfiles(s, pair, held);
    await retire(s, pair);
    await appendAudit(s.tx, s.shopId, s.head, {
      action: 'subject.merged',
      actor,
      subjectId: keep.subjectId,
      at: s.recordedAt,
      // Attribute names, sources and times only: never a value.
      details: { mergedSubjectId: gone.subjectId, consentEvents: copied, orders, changed, attributes },
    });
    return {
      keptSubjectId: keep.subjectId,
      mergedSubjectId: gone.subjectId,
      consentEvents: copied,
      orders,
      changed,
      attributes,
    };
  });
  ctx.keys.forgetSubject(ctx.shopId, gone.subjectId);
  return result;
}

/** The two people of a merge, with their keys: `keep` stays, `gone` becomes part of it. */
interface Pair {
  keep: SubjectRow & { email: string };
  gone: SubjectRow & { email: string };
  keepKey: Buffer;
  goneKey: Buffer;
}

/**
 * Consent: the merged person's events, copied to the kept one's history with their own times and sources, then
 * each purpose folded again over both; the systems are told of every purpose whose state changed.
 */
async function mergeConsent(
  s: ShopSession,
  { keep, gone, keepKey, goneKey }: Pair,
): Promise<{ copied: number; changed: string[] }> {
  const { tx, shopId } = s;
  const at = s.recordedAt;
  const histories = await historiesOf(tx, shopId, [keep.subjectId, gone.subjectId]);
  const copies: LedgerRow[] = [];
  for (const row of histories.filter((r) => r.subjectId === gone.subjectId)) {
    const data: ConsentEventData = {
      subject: { email: keep.email },
      purpose: row.purpose,
      state: row.state as ConsentState,
      level: row.level as OptInLevel,
      occurredAt: row.occurredAt,
      source: { system: row.sourceSystem, eventId: `merged:${row.eventId}`, method: toFoldable(row).source.method },
      evidence: { ...row.evidence, ...personalEvidenceOf(row, goneKey) },
    };
    copies.push(
      nextLedgerRow(shopId, s.head, {
        data,
        subjectId: keep.subjectId,
        subjectKey: keepKey,
        echo: row.echo,
        recordedAt: at,
        contentHash: eventContentHash(data),
      }),
    );
  }
  await insertLedgerRows(tx, copies);
  const before = new Map(
    (
      await tx
        .select()
        .from(consentState)
        .where(and(eq(consentState.shopId, shopId), eq(consentState.subjectId, keep.subjectId)))
    ).map((r) => [r.purpose, r]),
  );
  const all = [...histories.filter((r) => r.subjectId === keep.subjectId), ...copies];
  const changed: string[] = [];
  const pushes: EnqueueInput[] = [];
  for (const purpose of new Set(all.map((r) => r.purpose))) {
    const events = all.filter((r) => r.purpose === purpose);
    const folded = foldConsent(events.map(toFoldable));
    if (!folded.decidedBy || !folded.since) continue;
    const was = before.get(purpose);
    await tx
      .insert(consentState)
      .values({
        shopId,
        subjectId: keep.subjectId,
        purpose,
        state: folded.state,
        level: folded.level,
        since: folded.since,
        decidedBy: folded.decidedBy,
      })
      .onConflictDoUpdate({
        target: [consentState.shopId, consentState.subjectId, consentState.purpose],
        set: { state: folded.state, level: folded.level, since: folded.since, decidedBy: folded.decidedBy },
      });
    if (was?.state === folded.state && was.level === folded.level) continue;
    changed.push(purpose);
    const decider = events.find((e) => e.eventId === folded.decidedBy);
    for (const target of s.settings.connectedSystems)
      pushes.push({
        target,
        kind: 'consent.push',
        subjectId: keep.subjectId,
        payload: {
          email: keep.email,
          externalIds: { ...gone.externalIds, ...keep.externalIds },
          purpose,
          state: folded.state,
          level: folded.level,
          occurredAt: folded.since.toISOString(),
          firstParty: decider ? isFirstPartyOptIn(toFoldable(decider)) : false,
        },
      });
  }
  await enqueue(tx, s.keys, shopId, pushes, at);
  return { copied: copies.length, changed };
}

/**
 * Identity: the merged person's addresses and ids become the kept one's history (current ones end now; an id of
 * a system the kept person has no id in stays current).
 */
async function mergeIdentifiers(s: ShopSession, { keep, gone, keepKey, goneKey }: Pair): Promise<void> {
  const { tx, shopId } = s;
  const at = s.recordedAt;
  const theirs = await identifiersOf(tx, shopId, [gone.subjectId]);
  await tx
    .delete(subjectIdentifiers)
    .where(and(eq(subjectIdentifiers.shopId, shopId), eq(subjectIdentifiers.subjectId, gone.subjectId)));
  await insertIdentifiers(
    tx,
    theirs.map((row) => {
      const value = openIdentifier(goneKey, row);
      const stays = row.validTo === null && row.kind !== EMAIL && !keep.externalIds[row.kind];
      return {
        ...newIdentifierRow(s, keep.subjectId, keepKey, row.kind, value, row.validFrom),
        validTo: stays ? null : (row.validTo ?? at),
      };
    }),
  );
}

/** Everything else that hangs on the subject moves; a campaign both were picked for counts once. */
async function moveBelongings(s: ShopSession, { keep, gone }: Pair): Promise<number> {
  const { tx, shopId } = s;
  const moved = await tx
    .update(orders)
    .set({ subjectId: keep.subjectId })
    .where(and(eq(orders.shopId, shopId), eq(orders.subjectId, gone.subjectId)))
    .returning({ orderId: orders.orderId });
  await tx
    .update(contactSends)
    .set({ subjectId: keep.subjectId })
    .where(and(eq(contactSends.shopId, shopId), eq(contactSends.subjectId, gone.subjectId)));
  const keptCampaigns = (
    await tx
      .select({ campaign: campaignRecipients.campaign })
      .from(campaignRecipients)
      .where(and(eq(campaignRecipients.shopId, shopId), eq(campaignRecipients.subjectId, keep.subjectId)))
  ).map((r) => r.campaign);
  if (keptCampaigns.length > 0)
    await tx
      .delete(campaignRecipients)
      .where(
        and(
          eq(campaignRecipients.shopId, shopId),
          eq(campaignRecipients.subjectId, gone.subjectId),
          inArray(campaignRecipients.campaign, keptCampaigns),
        ),
      );
  await tx
    .update(campaignRecipients)
    .set({ subjectId: keep.subjectId })
    .where(and(eq(campaignRecipients.shopId, shopId), eq(campaignRecipients.subjectId, gone.subjectId)));
  await tx
    .update(optInTokens)
    .set({ subjectId: keep.subjectId })
    .where(and(eq(optInTokens.shopId, shopId), eq(optInTokens.subjectId, gone.subjectId)));
  // A flow's steps are per order, so they follow the orders: the kept person is mailed for them, once.
  await tx
    .update(flowSteps)
    .set({ subjectId: keep.subjectId })
    .where(and(eq(flowSteps.shopId, shopId), eq(flowSteps.subjectId, gone.subjectId)));
  for (const table of [pushedConsent, consentState, profiles] as const)
    await tx.delete(table).where(and(eq(table.shopId, shopId), eq(table.subjectId, gone.subjectId)));
  return moved.length;
}

interface HeldProfiles {
  kept: { attrs: ProfileAttributes; preferences: CustomerPreferences };
  merged: { attrs: ProfileAttributes; preferences: CustomerPreferences };
}

/** Both people's attributes and preferences, read before the merged person's profile and key go. */
async function readProfiles(s: ShopSession, { keep, gone, keepKey, goneKey }: Pair): Promise<HeldProfiles> {
  const found = await s.tx
    .select()
    .from(profiles)
    .where(and(eq(profiles.shopId, s.shopId), inArray(profiles.subjectId, [keep.subjectId, gone.subjectId])));
  const of = (subjectId: string, key: Buffer) => {
    const row = found.find((r) => r.subjectId === subjectId);
    return row
      ? { attrs: openAttributes(key, row), preferences: openPreferences(key, row) }
      : { attrs: {}, preferences: emptyPreferences() };
  };
  return { kept: of(keep.subjectId, keepKey), merged: of(gone.subjectId, goneKey) };
}

/**
 * The kept person's profile (when their consent still allows one) holds what both profiles held: attributes
 * by `mergeAttributes`, preferences by `mergePreferences`, sealed under the kept key.
 */
async function mergeProfiles(
  s: ShopSession,
  { keep, keepKey }: Pair,
  held: HeldProfiles,
): Promise<MergeResult['attributes']> {
  const { attrs, fromMerged, dropped } = mergeAttributes(held.kept.attrs, held.merged.attrs);
  const preferences = mergePreferences(held.kept.preferences, held.merged.preferences);
  const updated = await s.tx
    .update(profiles)
    .set({
      attrsEnc: Object.keys(attrs).length > 0 ? sealAttributes(keepKey, s.shopId, keep.subjectId, attrs) : null,
      ...derivedColumns(s.shopKeys, attrs, s.recordedAt),
      preferencesEnc: sealPreferences(keepKey, s.shopId, keep.subjectId, preferences),
      updatedAt: s.recordedAt,
    })
    .where(and(eq(profiles.shopId, s.shopId), eq(profiles.subjectId, keep.subjectId)))
    .returning({ subjectId: profiles.subjectId });
  // No profile (personalization is not granted after the merge): nothing of either profile is kept.
  if (updated.length === 0) return { fromMerged: [], dropped: [] };
  return { fromMerged, dropped };
}

/** The kept person's profile follows their consent and their orders now. */
async function followConsentWithProfile(s: ShopSession, subjectId: string): Promise<void> {
  const { tx, shopId, actor } = s;
  const at = s.recordedAt;
  if (await personalizationGranted(tx, shopId, subjectId)) {
    await rebuildProfiles(tx, shopId, s.head, [subjectId], actor, at);
    await refreshOrderSummaries(tx, shopId, [subjectId], at);
  } else await purgeProfiles(tx, shopId, s.head, [subjectId], actor, at);
}

/** The kept person holds both sets of ids; the merged one keeps no key, no address and no ids, only where it went. */
async function retire(s: ShopSession, { keep, gone }: Pair): Promise<void> {
  const { tx, shopId } = s;
  await tx
    .update(subjects)
    .set({ externalIds: { ...gone.externalIds, ...keep.externalIds } })
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, keep.subjectId)));
  await tx
    .update(subjects)
    .set({
      wrappedKey: null,
      emailEnc: Buffer.alloc(0),
      emailIndex: randomBytes(32),
      externalIds: {},
      mergedInto: keep.subjectId,
    })
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, gone.subjectId)));
}

/** Subjects merged into this one (directly or through others), whose audit entries are the person's too. */
export async function mergedInto(ctx: ShopContext, subjectId: string): Promise<string[]> {
  const found = await rows<{ subject_id: string }>(
    ctx.db,
    sql`
    with recursive m(subject_id) as (
      select subject_id from subjects where shop_id = ${ctx.shopId} and merged_into = ${subjectId}
      union select s.subject_id from subjects s join m on s.merged_into = m.subject_id where s.shop_id = ${ctx.shopId}
    ) select subject_id from m`,
  );
  return found.map((r) => r.subject_id);
}
