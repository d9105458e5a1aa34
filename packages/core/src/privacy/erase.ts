/**
 * The right to erasure (GDPR Art. 17). In ONE transaction under the shop head lock and the model lock:
 * the subject's rows that are not proof are deleted (profile, sends, consent projection, pushed state,
 * opt-in tokens, pending outbox items, inbox payloads naming them, orders and their lines with their
 * contributions to the co-purchase model), the subject's data key is destroyed (so the ledger's encrypted
 * evidence and every other copy of its ciphertext become unreadable while the hash chain still verifies),
 * a keyed hash of the email goes on the suppression list, a deletion is queued for every connected system,
 * and an audit entry without personal data is written.
 */
import { randomBytes } from 'node:crypto';
import { and, eq, inArray, isNotNull, or } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { decrypt } from '../crypto/cipher.js';
import { parseEmail, withShopTransaction, type ShopContext } from '../consent/service.js';
import { TactfulError } from '../errors/tactful-error.js';
import { lockModel } from '../recommend/model-store.js';
import { deleteOrders } from '../profile/orders.js';
import type { Db } from '../store/open.js';
import {
  campaignRecipients,
  consentState,
  contactSends,
  inbox,
  optInTokens,
  orders,
  outbox,
  profiles,
  pushedConsent,
  subjects,
  suppression,
} from '../store/schema.js';
import { enqueue } from '../sync/outbox.js';
import type { ShopKeys } from '../crypto/keyring.js';

export interface EraseRequest {
  /** Why: `customer request`, `retention`, `shopify customers/redact`... Must not contain personal data. */
  reason: string;
  /** The id of the request in the system it came from (ticket, webhook id). */
  requestId?: string | undefined;
}

export interface EraseResult {
  subjectId: string | null;
  requestId: string;
  ordersDeleted: number;
  inboxDeleted: number;
  outboxDeleted: number;
  /** Connected systems a `subject.erase` was queued for. */
  queuedFor: string[];
}

/** Order references that name the person: the blind index of the email and their ids in other systems. */
export function customerRefs(indexHex: string, externalIds: Record<string, string>): string[] {
  return [`e:${indexHex}`, ...Object.entries(externalIds).map(([system, id]) => `${system}:${id}`)];
}

function validateRequest(request: EraseRequest): { reason: string; requestId: string } {
  const reason = (request.reason ?? '').trim();
  if (!reason)
    throw new TactfulError(
      'PRIVACY.INVALID',
      'Give a reason for the erasure (e.g. --reason "customer request"); it is kept in the audit log.',
    );
  if (reason.length > 200) throw new TactfulError('PRIVACY.INVALID', 'The erasure reason is at most 200 characters.');
  if (/@/.test(reason))
    throw new TactfulError(
      'PRIVACY.INVALID',
      'The erasure reason must not contain an email address: the audit log keeps no personal data.',
    );
  const requestId = (request.requestId ?? '').trim() || `erase-${randomBytes(6).toString('hex')}`;
  return { reason, requestId };
}

/** Whether a decrypted payload names the person (their email, an id of theirs, one of their orders). */
function names(text: string, needles: string[]): boolean {
  const lower = text.toLowerCase();
  return needles.some((n) => n.length > 0 && lower.includes(n.toLowerCase()));
}

async function deletePayloadsNaming(
  tx: Db,
  shopId: string,
  shopKeys: ShopKeys,
  subjectId: string | null,
  needles: string[],
): Promise<{ inbox: number; outbox: number }> {
  let inboxDeleted = 0;
  const inboxRows = await tx
    .select({ system: inbox.system, deliveryId: inbox.deliveryId, payloadEnc: inbox.payloadEnc })
    .from(inbox)
    .where(and(eq(inbox.shopId, shopId), isNotNull(inbox.payloadEnc)));
  for (const row of inboxRows) {
    let text: string;
    try {
      text = decrypt(shopKeys.shopKey, row.payloadEnc!, `inbox:${shopId}:${row.system}:${row.deliveryId}`).toString(
        'utf8',
      );
    } catch {
      continue;
    }
    if (!names(text, needles)) continue;
    await tx
      .delete(inbox)
      .where(and(eq(inbox.shopId, shopId), eq(inbox.system, row.system), eq(inbox.deliveryId, row.deliveryId)));
    inboxDeleted += 1;
  }
  let outboxDeleted = 0;
  if (subjectId) {
    const gone = await tx
      .delete(outbox)
      .where(and(eq(outbox.shopId, shopId), eq(outbox.subjectId, subjectId)))
      .returning({ id: outbox.id });
    outboxDeleted += gone.length;
  }
  const outboxRows = await tx
    .select({ id: outbox.id, target: outbox.target, kind: outbox.kind, payloadEnc: outbox.payloadEnc })
    .from(outbox)
    .where(and(eq(outbox.shopId, shopId), isNotNull(outbox.payloadEnc)));
  for (const row of outboxRows) {
    let text: string;
    try {
      text = decrypt(shopKeys.shopKey, row.payloadEnc!, `outbox:${shopId}:${row.target}:${row.kind}`).toString('utf8');
    } catch {
      continue;
    }
    if (!names(text, needles)) continue;
    await tx.delete(outbox).where(and(eq(outbox.shopId, shopId), eq(outbox.id, row.id)));
    outboxDeleted += 1;
  }
  return { inbox: inboxDeleted, outbox: outboxDeleted };
}

