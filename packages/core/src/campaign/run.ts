/**
 * The related-product campaign: who may get it, what each email says, and sending it exactly once.
 *
 * Eligible: `email_marketing` granted (at `confirmed` where the shop requires double opt-in) AND
 * `personalization` granted AND the address not undeliverable AND the contact policy allows a send now AND
 * at least one personal recommendation (a purchase or a declaration of theirs, not mere popularity) above
 * the threshold. Everyone else is counted under the first rule they fail.
 *
 * Exactly once: every (campaign, person) has one `campaign_recipients` row, claimed in a transaction
 * before the provider is called, in a *wave* whose provider idempotency key is `<campaign>#<wave>`. A wave
 * left `claimed` by a crash is re-sent under the same key on the next run (the provider recognises the key
 * and does not send twice); two instances never claim the same person, and only one takes over a stale
 * wave. The send, the contact-policy record and the audit entry are written in one transaction after the
 * provider answered.
 */
import { hostname } from 'node:os';
import { and, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit, type Actor } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { decideContact, readContactPolicy, type SendRecord } from '../contact/policy.js';
import { TactfulError, isTactfulError } from '../errors/tactful-error.js';
import { parseOrThrow } from '../errors/zod.js';
import { emailsOfMany } from '../profile/subjects.js';
import { openAttributes } from '../profile/sealed-attributes.js';
import { rows } from '../store/open.js';
import type { CampaignContent, CampaignMessage, CampaignSender, EmailProvider } from '../ports.js';
import type { CustomerRecommendations, ExplainedRecommendation } from '../recommend/service.js';
import { readShopSettings, type ShopSettings } from '../shop/settings.js';
import { campaignRecipients, campaigns, campaignWaves, consentState, contactSends, subjects } from '../store/schema.js';
import {
  MAX_CAMPAIGN_PRODUCTS,
  isPersonalReason,
  personalFrame,
  productContent,
  reasonLine,
  renderPreview,
} from './content.js';

export const campaignName = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/,
    'a campaign name is 1-80 letters, digits, dots, dashes or underscores, starting with a letter or digit (e.g. spring-2026)',
  );

export const runCampaignSchema = z
  .object({
    name: campaignName,
    subject: z.string().trim().min(1).max(150).default('Picked for you'),
    /** Segment JSON (see the segment language); only its members are considered. */
    segment: z.unknown().optional(),
    /** At most this many people get this campaign, over all its runs. */
    maxRecipients: z.number().int().positive().optional(),
    dryRun: z.boolean().default(false),
    /** The app's public URL: preference-centre and unsubscribe links start with it. */
    publicUrl: z.url({ message: 'publicUrl must be an absolute URL such as https://tactful.example.com' }),
    /** A recommendation counts when its score is above this. */
    minScore: z.number().min(0).default(0),
    /** Dry run: how many rendered previews to return. */
    previews: z.number().int().min(0).max(1000).default(20),
    /** Dry run only: consider only these people (subject ids), e.g. to preview one customer's email. */
    only: z.array(z.string().min(1)).min(1).max(1000).optional(),
    /** Dry run only: evaluate as of this time (the contact policy's quiet hours, caps). */
    at: z.date().optional(),
    /** Recipients per provider call (one provider campaign each). */
    waveSize: z.number().int().min(1).max(50_000).default(5_000),
    /** How long a claimed wave belongs to its instance before another may resume it. */
    leaseSeconds: z.number().int().min(1).max(86_400).default(600),
    /** This process's identity: a restarted instance with the same id resumes its own waves at once. */
    instanceId: z.string().min(1).max(200).optional(),
  })
  .strict();
export type RunCampaignInput = z.input<typeof runCampaignSchema>;

export type ExclusionReason =
  | 'no_email_consent'
  | 'not_confirmed'
  | 'no_personalization'
  | 'undeliverable'
  | 'not_in_segment'
  | 'frequency_cap'
  | 'quiet_hours'
  | 'no_recommendation'
  | 'over_max_recipients';

