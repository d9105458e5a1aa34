/**
 * The right of access and portability (GDPR Art. 15 and 20): one JSON bundle with everything held about a
 * person — identity, consent state and full history with evidence, profile with provenance, orders, the
 * saved segments they are in, sends, what is queued for other systems, and their audit entries.
 */
import { and, asc, eq, inArray, or } from 'drizzle-orm';
import type { Actor, AuditRow } from '../audit/log.js';
import { appendAudit } from '../audit/log.js';
import { decrypt } from '../crypto/cipher.js';
import { consentViewOf, historyEntry, type HistoryEntry, type PurposeConsentView } from '../consent/service.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { subjectHistory } from '../consent/ledger.js';
import { readProfile, type ProfileView } from '../profile/view.js';
import { requireSubjectByIdentifier } from '../profile/service.js';
import { EMAIL, identifiersOf, openIdentifier } from '../identity/identifiers.js';
import { isMember } from '../segment/evaluate.js';
import { mergedInto } from '../consent/merge.js';
import { listSegments } from '../segment/saved.js';
import {
  auditLog,
  campaignRecipients,
  contactSends,
  optInTokens,
  orderLines,
  orders,
  outbox,
  pushedConsent,
} from '../store/schema.js';
import { customerRefs, type ErasureTarget } from './erase.js';

export const EXPORT_FORMAT = 'tactful.subject-export/v1';

export interface SubjectExport {
  format: typeof EXPORT_FORMAT;
  shop: string;
  exportedAt: string;
  subject: { subjectId: string; email: string; externalIds: Record<string, string>; createdAt: Date };
  /** Every address and id the person has had, with when each was theirs (`validTo` null: now). */
  identifiers: Array<{ kind: string; value: string; validFrom: Date; validTo: Date | null }>;
  consent: { current: PurposeConsentView[]; history: HistoryEntry[] };
  profile: ProfileView['profile'];
  orders: Array<typeof orders.$inferSelect & { lines: Array<typeof orderLines.$inferSelect> }>;
  segments: string[];
  sends: Array<typeof contactSends.$inferSelect>;
  /** Campaigns this person was picked for, and whether the email went out. */
  campaigns: Array<typeof campaignRecipients.$inferSelect>;
  pushedConsent: Array<typeof pushedConsent.$inferSelect>;
  optInTokens: Array<typeof optInTokens.$inferSelect>;
  outbox: Array<{
    id: number;
    target: string;
    kind: string;
    status: string;
    createdAt: Date;
    deliveredAt: Date | null;
    payload: unknown;
  }>;
  audit: AuditRow[];
}

export async function exportSubject(
  ctx: ShopContext,
  target: string | ErasureTarget,
  actor: Actor,
  options: { requestId?: string } = {},
): Promise<SubjectExport> {
  const subject = await requireSubjectByIdentifier(ctx, typeof target === 'string' ? { email: target } : target);
  const { shopId } = ctx;
  const savedSegments = await listSegments(ctx.db, shopId);
  const inSegments: string[] = [];
  for (const s of savedSegments) if (await isMember(ctx, s.definition, subject.subjectId)) inSegments.push(s.name);
  // The export itself is audited first, so the bundle contains its own entry.
  return withShopTransaction(ctx, actor, async (s) => {
    const at = s.recordedAt;
    await appendAudit(s.tx, shopId, s.head, {
      action: 'data.exported',
      actor,
      subjectId: subject.subjectId,
      at,
      details: { requestId: options.requestId ?? null },
    });
    const tx = s.tx;
    const txCtx = { ...ctx, db: tx };
    const key = await ctx.keys.subjectKey(tx, shopId, subject.subjectId);
    // The person's orders, under whichever address or id each one named.
    const identifiers = key
      ? (await identifiersOf(tx, shopId, [subject.subjectId])).map((row) => ({
          kind: row.kind,
          value: openIdentifier(key, row),
          validFrom: row.validFrom,
          validTo: row.validTo,
        }))
      : [];
    const refs = [
      ...customerRefs(ctx.keys.emailIndex(s.shopKeys, subject.email).toString('hex'), subject.externalIds),
      ...identifiers.map((i) =>
        i.kind === EMAIL ? `e:${ctx.keys.emailIndex(s.shopKeys, i.value).toString('hex')}` : `${i.kind}:${i.value}`,
      ),
    ];
    const theirOrders = await tx
      .select()
      .from(orders)
      .where(
        and(eq(orders.shopId, shopId), or(eq(orders.subjectId, subject.subjectId), inArray(orders.customerRef, refs))),
      )
      .orderBy(asc(orders.createdAt), asc(orders.orderId));
    const lines = theirOrders.length
      ? await tx
          .select()
          .from(orderLines)
          .where(
            and(
              eq(orderLines.shopId, shopId),
              inArray(
                orderLines.orderId,
                theirOrders.map((o) => o.orderId),
              ),
            ),
          )
          .orderBy(asc(orderLines.orderId), asc(orderLines.lineNo))
      : [];
    const sends = await tx
      .select()
      .from(contactSends)
      .where(and(eq(contactSends.shopId, shopId), eq(contactSends.subjectId, subject.subjectId)))
      .orderBy(asc(contactSends.sentAt));
    const picked = await tx
      .select()
      .from(campaignRecipients)
      .where(and(eq(campaignRecipients.shopId, shopId), eq(campaignRecipients.subjectId, subject.subjectId)))
      .orderBy(asc(campaignRecipients.campaign));
    const pushed = await tx
      .select()
      .from(pushedConsent)
      .where(and(eq(pushedConsent.shopId, shopId), eq(pushedConsent.subjectId, subject.subjectId)));
    const tokens = await tx
      .select()
      .from(optInTokens)
      .where(and(eq(optInTokens.shopId, shopId), eq(optInTokens.subjectId, subject.subjectId)));
    const queued = await tx
      .select()
      .from(outbox)
      .where(and(eq(outbox.shopId, shopId), eq(outbox.subjectId, subject.subjectId)))
      .orderBy(asc(outbox.id));
    return {
      format: EXPORT_FORMAT,
      shop: shopId,
      exportedAt: at.toISOString(),
      subject: {
        subjectId: subject.subjectId,
        email: subject.email,
        externalIds: subject.externalIds,
        createdAt: subject.createdAt,
      },
      identifiers,
      consent: {
        current: await consentViewOf(txCtx, subject.subjectId),
        history: (await subjectHistory(tx, shopId, subject.subjectId)).map((r) => historyEntry(r, key)),
      },
      profile: (await readProfile(txCtx, subject)).profile,
      orders: theirOrders.map((o) => ({ ...o, lines: lines.filter((l) => l.orderId === o.orderId) })),
      segments: inSegments,
      sends,
      campaigns: picked,
      pushedConsent: pushed,
      optInTokens: tokens,
      outbox: queued.map((q) => ({
        id: q.id,
        target: q.target,
        kind: q.kind,
        status: q.status,
        createdAt: q.createdAt,
        deliveredAt: q.deliveredAt,
        payload: q.payloadEnc
          ? JSON.parse(
              decrypt(s.shopKeys.shopKey, q.payloadEnc, `outbox:${shopId}:${q.target}:${q.kind}`).toString('utf8'),
            )
          : null,
      })),
      audit: (await tx
        .select()
        .from(auditLog)
        .where(
          and(
            eq(auditLog.shopId, shopId),
            inArray(auditLog.subjectId, [subject.subjectId, ...(await mergedInto(txCtx, subject.subjectId))]),
          ),
        )
        .orderBy(asc(auditLog.seq))) as AuditRow[],
    };
  });
}
