import { performance } from 'node:perf_hooks';
import { and, eq, isNull } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { TactfulError } from '../errors/tactful-error.js';
import { formatZodIssues } from '../errors/zod.js';
import { parseEmail } from '../identity/email.js';
import { findSubjectByEmail, emailsOf } from '../profile/subjects.js';
import { withShopTransaction, type ShopContext, type ShopSession } from '../shop/context.js';
import { readShopSettings } from '../shop/settings.js';
import type { Db } from '../store/open.js';
import { consentState, optInTokens } from '../store/schema.js';
import { consentEventInput, type ConsentEventData, type ConsentEventInput, type ConsentEvidence } from './event.js';
import type { ConsentState, OptInLevel } from '../ports.js';
import { personalEvidenceOf, subjectHistory, type LedgerRow } from './ledger.js';
import { applyEvents, type RecordOutcome } from './ingest.js';
import { listPurposes, type Purpose } from './purposes.js';
import { newTokenId, signToken, verifyToken } from './tokens.js';
import { ONE_CLICK_UNSUBSCRIBE_FORM } from './method-label.js';
import { addPhase, stopwatch } from './phases.js';

export type { RecordOutcome } from './ingest.js';

/** Events dated further ahead than this are refused: a clock that far off is a bug, not a consent. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Validates an incoming event completely (shape, purpose, clock) before anything is written. */
export function validateConsentEvent(
  input: unknown,
  purposes: ReadonlyMap<string, Purpose>,
  now: Date,
): ConsentEventData {
  const parsed = consentEventInput.safeParse(input);
  if (!parsed.success) {
    const problems = formatZodIssues(parsed.error);
    throw new TactfulError('CONSENT.INVALID', `Invalid consent event: ${problems.join('; ')}`, { details: problems });
  }
  const data = parsed.data;
  if (!purposes.has(data.purpose)) {
    throw new TactfulError(
      'CONSENT.UNKNOWN_PURPOSE',
      `Unknown purpose "${data.purpose}": this shop has ${[...purposes.keys()].join(', ') || 'no purposes'}. Define it first (tactful purpose define).`,
    );
  }
  if (data.occurredAt.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new TactfulError(
      'CONSENT.INVALID',
      `occurredAt ${data.occurredAt.toISOString()} is in the future (now is ${now.toISOString()}, 5 minutes of clock skew allowed): send the time the consent was actually given.`,
    );
  }
  return data;
}

async function applyEvent(s: ShopSession, data: ConsentEventData): Promise<RecordOutcome> {
  return (await applyEvents(s, [data]))[0]!;
}

async function purposeMap(db: Db, shopId: string): Promise<Map<string, Purpose>> {
  return new Map((await listPurposes(db, shopId)).map((p) => [p.key, p]));
}

/** Records one consent event: validated first, then ledger + projection + audit + outbox in one transaction. */
export async function recordConsent(
  ctx: ShopContext,
  input: ConsentEventInput | unknown,
  actor: Actor,
): Promise<RecordOutcome> {
  const data = validateConsentEvent(input, await purposeMap(ctx.db, ctx.shopId), ctx.now());
  return withShopTransaction(ctx, actor, (s) => applyEvent(s, data));
}

/**
 * Records many events in one transaction (imports, benchmarks). Every event is validated before any is
 * written; one invalid event refuses the whole batch, naming its position.
 */
export async function recordConsentBatch(
  ctx: ShopContext,
  inputs: readonly unknown[],
  actor: Actor,
): Promise<RecordOutcome[]> {
  const lap = stopwatch();
  const purposes = await purposeMap(ctx.db, ctx.shopId);
  const now = ctx.now();
  const events = inputs.map((input, i) => {
    try {
      return validateConsentEvent(input, purposes, now);
    } catch (error) {
      if (error instanceof TactfulError)
        throw new TactfulError(error.code, `Event ${i + 1} of ${inputs.length}: ${error.message}`, {
          cause: error,
          details: error.details,
        });
      throw error;
    }
  });
  lap('validate (purposes, zod, clock)');
  let inside = 0;
  const out = await withShopTransaction(ctx, actor, async (s) => {
    const t0 = performance.now();
    const outcomes: RecordOutcome[] = [];
    for (let i = 0; i < events.length; i += 2000)
      for (const outcome of await applyEvents(s, events.slice(i, i + 2000))) outcomes.push(outcome);
    inside = performance.now() - t0;
    return outcomes;
  });
  lap('transaction');
  addPhase('transaction', -inside);
  return out;
}