export const exclusionLabels: Record<ExclusionReason, string> = {
  no_email_consent: 'email offers not granted',
  not_confirmed: 'double opt-in not confirmed',
  no_personalization: 'personal recommendations not granted',
  undeliverable: 'address undeliverable',
  not_in_segment: 'not in the segment',
  frequency_cap: 'frequency cap reached',
  quiet_hours: 'quiet hours now',
  no_recommendation: 'nothing to recommend',
  over_max_recipients: 'over the recipient limit',
};

export interface CampaignPreview {
  email: string;
  subjectId: string;
  content: CampaignContent;
  html: string;
  text: string;
}

export interface CampaignRunResult {
  campaign: string;
  dryRun: boolean;
  /** People the shop holds (erased ones not counted). */
  considered: number;
  /** Would get (dry run) or were handed to the provider in this run. */
  eligible: number;
  sent: number;
  /** Already got this campaign in an earlier run (or another instance is sending it to them now). */
  alreadySent: number;
  /** Interrupted waves finished in this run. */
  resumedWaves: number;
  failed: Array<{ email: string; code: string; message: string }>;
  excluded: Partial<Record<ExclusionReason, number>>;
  previews: CampaignPreview[];
  warnings: string[];
}

export interface CampaignDeps {
  ctx: ShopContext;
  provider?: EmailProvider | undefined;
  /** Personal recommendations for one person (the engine's `recommend.forCustomer`, exclusions applied). */
  recommend: (email: string, options: { k: number }) => Promise<CustomerRecommendations>;
  /** Subject ids of a segment's members (the engine's `segments.members`). */
  segmentMembers?: (segment: unknown) => Promise<string[]>;
  actor?: Actor;
  /** Progress: called with (done, total) while people are evaluated and waves are sent. */
  onProgress?: (phase: 'evaluate' | 'send', done: number, total: number) => void;
}

export interface Candidate {
  subjectId: string;
  emState: string | null;
  emLevel: string | null;
  emSince: Date | null;
  pzState: string | null;
  undeliverable: boolean;
}

const systemActor: Actor = { type: 'system', id: 'campaign' };

/**
 * The shop's people with the two consents the campaign needs: the subjects and the shop's consent states of
 * those two purposes read as two plain scans and matched in memory. (Correlated sub-selects per person were
 * planned, without statistics — PGlite never gathers them on its own — as a scan of every state of the
 * purpose per person: quadratic in the shop's size.)
 */
export async function loadCandidates(ctx: ShopContext, only?: readonly string[]): Promise<Candidate[]> {
  const people = await ctx.db
    .select({ subjectId: subjects.subjectId, undeliverableAt: subjects.undeliverableAt })
    .from(subjects)
    .where(
      and(
        eq(subjects.shopId, ctx.shopId),
        sql`${subjects.erasedAt} is null`,
        only ? inArray(subjects.subjectId, [...only]) : undefined,
      ),
    )
    .orderBy(subjects.subjectId);
  const states = await ctx.db
    .select({
      subjectId: consentState.subjectId,
      purpose: consentState.purpose,
      state: consentState.state,
      level: consentState.level,
      since: consentState.since,
    })
    .from(consentState)
    .where(
      and(
        eq(consentState.shopId, ctx.shopId),
        inArray(consentState.purpose, ['email_marketing', 'personalization']),
        only ? inArray(consentState.subjectId, [...only]) : undefined,
      ),
    );
  const em = new Map<string, (typeof states)[number]>();
  const pz = new Map<string, string>();
  for (const s of states) {
    if (s.purpose === 'email_marketing') em.set(s.subjectId, s);
    else pz.set(s.subjectId, s.state);
  }
  return people.map((r) => {
    const e = em.get(r.subjectId);
    return {
      subjectId: r.subjectId,
      emState: e?.state ?? null,
      emLevel: e?.level ?? null,
      emSince: e?.since ?? null,
      pzState: pz.get(r.subjectId) ?? null,
      undeliverable: r.undeliverableAt !== null,
    };
  });
}

/** The first consent or deliverability rule the person fails, or null: the rule every marketing email obeys. */
export function consentExclusion(c: Candidate, requireDoubleOptIn: boolean): ExclusionReason | null {
  if (c.emState !== 'granted') return 'no_email_consent';
  if (requireDoubleOptIn && c.emLevel !== 'confirmed') return 'not_confirmed';
  if (c.pzState !== 'granted') return 'no_personalization';
  if (c.undeliverable) return 'undeliverable';
  return null;
}