/**
 * Erases the person with this email. Refuses an unknown email (nothing held: SUBJECT.NOT_FOUND) so a typo
 * does not silently "succeed"; an email known only from orders is erased too.
 */
export async function eraseSubject(
  ctx: ShopContext,
  email: string,
  request: EraseRequest,
  actor: Actor,
): Promise<EraseResult> {
  const normalised = parseEmail(email);
  const { reason, requestId } = validateRequest(request);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const index = ctx.keys.emailIndex(shopKeys, normalised);
  const indexHex = index.toString('hex');
  const result = await withShopTransaction(ctx, actor, async (s) => {
    const { tx, shopId } = s;
    await lockModel(tx, shopId);
    const [subject] = await tx
      .select()
      .from(subjects)
      .where(and(eq(subjects.shopId, shopId), eq(subjects.emailIndex, index)))
      .for('update');
    const subjectId = subject?.subjectId ?? null;
    const externalIds = subject?.externalIds ?? {};
    const refs = customerRefs(indexHex, externalIds);

    // Orders and their model contributions.
    const orderMatch = subjectId
      ? or(eq(orders.subjectId, subjectId), inArray(orders.customerRef, refs))
      : inArray(orders.customerRef, refs);
    const theirOrders = await tx
      .select({ orderId: orders.orderId, counted: orders.counted })
      .from(orders)
      .where(and(eq(orders.shopId, shopId), orderMatch));
    if (!subject && theirOrders.length === 0) {
      throw new TactfulError(
        'SUBJECT.NOT_FOUND',
        `No customer with email ${normalised} in shop ${shopId}: nothing is held for this address.`,
      );
    }
    const orderIds = theirOrders.map((o) => o.orderId);
    await deleteOrders(tx, shopId, orderIds);

    const payloads = await deletePayloadsNaming(tx, shopId, s.shopKeys, subjectId, [
      normalised,
      ...Object.values(externalIds),
      ...orderIds.map((id) => `"${id}"`),
    ]);

    if (subjectId) {
      const bySubject = (
        table:
          | typeof profiles
          | typeof contactSends
          | typeof campaignRecipients
          | typeof consentState
          | typeof pushedConsent
          | typeof optInTokens,
      ) => tx.delete(table).where(and(eq(table.shopId, shopId), eq(table.subjectId, subjectId)));
      await bySubject(profiles);
      await bySubject(contactSends);
      await bySubject(campaignRecipients);
      await bySubject(consentState);
      await bySubject(pushedConsent);
      await bySubject(optInTokens);
      // Crypto-shredding: the wrapped key goes, and with it every ciphertext of this subject. The blind
      // index is replaced by random bytes so a fresh first-party opt-in starts a new subject.
      await tx
        .update(subjects)
        .set({
          wrappedKey: null,
          emailEnc: Buffer.alloc(0),
          emailIndex: randomBytes(32),
          externalIds: {},
          erasedAt: s.recordedAt,
        })
        .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId)));
    }
    await tx
      .insert(suppression)
      .values({ shopId, emailIndex: index, reason, requestId, at: s.recordedAt })
      .onConflictDoUpdate({
        target: [suppression.shopId, suppression.emailIndex],
        set: { reason, requestId, at: s.recordedAt },
      });

    const queuedFor = [...s.settings.connectedSystems];
    await enqueue(
      tx,
      ctx.keys,
      shopId,
      queuedFor.map((target) => ({
        target,
        kind: 'subject.erase',
        subjectId,
        payload: { email: normalised, externalIds, requestId },
      })),
      s.recordedAt,
    );
    await appendAudit(tx, shopId, s.head, {
      action: 'subject.erased',
      actor,
      subjectId,
      at: s.recordedAt,
      details: { requestId, reason, orders: orderIds.length, queuedFor },
    });
    return {
      subjectId,
      requestId,
      ordersDeleted: orderIds.length,
      inboxDeleted: payloads.inbox,
      outboxDeleted: payloads.outbox,
      queuedFor,
    };
  });
  if (result.subjectId) ctx.keys.forgetSubject(ctx.shopId, result.subjectId);
  return result;
}
