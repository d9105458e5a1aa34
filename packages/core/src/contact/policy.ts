/**
 * The contact policy of a shop: frequency caps over several rolling windows at once, quiet hours in the
 * subject's time zone (when their profile holds one, else the shop's), and a per-product re-send window.
 * `canContact` answers with a value, never an exception: `{ ok: true }` or `{ ok: false, reason,
 * nextAllowedAt }`, where `nextAllowedAt` satisfies every rule at once. The campaign pipeline enforces it.
 */
import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { ianaTimeZone } from '../profile/time-zone.js';
import { dateTimeFormat } from '../shop/intl.js';
import type { KeyRing } from '../store/keyring.js';
import { parseOrThrow } from '../errors/zod.js';
import { openAttributes } from '../profile/sealed-attributes.js';
import type { Db } from '../store/open.js';
import { contactSends, kv, profiles } from '../store/schema.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time as HH:MM (24 h)');
const zone = ianaTimeZone;

export const contactPolicySchema = z
  .object({
    /** At most `max` marketing emails per subject in any `days`-day rolling window; all caps apply. */
    caps: z
      .array(z.object({ max: z.number().int().positive(), days: z.number().positive().max(366) }).strict())
      .max(10)
      .default([
        { max: 1, days: 3 },
        { max: 4, days: 30 },
      ]),
    /** No email between `start` and `end` local time (may wrap midnight); null for none. */
    quietHours: z.object({ start: hhmm, end: hhmm }).strict().nullable().default({ start: '21:00', end: '08:00' }),
    /** The time zone used when the subject's is unknown. */
    defaultTimeZone: zone.default('UTC'),
    /** The same product is not featured again to the same person within this many days; null for no limit. */
    productResendDays: z.number().positive().max(3650).nullable().default(30),
  })
  .strict();
export type ContactPolicy = z.output<typeof contactPolicySchema>;
export type ContactPolicyInput = z.input<typeof contactPolicySchema>;

export type ContactDecision =
  | { ok: true }
  | { ok: false; reason: 'frequency_cap' | 'quiet_hours' | 'product_resend'; detail: string; nextAllowedAt: Date };

const POLICY_KEY = 'contact.policy';

export async function readContactPolicy(db: Db, shopId: string): Promise<ContactPolicy> {
  const [row] = await db
    .select({ value: kv.value })
    .from(kv)
    .where(and(eq(kv.shopId, shopId), eq(kv.key, POLICY_KEY)));
  return contactPolicySchema.parse(row ? JSON.parse(row.value) : {});
}

export async function writeContactPolicy(
  db: Db,
  shopId: string,
  input: ContactPolicyInput | unknown,
  at: Date,
): Promise<ContactPolicy> {
  const policy = parseOrThrow(contactPolicySchema, input, 'CONTACT.INVALID', 'contact policy');
  const value = JSON.stringify(policy);
  await db
    .insert(kv)
    .values({ shopId, key: POLICY_KEY, value, updatedAt: at })
    .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value, updatedAt: at } });
  return policy;
}