/** Earlier sends per person (for the contact policy), one query for everyone. */
export async function sendsBySubject(
  ctx: ShopContext,
  subjectIds: readonly string[],
  since: Date,
): Promise<Map<string, SendRecord[]>> {
  const out = new Map<string, SendRecord[]>();
  for (let i = 0; i < subjectIds.length; i += 1000) {
    const rows = await ctx.db
      .select({ subjectId: contactSends.subjectId, sentAt: contactSends.sentAt, productIds: contactSends.productIds })
      .from(contactSends)
      .where(
        and(
          eq(contactSends.shopId, ctx.shopId),
          inArray(contactSends.subjectId, subjectIds.slice(i, i + 1000)),
          sql`${contactSends.sentAt} > ${since}`,
        ),
      );
    for (const r of rows) {
      const list = out.get(r.subjectId) ?? [];
      list.push({ sentAt: r.sentAt, productIds: r.productIds });
      out.set(r.subjectId, list);
    }
  }
  return out;
}

/** Time zones people gave, read with their wrapped keys in a few set-based reads (no query per person). */
export async function timeZonesOf(ctx: ShopContext, subjectIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  for (let i = 0; i < subjectIds.length; i += 5000) {
    const found = await rows<{ subject_id: string; attrs_enc: Buffer | Uint8Array; wrapped_key: Buffer | Uint8Array }>(
      ctx.db,
      sql`select p.subject_id, p.attrs_enc, s.wrapped_key from profiles p
          join subjects s on s.shop_id = p.shop_id and s.subject_id = p.subject_id
          where p.shop_id = ${ctx.shopId} and p.attrs_enc is not null and s.wrapped_key is not null
            and p.subject_id in (select jsonb_array_elements_text(${JSON.stringify(subjectIds.slice(i, i + 5000))}::jsonb))`,
    );
    for (const row of found) {
      const key = ctx.keys.unwrapSubjectKey(shopKeys, ctx.shopId, row.subject_id, Buffer.from(row.wrapped_key));
      const attrs = openAttributes(key, {
        shopId: ctx.shopId,
        subjectId: row.subject_id,
        attrsEnc: Buffer.from(row.attrs_enc),
      });
      const tz = attrs.timeZone?.value;
      if (typeof tz === 'string') out.set(row.subject_id, tz);
    }
  }
  return out;
}

export type RunOptions = z.output<typeof runCampaignSchema>;
type Message = CampaignMessage & { subjectId: string; productIds: string[] };
/** What this person's email would say now, or why they get none. */
type Compose = (
  subjectId: string,
  email: string,
) => Promise<{ content: CampaignContent; productIds: string[] } | ExclusionReason>;

/** One run: what each of its steps reads, and the result they add to. */
interface Run {
  deps: CampaignDeps;
  ctx: ShopContext;
  options: RunOptions;
  actor: Actor;
  provider: EmailProvider | undefined;
  settings: ShopSettings;
  sender: CampaignSender;
  instanceId: string;
  at: Date;
  result: CampaignRunResult;
  compose: Compose;
}

