/**
 * Retention: a subject with no order and no consent activity for `months` months is erased (reason
 * `retention`). Activity is the newest of an order's creation or update (orders linked by subject or by
 * the blind index of the email) and a consent event's occurrence (not when it was recorded: an import of
 * old consent is not activity). `findStale` is the dry run.
 */
import { sql } from 'drizzle-orm';
import type { Actor } from '../audit/log.js';
import type { ShopContext } from '../shop/context.js';
import { TactfulError } from '../errors/tactful-error.js';
import { rows } from '../store/open.js';
import { emailsOfMany } from '../profile/subjects.js';
import { eraseSubject } from './erase.js';

export const DEFAULT_RETENTION_MONTHS = 24;

export interface StaleSubject {
  subjectId: string;
  email: string;
  createdAt: Date;
  lastOrderAt: Date | null;
  lastConsentAt: Date | null;
}

export function retentionCutoff(now: Date, months: number): Date {
  if (!Number.isInteger(months) || months < 1 || months > 1200)
    throw new TactfulError(
      'PRIVACY.INVALID',
      `Retention must be a whole number of months between 1 and 1200, not ${months}.`,
    );
  const cutoff = new Date(now);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  return cutoff;
}

export async function findStale(ctx: ShopContext, months = DEFAULT_RETENTION_MONTHS): Promise<StaleSubject[]> {
  const cutoff = retentionCutoff(ctx.now(), months).toISOString();
  const found = await rows<{
    subject_id: string;
    created_at: string;
    last_order: string | null;
    last_consent: string | null;
  }>(
    ctx.db,
    sql`select s.subject_id, s.created_at::text as created_at,
          (select max(greatest(o.created_at, o.updated_at))::text from orders o
             where o.shop_id = s.shop_id and (o.subject_id = s.subject_id or o.customer_ref = 'e:' || encode(s.email_index, 'hex'))) as last_order,
          (select max(l.occurred_at)::text from consent_ledger l where l.shop_id = s.shop_id and l.subject_id = s.subject_id) as last_consent
        from subjects s
        where s.shop_id = ${ctx.shopId} and s.erased_at is null and s.wrapped_key is not null
        order by s.subject_id`,
  );
  const stale = found.filter(
    (r) =>
      (!r.last_order || new Date(r.last_order) < new Date(cutoff)) &&
      (!r.last_consent || new Date(r.last_consent) < new Date(cutoff)),
  );
  const emails = await emailsOfMany(
    ctx.db,
    ctx.keys,
    ctx.shopId,
    stale.map((r) => r.subject_id),
  );
  return stale.map((r) => ({
    subjectId: r.subject_id,
    email: emails.get(r.subject_id) ?? '',
    createdAt: new Date(r.created_at),
    lastOrderAt: r.last_order ? new Date(r.last_order) : null,
    lastConsentAt: r.last_consent ? new Date(r.last_consent) : null,
  }));
}

export async function applyRetention(
  ctx: ShopContext,
  months: number,
  actor: Actor,
): Promise<{ erased: StaleSubject[] }> {
  const stale = await findStale(ctx, months);
  const requestId = `retention-${ctx.now().toISOString().slice(0, 10)}`;
  for (const s of stale)
    if (s.email)
      await eraseSubject(ctx, s.email, { reason: `retention: no activity for ${months} months`, requestId }, actor);
  return { erased: stale };
}