export interface PurposeConsentView {
  purpose: string;
  state: ConsentState;
  level: OptInLevel;
  since: Date | null;
  /** The deciding event's source; `formId` names the form of a first-party step (`one-click-unsubscribe`). */
  source: { system: string; method: string; eventId: string; formId?: string } | null;
  /** The clause and version the deciding event was given under (else the purpose's current ones). */
  clause: string;
  version: string;
  documentUrl: string;
}

async function requireSubject(ctx: ShopContext, email: string) {
  const normalised = parseEmail(email);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const subject = await findSubjectByEmail(ctx.db, { keys: ctx.keys, shopKeys, shopId: ctx.shopId }, normalised);
  if (!subject)
    throw new TactfulError(
      'SUBJECT.NOT_FOUND',
      `No customer with email ${normalised} in shop ${ctx.shopId}: check the address or the --shop.`,
    );
  return subject;
}

/** The current state per purpose of the shop, with the deciding event and its clause. */
export async function showConsent(
  ctx: ShopContext,
  email: string,
): Promise<{ subjectId: string; email: string; purposes: PurposeConsentView[] }> {
  const subject = await requireSubject(ctx, email);
  return {
    subjectId: subject.subjectId,
    email: parseEmail(email),
    purposes: await consentViewOf(ctx, subject.subjectId),
  };
}

export async function consentViewOf(ctx: ShopContext, subjectId: string): Promise<PurposeConsentView[]> {
  const purposes = await listPurposes(ctx.db, ctx.shopId);
  const states = await ctx.db
    .select()
    .from(consentState)
    .where(and(eq(consentState.shopId, ctx.shopId), eq(consentState.subjectId, subjectId)));
  const history = await subjectHistory(ctx.db, ctx.shopId, subjectId);
  const byId = new Map(history.map((h) => [h.eventId, h]));
  return purposes.map((p) => {
    const st = states.find((s) => s.purpose === p.key);
    const decided = st ? byId.get(st.decidedBy) : undefined;
    return {
      purpose: p.key,
      state: (st?.state ?? 'none') as ConsentState,
      level: (st?.level ?? 'unknown') as OptInLevel,
      since: st?.since ?? null,
      source: decided
        ? {
            system: decided.sourceSystem,
            method: decided.method,
            eventId: decided.sourceEventId,
            ...(decided.evidence.formId ? { formId: decided.evidence.formId } : {}),
          }
        : null,
      clause: decided?.evidence.clause ?? p.clause,
      version: decided?.evidence.policyVersion ?? p.version,
      documentUrl: p.documentUrl,
    };
  });
}

export interface HistoryEntry {
  seq: number;
  eventId: string;
  purpose: string;
  state: ConsentState;
  level: OptInLevel;
  occurredAt: Date;
  recordedAt: Date;
  source: { system: string; eventId: string; method: string };
  evidence: ConsentEvidence;
  echo: boolean;
}

export function historyEntry(row: LedgerRow, subjectKey: Buffer | null): HistoryEntry {
  return {
    seq: row.seq,
    eventId: row.eventId,
    purpose: row.purpose,
    state: row.state as ConsentState,
    level: row.level as OptInLevel,
    occurredAt: row.occurredAt,
    recordedAt: row.recordedAt,
    source: { system: row.sourceSystem, eventId: row.sourceEventId, method: row.method },
    evidence: { ...row.evidence, ...personalEvidenceOf(row, subjectKey) },
    echo: row.echo,
  };
}

/** Every event of the subject, oldest first by record, with its evidence (personal parts decrypted). */
export async function consentHistory(
  ctx: ShopContext,
  email: string,
): Promise<{ subjectId: string; events: HistoryEntry[] }> {
  const subject = await requireSubject(ctx, email);
  const key = await ctx.keys.subjectKey(ctx.db, ctx.shopId, subject.subjectId);
  const rows = await subjectHistory(ctx.db, ctx.shopId, subject.subjectId);
  return { subjectId: subject.subjectId, events: rows.map((r) => historyEntry(r, key)) };
}

// ---------------------------------------------------------------------------------------------------------
// Double opt-in and one-click unsubscribe

export interface OptInRequest {
  email: string;
  purposes: string[];
  evidence?: ConsentEvidence;
  /** When the form was submitted (default now). */
  occurredAt?: Date;
}