export async function runCampaign(deps: CampaignDeps, input: RunCampaignInput | unknown): Promise<CampaignRunResult> {
  const options = parseOrThrow(runCampaignSchema, input, 'CAMPAIGN.INVALID', 'campaign');
  const { ctx, provider } = deps;
  refuseImpossibleRun(options, provider);
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  const warnings: string[] = [];
  const sender = senderOf(options, settings, ctx.shopId, warnings);
  const segmentMembers =
    options.segment === undefined ? null : new Set((await deps.segmentMembers?.(options.segment)) ?? []);
  const result: CampaignRunResult = {
    campaign: options.name,
    dryRun: options.dryRun,
    considered: 0,
    eligible: 0,
    sent: 0,
    alreadySent: 0,
    resumedWaves: 0,
    failed: [],
    excluded: {},
    previews: [],
    warnings,
  };
  const run: Run = {
    deps,
    ctx,
    options,
    actor: deps.actor ?? systemActor,
    provider,
    settings,
    sender,
    instanceId: options.instanceId ?? hostname(),
    at: options.at ?? ctx.now(),
    result,
    compose: await composer(deps, options, settings),
  };

  // 1. Finish waves an interrupted run left behind; 2. everyone else who may get it now.
  const handled = options.dryRun ? new Set<string>() : await resumeWaves(run);
  const ready = await selectRecipients(run, handled, segmentMembers);
  result.eligible += ready.length;
  if (options.dryRun) {
    result.previews = ready.slice(0, options.previews).map((m) => ({
      email: m.email,
      subjectId: m.subjectId,
      content: m.content,
      ...renderPreview({ subject: options.subject, sender, content: m.content }),
    }));
    return result;
  }
  // 3. Claim and send, one wave at a time.
  await recordCampaign(run);
  for (let i = 0; i < ready.length; i += options.waveSize) {
    const part = ready.slice(i, i + options.waveSize);
    const { wave, claimed } = await claimWave(run, part);
    const lost = part.length - claimed.size;
    result.alreadySent += lost;
    result.eligible -= lost;
    await deliverWave(
      run,
      wave,
      part.filter((m) => claimed.has(m.subjectId)),
      [],
    );
    deps.onProgress?.('send', Math.min(i + options.waveSize, ready.length), ready.length);
  }
  return result;
}

/** Options a real send cannot honour, and a send with nothing to send it through, are refused up front. */
function refuseImpossibleRun(options: RunOptions, provider: EmailProvider | undefined): void {
  if (options.at && !options.dryRun)
    throw new TactfulError(
      'CAMPAIGN.INVALID',
      'Only a dry run may be evaluated at another time (--at): a real send happens now.',
    );
  if (options.only && !options.dryRun)
    throw new TactfulError(
      'CAMPAIGN.INVALID',
      'Only a dry run may be restricted to chosen people: a send goes to everyone eligible (use a segment).',
    );
  if (options.dryRun) return;
  if (!provider)
    throw new TactfulError(
      'CAMPAIGN.NO_PROVIDER',
      "No email provider is connected: connect Mailchimp on the admin's Connections page (or MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID) or run a dry run.",
    );
  if (!provider.capabilities.campaigns || !provider.sendCampaign)
    throw new TactfulError('CAMPAIGN.NO_PROVIDER', `The email provider ${provider.system} cannot send campaigns.`);
}

/** The shop's sender identity; a dry run without one previews with a placeholder and says so. */
export function senderOf(
  options: { dryRun: boolean },
  settings: ShopSettings,
  shopId: string,
  warnings: string[],
): CampaignSender {
  if (settings.sender) return settings.sender;
  if (!options.dryRun)
    throw new TactfulError(
      'CAMPAIGN.NO_SENDER',
      "The shop has no sender identity (name, reply address, postal address): set it in the admin's Settings or with `tactful settings sender`, then send.",
    );
  warnings.push(
    'No sender identity is set: the previews show a placeholder; set name, reply address and postal address before sending.',
  );
  return { name: shopId, email: `hello@${shopId}`, postalAddress: '(postal address not set)' };
}

function exclude(result: CampaignRunResult, reason: ExclusionReason): void {
  result.excluded[reason] = (result.excluded[reason] ?? 0) + 1;
}

/** Builds each person's email: their personal recommendations, why, their consent line and their links. */
export async function composer(deps: CampaignDeps, options: RunOptions, settings: ShopSettings): Promise<Compose> {
  const { ctx } = deps;
  const frameOf = await personalFrame(ctx, options.publicUrl);
  const shopUrl = `https://${ctx.shopId}`;
  return async (subjectId, email) => {
    let recs: ExplainedRecommendation[];
    try {
      recs = (await deps.recommend(email, { k: 10 })).recommendations;
    } catch (error) {
      if (isTactfulError(error, 'CONSENT.NOT_GRANTED')) return 'no_personalization';
      if (isTactfulError(error, 'SUBJECT.NOT_FOUND')) return 'no_recommendation';
      throw error;
    }
    const shown = recs
      .filter((r) => r.score > options.minScore && r.reasons.some(isPersonalReason))
      .slice(0, MAX_CAMPAIGN_PRODUCTS);
    const reason = reasonLine(shown);
    if (shown.length === 0 || !reason) return 'no_recommendation';
    const frame = await frameOf(subjectId);
    if (!frame) return 'no_email_consent';
    const content: CampaignContent = {
      products: shown.map((r) => productContent(r, options.name, shopUrl, settings.currency)),
      reason,
      ...frame,
    };
    return { content, productIds: shown.map((r) => r.productId) };
  };
}

