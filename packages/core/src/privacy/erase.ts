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
import { parseEmail } from '../identity/email.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { TactfulError } from '../errors/tactful-error.js';
import { lockModel } from '../recommend/model-store.js';
import { deleteOrders } from '../recommend/orders.js';
import type { Db } from '../store/open.js';
import {
  campaignRecipients,
  consentState,
  contactSends,
  flowSteps,
  inbox,
  optInTokens,
  orders,
  outbox,
  profiles,
  pushedConsent,
  subjectIdentifiers,
  subjects,
  suppression,
} from '../store/schema.js';
import { openForSubject } from '../store/keyring.js';
import { EMAIL, identifierIndex, identifiersOf, openIdentifier } from '../identity/identifiers.js';
import { findSubjectByIdentifier } from '../profile/subjects.js';
import { enqueue } from '../sync/outbox.js';
import type { ShopKeys } from '../store/keyring.js';

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

/** Who an erasure is for: an address (current or past), ids in other systems, or both. */
export interface ErasureTarget {
  email?: string | null | undefined;
  ids?: Record<string, string> | undefined;
}

/**
 * Erases the person named by an address they have (or had) or an id of theirs in another system. Refuses an
 * unknown person (nothing held: SUBJECT.NOT_FOUND) so a typo does not silently "succeed"; a person known only
 * from orders is erased too. Every address and id they ever had goes on the suppression list.
 */
export async function eraseSubject(
  ctx: ShopContext,
  target: string | ErasureTarget,
  request: EraseRequest,
  actor: Actor,
): Promise<EraseResult> {
  const claim: ErasureTarget = typeof target === 'string' ? { email: target } : target;
  const normalised = claim.email ? parseEmail(claim.email) : null;
  const claimIds = claim.ids ?? {};
  if (!normalised && Object.keys(claimIds).length === 0)
    throw new TactfulError('PRIVACY.INVALID', 'Name the person to erase by an email address or an id of theirs.');
  const { reason, requestId } = validateRequest(request);
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const lookup = { keys: ctx.keys, shopKeys, shopId: ctx.shopId };
  const result = await withShopTransaction(ctx, actor, async (s) => {
    const { tx, shopId } = s;
    await lockModel(tx, shopId);
    const subject = await findSubjectByIdentifier(tx, lookup, { email: normalised, ids: claimIds });
    const subjectId = subject?.subjectId ?? null;
    const subjectKey = subject
      ? ctx.keys.unwrapSubjectKey(shopKeys, shopId, subject.subjectId, subject.wrappedKey)
      : null;

    // Every address and id the person ever had, read before their key is destroyed.
    const emails = new Set<string>(normalised ? [normalised] : []);
    const ids = new Map<string, Set<string>>();
    const addId = (system: string, id: string) => ids.set(system, (ids.get(system) ?? new Set()).add(id));
    for (const [system, id] of Object.entries(claimIds)) addId(system, id);
    if (subject && subjectKey) {
      emails.add(openForSubject(subjectKey, shopId, subject.subjectId, 'email', subject.emailEnc));
      for (const [system, id] of Object.entries(subject.externalIds)) addId(system, id);
      for (const row of await identifiersOf(tx, shopId, [subject.subjectId])) {
        const value = openIdentifier(subjectKey, row);
        if (row.kind === EMAIL) emails.add(value);
        else addId(row.kind, value);
      }
    }
    const currentEmail =
      subject && subjectKey
        ? openForSubject(subjectKey, shopId, subject.subjectId, 'email', subject.emailEnc)
        : normalised;
    const externalIds = Object.fromEntries([...ids].map(([system, values]) => [system, [...values].at(-1)!]));
    const suppressed = [
      ...[...emails].map((email) => ({ kind: EMAIL, index: identifierIndex(lookup, EMAIL, email) })),
      ...[...ids].flatMap(([system, values]) =>
        [...values].map((id) => ({ kind: system, index: identifierIndex(lookup, system, id) })),
      ),
    ];
    const refs = [
      ...[...emails].map((email) => `e:${identifierIndex(lookup, EMAIL, email).toString('hex')}`),
      ...[...ids].flatMap(([system, values]) => [...values].map((id) => `${system}:${id}`)),
    ];

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
        `No customer ${normalised ? `with email ${normalised}` : `with id ${Object.values(claimIds).join(', ')}`} in shop ${shopId}: nothing is held for them.`,
      );
    }
    const orderIds = theirOrders.map((o) => o.orderId);
    await deleteOrders(tx, shopId, orderIds);

    const payloads = await deletePayloadsNaming(tx, shopId, s.shopKeys, subjectId, [
      ...emails,
      ...[...ids.values()].flatMap((v) => [...v]),
      ...orderIds.map((id) => `"${id}"`),
    ]);

    if (subjectId) {
      const bySubject = (
        table:
          | typeof profiles
          | typeof contactSends
          | typeof campaignRecipients
          | typeof flowSteps
          | typeof consentState
          | typeof pushedConsent
          | typeof optInTokens
          | typeof subjectIdentifiers,
      ) => tx.delete(table).where(and(eq(table.shopId, shopId), eq(table.subjectId, subjectId)));
      await bySubject(profiles);
      await bySubject(contactSends);
      await bySubject(campaignRecipients);
      // The person's flow steps (which orders were to be followed up, and what became of them) go too.
      await bySubject(flowSteps);
      await bySubject(consentState);
      await bySubject(pushedConsent);
      await bySubject(optInTokens);
      // The history of addresses and ids goes too: the suppression list keeps their keyed hashes, unlinked.
      await bySubject(subjectIdentifiers);
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
    for (const { kind, index } of suppressed)
      await tx
        .insert(suppression)
        .values({ shopId, emailIndex: index, kind, reason, requestId, at: s.recordedAt })
        .onConflictDoUpdate({
          target: [suppression.shopId, suppression.emailIndex],
          set: { reason, requestId, at: s.recordedAt },
        });

    // Each system is told to forget the person: their address now, their latest id there, and every address and
    // id they had before (Mailchimp deletes a member per address, Shopify erases each customer id).
    const queuedFor = currentEmail ? [...s.settings.connectedSystems] : [];
    await enqueue(
      tx,
      ctx.keys,
      shopId,
      queuedFor.map((target) => ({
        target,
        kind: 'subject.erase',
        subjectId,
        // Every address and id they ever had: the system erases each record it may hold under any of them.
        payload: {
          email: currentEmail,
          externalIds,
          emails: [...emails],
          allIds: Object.fromEntries([...ids].map(([system, values]) => [system, [...values]])),
          requestId,
        },
      })),
      s.recordedAt,
    );
    await appendAudit(tx, shopId, s.head, {
      action: 'subject.erased',
      actor,
      subjectId,
      at: s.recordedAt,
      details: { requestId, reason, orders: orderIds.length, identifiers: suppressed.length, queuedFor },
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