/** Minutes since local midnight of `at` in `timeZone`. */
export function localMinutes(at: Date, timeZone: string): number {
  const parts = dateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

const toMinutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

function inQuiet(minutes: number, start: number, end: number): boolean {
  if (start === end) return false;
  return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

/** The first instant at or after `at` outside the quiet hours (minute precision, DST-safe by re-checking). */
export function endOfQuietHours(at: Date, quiet: { start: string; end: string }, timeZone: string): Date | null {
  const start = toMinutes(quiet.start);
  const end = toMinutes(quiet.end);
  let t = at;
  for (let guard = 0; guard < 4; guard++) {
    const m = localMinutes(t, timeZone);
    if (!inQuiet(m, start, end)) return guard === 0 ? null : t;
    const wait = (end - m + 1440) % 1440;
    const next = new Date(t.getTime() + wait * 60_000);
    next.setUTCSeconds(0, 0);
    t = next.getTime() > t.getTime() ? next : new Date(t.getTime() + 60_000);
  }
  return t;
}

export interface SendRecord {
  sentAt: Date;
  productIds: string[];
}

/** The pure rule: whether a send at `at` respects the policy given the subject's earlier sends. */
export function decideContact(
  policy: ContactPolicy,
  sends: readonly SendRecord[],
  at: Date,
  options: { timeZone?: string | null; productIds?: readonly string[] } = {},
): ContactDecision {
  const timeZone = options.timeZone || policy.defaultTimeZone;
  const check = (t: Date): ContactDecision => {
    let worst: ContactDecision = { ok: true };
    const later = (d: ContactDecision) => {
      if (!d.ok && (worst.ok || d.nextAllowedAt.getTime() > worst.nextAllowedAt.getTime())) worst = d;
    };
    for (const cap of policy.caps) {
      const windowMs = cap.days * 86_400_000;
      const inWindow = sends
        .filter((s) => s.sentAt.getTime() <= t.getTime() && s.sentAt.getTime() > t.getTime() - windowMs)
        .map((s) => s.sentAt.getTime())
        .sort((a, b) => a - b);
      if (inWindow.length >= cap.max) {
        // Allowed again once enough of these sends left the window.
        const freeing = inWindow[inWindow.length - cap.max]!;
        later({
          ok: false,
          reason: 'frequency_cap',
          detail: `${inWindow.length} of at most ${cap.max} emails in ${cap.days} days`,
          nextAllowedAt: new Date(freeing + windowMs + 1),
        });
      }
    }
    if (policy.productResendDays !== null && options.productIds?.length) {
      const windowMs = policy.productResendDays * 86_400_000;
      const wanted = new Set(options.productIds);
      for (const s of sends) {
        if (
          s.sentAt.getTime() > t.getTime() - windowMs &&
          s.sentAt.getTime() <= t.getTime() &&
          s.productIds.some((p) => wanted.has(p))
        ) {
          later({
            ok: false,
            reason: 'product_resend',
            detail: `a product was already featured within ${policy.productResendDays} days`,
            nextAllowedAt: new Date(s.sentAt.getTime() + windowMs + 1),
          });
        }
      }
    }
    if (policy.quietHours) {
      const end = endOfQuietHours(t, policy.quietHours, timeZone);
      if (end)
        later({
          ok: false,
          reason: 'quiet_hours',
          detail: `quiet hours ${policy.quietHours.start}-${policy.quietHours.end} in ${timeZone}`,
          nextAllowedAt: end,
        });
    }
    return worst;
  };
  const first = check(at);
  if (first.ok) return first;
  // Move forward until every rule allows it; the reason stays the one that blocked `at`.
  let next = first.nextAllowedAt;
  for (let i = 0; i < 20; i++) {
    const d = check(next);
    if (d.ok) break;
    next = d.nextAllowedAt;
  }
  return { ...first, nextAllowedAt: next };
}

export interface ContactContext {
  db: Db;
  keys: KeyRing;
  shopId: string;
}

async function subjectTimeZone(ctx: ContactContext, subjectId: string): Promise<string | null> {
  const [row] = await ctx.db
    .select({ shopId: profiles.shopId, subjectId: profiles.subjectId, attrsEnc: profiles.attrsEnc })
    .from(profiles)
    .where(and(eq(profiles.shopId, ctx.shopId), eq(profiles.subjectId, subjectId)));
  if (!row) return null;
  const tz = openAttributes(await ctx.keys.subjectKey(ctx.db, ctx.shopId, subjectId), row).timeZone?.value;
  return typeof tz === 'string' ? tz : null;
}

export async function canContact(
  ctx: ContactContext,
  subjectId: string,
  at: Date,
  options: { productIds?: readonly string[] } = {},
): Promise<ContactDecision> {
  const policy = await readContactPolicy(ctx.db, ctx.shopId);
  const longest = policy.caps.reduce((days, c) => Math.max(days, c.days), policy.productResendDays ?? 0);
  const sends = await ctx.db
    .select({ sentAt: contactSends.sentAt, productIds: contactSends.productIds })
    .from(contactSends)
    .where(
      and(
        eq(contactSends.shopId, ctx.shopId),
        eq(contactSends.subjectId, subjectId),
        gt(contactSends.sentAt, new Date(at.getTime() - longest * 86_400_000)),
      ),
    )
    .orderBy(desc(contactSends.sentAt));
  return decideContact(policy, sends, at, {
    timeZone: await subjectTimeZone(ctx, subjectId),
    productIds: options.productIds ?? [],
  });
}

/** Records a marketing email sent to the subject (the campaign pipeline calls it in its send transaction). */
export async function recordSend(
  db: Db,
  shopId: string,
  subjectId: string,
  send: { sentAt: Date; campaign?: string; productIds?: string[]; sendId?: string },
): Promise<string> {
  const sendId = send.sendId ?? randomUUID();
  await db
    .insert(contactSends)
    .values({
      shopId,
      subjectId,
      sendId,
      sentAt: send.sentAt,
      campaign: send.campaign ?? null,
      productIds: send.productIds ?? [],
    })
    .onConflictDoNothing();
  return sendId;
}