/**
 * Finishes waves an interrupted run left behind: this instance's at once, others' once their lease ran out.
 * Returns the people those waves held, so the rest of the run leaves them alone.
 */
async function resumeWaves(run: Run): Promise<Set<string>> {
  const { ctx, options, result } = run;
  const handled = new Set<string>();
  const stale = await ctx.db
    .update(campaignWaves)
    .set({ claimedBy: run.instanceId, leaseUntil: new Date(ctx.now().getTime() + options.leaseSeconds * 1000) })
    .where(
      and(
        eq(campaignWaves.shopId, ctx.shopId),
        eq(campaignWaves.campaign, options.name),
        eq(campaignWaves.status, 'claimed'),
        or(eq(campaignWaves.claimedBy, run.instanceId), lt(campaignWaves.leaseUntil, ctx.now())),
      ),
    )
    .returning({ wave: campaignWaves.wave });
  for (const { wave } of stale.sort((a, b) => a.wave - b.wave)) {
    const members = await ctx.db
      .select({ subjectId: campaignRecipients.subjectId })
      .from(campaignRecipients)
      .where(
        and(
          eq(campaignRecipients.shopId, ctx.shopId),
          eq(campaignRecipients.campaign, options.name),
          eq(campaignRecipients.wave, wave),
          eq(campaignRecipients.status, 'claimed'),
        ),
      );
    // Consent is checked again: someone may have withdrawn since the claim. They are released, not sent.
    const again = await loadCandidates(
      ctx,
      members.map((m) => m.subjectId),
    );
    const emails = await emailsOfMany(
      ctx.db,
      ctx.keys,
      ctx.shopId,
      again.map((c) => c.subjectId),
    );
    const messages: Message[] = [];
    const released: string[] = members.map((m) => m.subjectId).filter((id) => !again.some((c) => c.subjectId === id));
    for (const c of again) {
      handled.add(c.subjectId);
      const email = emails.get(c.subjectId);
      const blocked = consentExclusion(c, run.settings.requireDoubleOptIn);
      const composed = email && !blocked ? await run.compose(c.subjectId, email) : (blocked ?? 'no_recommendation');
      if (typeof composed === 'string') {
        exclude(result, composed);
        released.push(c.subjectId);
      } else
        messages.push({
          email: email!,
          content: composed.content,
          subjectId: c.subjectId,
          productIds: composed.productIds,
        });
    }
    result.eligible += messages.length;
    await deliverWave(run, wave, messages, released);
    result.resumedWaves += 1;
  }
  return handled;
}