export interface OptInTicket {
  token: string;
  tokenId: string;
  subjectId: string;
  expiresAt: Date;
  /** Requested purposes the person had already granted: left as they are. */
  alreadyGranted: string[];
}

/** Records `pending` for each purpose and issues a single-use, expiring confirmation token. */
export async function requestOptIn(ctx: ShopContext, request: OptInRequest, actor: Actor): Promise<OptInTicket> {
  const purposes = await purposeMap(ctx.db, ctx.shopId);
  const now = ctx.now();
  const settings = await readShopSettings(ctx.db, ctx.shopId);
  if (request.purposes.length === 0)
    throw new TactfulError('CONSENT.INVALID', 'Choose at least one purpose to opt in to.');
  const tokenId = newTokenId();
  const occurredAt = request.occurredAt ?? now;
  const events = [...new Set(request.purposes)].map((purpose) =>
    validateConsentEvent(
      {
        subject: { email: request.email },
        purpose,
        state: 'pending',
        level: 'unknown',
        occurredAt,
        source: { system: 'tactful', eventId: `optin:${tokenId}:${purpose}`, method: 'form' },
        evidence: { ...request.evidence, confirmationTokenId: tokenId },
      },
      purposes,
      now,
    ),
  );
  const expiresAt = new Date(now.getTime() + settings.optInTokenTtlHours * 3600_000);
  return withShopTransaction(ctx, actor, async (s) => {
    // Anyone can type an address into a public form: a request changes no decision the person made until
    // they confirm it. A granted purpose stays granted (the confirmation may still raise the level) and a
    // withdrawn one stays withdrawn; only a purpose never decided is marked pending (the request's evidence).
    const existing = await findSubjectByEmail(
      s.tx,
      { keys: ctx.keys, shopKeys: s.shopKeys, shopId: ctx.shopId },
      events[0]!.subject.email,
    );
    const states = existing
      ? await s.tx
          .select({ purpose: consentState.purpose, state: consentState.state })
          .from(consentState)
          .where(and(eq(consentState.shopId, ctx.shopId), eq(consentState.subjectId, existing.subjectId)))
      : [];
    const granted = new Set(states.filter((r) => r.state === 'granted').map((r) => r.purpose));
    const withdrawn = new Set(states.filter((r) => r.state === 'withdrawn').map((r) => r.purpose));
    const toRecord = events.filter((e) => !granted.has(e.purpose) && !withdrawn.has(e.purpose));
    const subjectId = toRecord.length > 0 ? (await applyEvents(s, toRecord))[0]!.subjectId : existing!.subjectId;
    await s.tx.insert(optInTokens).values({
      shopId: ctx.shopId,
      tokenId,
      subjectId,
      purposes: events.map((e) => e.purpose),
      issuedAt: now,
      expiresAt,
    });
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'consent.opt_in_requested',
      actor,
      subjectId,
      at: now,
      details: {
        purposes: events.map((e) => e.purpose),
        alreadyGranted: [...granted].filter((p) => events.some((e) => e.purpose === p)),
        withdrawnUntilConfirmed: [...withdrawn].filter((p) => events.some((e) => e.purpose === p)),
        tokenId,
        expiresAt: expiresAt.toISOString(),
      },
    });
    const token = signToken(s.shopKeys.tokenKey, {
      kind: 'opt-in',
      shop: ctx.shopId,
      id: tokenId,
      subject: subjectId,
      purposes: events.map((e) => e.purpose),
      exp: Math.floor(expiresAt.getTime() / 1000),
    });
    return {
      token,
      tokenId,
      subjectId,
      expiresAt,
      alreadyGranted: events.filter((e) => granted.has(e.purpose)).map((e) => e.purpose),
    };
  });
}

/**
 * Confirms a double opt-in: `granted` at level `confirmed` for each purpose of the token, with the
 * confirmation's evidence. Forged, expired and reused tokens are refused with distinct codes.
 */