/** Everyone else, in order: consent, segment, earlier runs, the contact policy, the limit, recommendations. */
async function selectRecipients(
  run: Run,
  handled: ReadonlySet<string>,
  segmentMembers: ReadonlySet<string> | null,
): Promise<Message[]> {
  const { ctx, options, result, at } = run;
  const candidates = await loadCandidates(ctx, options.only);
  result.considered = candidates.length;
  const taken = new Set(
    (
      await ctx.db
        .select({ subjectId: campaignRecipients.subjectId })
        .from(campaignRecipients)
        .where(and(eq(campaignRecipients.shopId, ctx.shopId), eq(campaignRecipients.campaign, options.name)))
    ).map((r) => r.subjectId),
  );
  const open: Candidate[] = [];
  for (const c of candidates) {
    if (handled.has(c.subjectId)) continue;
    if (taken.has(c.subjectId)) {
      result.alreadySent += 1;
      continue;
    }
    const blocked =
      consentExclusion(c, run.settings.requireDoubleOptIn) ??
      (segmentMembers && !segmentMembers.has(c.subjectId) ? 'not_in_segment' : null);
    if (blocked) exclude(result, blocked);
    else open.push(c);
  }
  const policy = await readContactPolicy(ctx.db, ctx.shopId);
  const longest = policy.caps.reduce((days, c) => Math.max(days, c.days), policy.productResendDays ?? 0);
  const ids = open.map((c) => c.subjectId);
  const sends = await sendsBySubject(ctx, ids, new Date(at.getTime() - longest * 86_400_000));
  const zones = await timeZonesOf(ctx, ids);
  const emails = await emailsOfMany(ctx.db, ctx.keys, ctx.shopId, ids);
  const room = options.maxRecipients === undefined ? Infinity : Math.max(0, options.maxRecipients - taken.size);
  const ready: Message[] = [];
  let done = 0;
  for (const c of open) {
    run.deps.onProgress?.('evaluate', ++done, open.length);
    const email = emails.get(c.subjectId);
    if (!email) {
      exclude(result, 'undeliverable');
      continue;
    }
    const decision = decideContact(policy, sends.get(c.subjectId) ?? [], at, {
      timeZone: zones.get(c.subjectId) ?? null,
    });
    if (!decision.ok) {
      exclude(result, decision.reason === 'quiet_hours' ? 'quiet_hours' : 'frequency_cap');
      continue;
    }
    if (ready.length >= room) {
      exclude(result, 'over_max_recipients');
      continue;
    }
    const composed = await run.compose(c.subjectId, email);
    if (typeof composed === 'string') {
      exclude(result, composed);
      continue;
    }
    // The same product is not featured again within the policy's window: drop those, keep the person if any remain.
    const recent = new Set(
      (sends.get(c.subjectId) ?? [])
        .filter(
          (s) =>
            policy.productResendDays !== null &&
            s.sentAt.getTime() > at.getTime() - policy.productResendDays * 86_400_000,
        )
        .flatMap((s) => s.productIds),
    );
    const keep = composed.content.products.filter((p) => !recent.has(p.productId));
    if (keep.length === 0) {
      exclude(result, 'no_recommendation');
      continue;
    }
    ready.push({
      email,
      subjectId: c.subjectId,
      content: { ...composed.content, products: keep },
      productIds: keep.map((p) => p.productId),
    });
  }
  return ready;
}

async function recordCampaign({ ctx, options }: Run): Promise<void> {
  await ctx.db
    .insert(campaigns)
    .values({
      shopId: ctx.shopId,
      name: options.name,
      subject: options.subject,
      segment: options.segment ?? null,
      createdAt: ctx.now(),
      lastRunAt: ctx.now(),
    })
    .onConflictDoUpdate({ target: [campaigns.shopId, campaigns.name], set: { lastRunAt: ctx.now() } });
}

/** Inserts the wave and the recipients no other run holds, in one transaction. */
async function claimWave(
  run: Run,
  part: ReadonlyArray<{ subjectId: string; productIds: string[] }>,
): Promise<{ wave: number; claimed: Set<string> }> {
  const { ctx, options } = run;
  for (;;) {
    const outcome = await ctx.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(campaignWaves)
        .values({
          shopId: ctx.shopId,
          campaign: options.name,
          wave: sql`(select coalesce(max(${campaignWaves.wave}), 0) + 1 from ${campaignWaves} where ${campaignWaves.shopId} = ${ctx.shopId} and ${campaignWaves.campaign} = ${options.name})`,
          status: 'claimed',
          system: run.provider!.system,
          claimedBy: run.instanceId,
          leaseUntil: new Date(ctx.now().getTime() + options.leaseSeconds * 1000),
          createdAt: ctx.now(),
        })
        .onConflictDoNothing()
        .returning({ wave: campaignWaves.wave });
      if (!row) return null;
      const inserted = part.length
        ? await tx
            .insert(campaignRecipients)
            .values(
              part.map((m) => ({
                shopId: ctx.shopId,
                campaign: options.name,
                subjectId: m.subjectId,
                wave: row.wave,
                status: 'claimed' as const,
                productIds: m.productIds,
              })),
            )
            .onConflictDoNothing()
            .returning({ subjectId: campaignRecipients.subjectId })
        : [];
      return { wave: row.wave, claimed: new Set(inserted.map((r) => r.subjectId)) };
    });
    if (outcome) return outcome;
    // Another instance took this wave number at the same moment: take the next one.
  }
}

/** Sends one claimed wave under its idempotency key and records the outcome in one transaction. */
async function deliverWave(run: Run, wave: number, messages: Message[], released: string[]): Promise<void> {
  const { ctx, options, result } = run;
  const provider = run.provider!;
  const bySubject = (ids: string[]) =>
    and(
      eq(campaignRecipients.shopId, ctx.shopId),
      eq(campaignRecipients.campaign, options.name),
      inArray(campaignRecipients.subjectId, ids),
    );
  if (released.length) await ctx.db.delete(campaignRecipients).where(bySubject(released));
  let outcome: Awaited<ReturnType<NonNullable<EmailProvider['sendCampaign']>>> = {
    campaignId: '',
    sent: [],
    failed: [],
  };
  if (messages.length > 0) {
    try {
      outcome = await provider.sendCampaign!({
        key: `${options.name}#${wave}`,
        subject: options.subject,
        sender: run.sender,
        recipients: messages.map(({ email, content }) => ({ email, content })),
      });
    } catch (error) {
      if (isTactfulError(error) && error.retryable) {
        throw new TactfulError(
          'CAMPAIGN.INTERRUPTED',
          `Wave ${wave} of campaign ${options.name} was not confirmed by ${provider.system} (${error.message}): run the campaign again to resume it; nobody will get it twice.`,
          { cause: error, retryable: true },
        );
      }
      // The provider refused for good: release the claims so a corrected run can send.
      await ctx.db.transaction(async (tx) => {
        await tx
          .delete(campaignRecipients)
          .where(
            and(
              eq(campaignRecipients.shopId, ctx.shopId),
              eq(campaignRecipients.campaign, options.name),
              eq(campaignRecipients.wave, wave),
            ),
          );
        await tx
          .delete(campaignWaves)
          .where(
            and(
              eq(campaignWaves.shopId, ctx.shopId),
              eq(campaignWaves.campaign, options.name),
              eq(campaignWaves.wave, wave),
            ),
          );
      });
      throw error;
    }
  }
  const sentEmails = new Set(outcome.sent.map((e) => e.toLowerCase()));
  const sent = messages.filter((m) => sentEmails.has(m.email.toLowerCase()));
  const failed = messages.filter((m) => !sentEmails.has(m.email.toLowerCase()));
  const failures = new Map(outcome.failed.map((f) => [f.email.toLowerCase(), f]));
  const sentAt = ctx.now();
  await withShopTransaction(ctx, run.actor, async (s) => {
    if (sent.length) {
      await s.tx
        .update(campaignRecipients)
        .set({ status: 'sent', sentAt })
        .where(bySubject(sent.map((m) => m.subjectId)));
      await s.tx
        .insert(contactSends)
        .values(
          sent.map((m) => ({
            shopId: ctx.shopId,
            subjectId: m.subjectId,
            sendId: `campaign:${options.name}`,
            sentAt,
            campaign: options.name,
            productIds: m.productIds,
          })),
        )
        .onConflictDoNothing();
    }
    // Refused by the provider (e.g. unsubscribed there): released, so a later run may try again.
    if (failed.length) await s.tx.delete(campaignRecipients).where(bySubject(failed.map((m) => m.subjectId)));
    await s.tx
      .update(campaignWaves)
      .set({
        status: 'sent',
        sentAt,
        providerCampaignId: outcome.campaignId || null,
        sends: sent.length,
        failed: failed.length,
      })
      .where(
        and(
          eq(campaignWaves.shopId, ctx.shopId),
          eq(campaignWaves.campaign, options.name),
          eq(campaignWaves.wave, wave),
        ),
      );
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'campaign.sent',
      actor: run.actor,
      at: s.recordedAt,
      details: {
        campaign: options.name,
        wave,
        system: provider.system,
        providerCampaignId: outcome.campaignId,
        sent: sent.length,
        failed: failed.length,
      },
    });
  });
  result.sent += sent.length;
  for (const m of failed) {
    const f = failures.get(m.email.toLowerCase());
    result.failed.push({
      email: m.email,
      code: f?.code ?? 'CAMPAIGN.NOT_SENT',
      message: f?.message ?? `${provider.system} did not send to ${m.email}.`,
    });
  }
}