export async function confirmOptIn(
  ctx: ShopContext,
  token: string,
  evidence: ConsentEvidence,
  actor: Actor,
): Promise<{ subjectId: string; purposes: string[] }> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const payload = verifyToken(shopKeys.tokenKey, token, 'opt-in');
  const now = ctx.now();
  if (payload.shop !== ctx.shopId) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link belongs to another shop.');
  if (payload.exp * 1000 < now.getTime()) {
    throw new TactfulError(
      'CONSENT.TOKEN_EXPIRED',
      'This confirmation link has expired: subscribe again to get a new one.',
    );
  }
  const emails = await emailsOf(ctx.db, ctx.keys, ctx.shopId, [payload.subject]);
  const email = emails.get(payload.subject);
  if (!email) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link no longer matches a customer of this shop.');
  const purposes = await purposeMap(ctx.db, ctx.shopId);
  const events = payload.purposes.map((purpose) =>
    validateConsentEvent(
      {
        subject: { email },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt: now,
        source: { system: 'tactful', eventId: `doi:${payload.id}:${purpose}`, method: 'double_opt_in_confirmation' },
        evidence: { ...evidence, confirmationTokenId: payload.id },
      },
      purposes,
      now,
    ),
  );
  return withShopTransaction(ctx, actor, async (s) => {
    const used = await s.tx
      .update(optInTokens)
      .set({ usedAt: now })
      .where(and(eq(optInTokens.shopId, ctx.shopId), eq(optInTokens.tokenId, payload.id), isNull(optInTokens.usedAt)))
      .returning({ tokenId: optInTokens.tokenId });
    if (used.length === 0) {
      const [known] = await s.tx
        .select({ usedAt: optInTokens.usedAt })
        .from(optInTokens)
        .where(and(eq(optInTokens.shopId, ctx.shopId), eq(optInTokens.tokenId, payload.id)));
      if (!known) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This confirmation link was not issued by this shop.');
      throw new TactfulError(
        'CONSENT.TOKEN_USED',
        'This confirmation link was already used: your subscription is confirmed.',
      );
    }
    await applyEvents(s, events);
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'consent.opt_in_confirmed',
      actor,
      subjectId: payload.subject,
      at: now,
      details: { purposes: payload.purposes, tokenId: payload.id },
    });
    return { subjectId: payload.subject, purposes: payload.purposes };
  });
}

/** A one-click unsubscribe token for one subject and purpose; it does not expire. */
export async function unsubscribeToken(ctx: ShopContext, subjectId: string, purpose: string): Promise<string> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  return signToken(shopKeys.tokenKey, { kind: 'unsubscribe', shop: ctx.shopId, subject: subjectId, purpose });
}

/**
 * One-click unsubscribe (RFC 8058): withdraws the purpose. Idempotent: when it is already withdrawn,
 * nothing new is recorded.
 */
export async function unsubscribe(
  ctx: ShopContext,
  token: string,
  evidence: ConsentEvidence,
  actor: Actor,
): Promise<{ subjectId: string; purpose: string; alreadyWithdrawn: boolean }> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const payload = verifyToken(shopKeys.tokenKey, token, 'unsubscribe');
  if (payload.shop !== ctx.shopId) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link belongs to another shop.');
  const emails = await emailsOf(ctx.db, ctx.keys, ctx.shopId, [payload.subject]);
  const email = emails.get(payload.subject);
  if (!email) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link no longer matches a customer of this shop.');
  const now = ctx.now();
  const data = validateConsentEvent(
    {
      subject: { email },
      purpose: payload.purpose,
      state: 'withdrawn',
      level: 'unknown',
      occurredAt: now,
      source: {
        system: 'tactful',
        eventId: `unsub:${payload.subject}:${payload.purpose}:${now.getTime()}`,
        method: 'form',
      },
      evidence: { ...evidence, formId: ONE_CLICK_UNSUBSCRIBE_FORM },
    },
    await purposeMap(ctx.db, ctx.shopId),
    now,
  );
  return withShopTransaction(ctx, actor, async (s) => {
    const [current] = await s.tx
      .select({ state: consentState.state })
      .from(consentState)
      .where(
        and(
          eq(consentState.shopId, ctx.shopId),
          eq(consentState.subjectId, payload.subject),
          eq(consentState.purpose, payload.purpose),
        ),
      )
      .for('update');
    if (current?.state === 'withdrawn')
      return { subjectId: payload.subject, purpose: payload.purpose, alreadyWithdrawn: true };
    await applyEvent(s, data);
    await appendAudit(s.tx, ctx.shopId, s.head, {
      action: 'consent.unsubscribed',
      actor,
      subjectId: payload.subject,
      at: now,
      details: { purpose: payload.purpose },
    });
    return { subjectId: payload.subject, purpose: payload.purpose, alreadyWithdrawn: false };
  });
}
