/**
 * An address change: the same person, a new address. Everything about them hangs on the subject id, so only
 * the address moves; the old one stays in their history (found by erasures, data requests and late events).
 * A change onto an address on the suppression list or held by another person is refused, and the refusal is
 * audited like the change would have been.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { appendAudit, type Actor } from '../audit/log.js';
import { openForSubject, sealForSubject } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { orders, outbox, subjectIdentifiers, subjects } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { enqueue } from '../sync/outbox.js';
import { EMAIL_CHANGE } from '../sync/targets.js';
import {
  closeIdentifier,
  EMAIL,
  identifierIndex,
  insertIdentifiers,
  newIdentifierRow,
  suppressionsOf,
  type IdentityKeys,
} from './identifiers.js';

export type AddressChange =
  | { status: 'unchanged'; subjectId: string }
  /** `emailEnc`: the new address as stored on the subject's row, for a caller that holds the row in memory. */
  | { status: 'changed'; subjectId: string; emailEnc: Buffer }
  | {
      status: 'refused';
      subjectId: string;
      /** `suppressed`: an erased person's address; `belongs-to-another`: another person's current address. */
      reason: 'suppressed' | 'belongs-to-another' | 'erased';
      otherSubjectId?: string;
    };

export interface ChangeSession extends IdentityKeys {
  tx: Db;
  head: ShopHead;
  /** The systems told of a change (all but the one that reported it). */
  settings: { connectedSystems: readonly string[] };
}

/** The subject's current address changes to `newEmail` (normalised), in the caller's transaction. */
export async function repointAddress(
  s: ChangeSession,
  subjectId: string,
  newEmail: string,
  how: { source: string; actor: Actor; at: Date },
): Promise<AddressChange> {
  const { tx, shopId } = s;
  const index = identifierIndex(s, EMAIL, newEmail);
  const [subject] = await tx
    .select()
    .from(subjects)
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId)));
  const refuse = async (
    reason: 'suppressed' | 'belongs-to-another' | 'erased',
    otherSubjectId?: string,
    toldBack?: string,
  ): Promise<AddressChange> => {
    await appendAudit(tx, shopId, s.head, {
      action: 'subject.email_change_refused',
      actor: how.actor,
      subjectId,
      at: how.at,
      details: {
        source: how.source,
        reason,
        ...(otherSubjectId ? { otherSubjectId } : {}),
        ...(toldBack ? { toldBack } : {}),
      },
    });
    return { status: 'refused', subjectId, reason, ...(otherSubjectId ? { otherSubjectId } : {}) };
  };
  if (!subject?.wrappedKey) return refuse('erased');
  if (subject.emailIndex.equals(index)) return { status: 'unchanged', subjectId };
  if ((await suppressionsOf(tx, shopId, [index])).size > 0) {
    // The system that moved the person onto an erased person's address is told to move them back: the
    // erased address must not stay live there either (Mailchimp would keep mailing it).
    const key = s.keys.unwrapSubjectKey(s.shopKeys, shopId, subjectId, subject.wrappedKey);
    const moveBack = key !== null && s.settings.connectedSystems.includes(how.source);
    if (key && moveBack)
      await enqueue(
        tx,
        s.keys,
        shopId,
        [
          {
            target: how.source,
            kind: EMAIL_CHANGE,
            subjectId,
            payload: {
              email: newEmail,
              newEmail: openForSubject(key, shopId, subjectId, 'email', subject.emailEnc),
              externalIds: subject.externalIds,
            },
          },
        ],
        how.at,
      );
    return refuse('suppressed', undefined, moveBack ? how.source : undefined);
  }
  const [taken] = await tx
    .select({ subjectId: subjects.subjectId })
    .from(subjects)
    .where(and(eq(subjects.shopId, shopId), eq(subjects.emailIndex, index)));
  if (taken && taken.subjectId !== subjectId) return refuse('belongs-to-another', taken.subjectId);

  const key = s.keys.unwrapSubjectKey(s.shopKeys, shopId, subjectId, subject.wrappedKey);
  if (!key) return refuse('erased');
  // A subject from before identifiers were kept gets its current address recorded first, so it is not lost.
  await insertIdentifiers(tx, [
    {
      shopId,
      subjectId,
      kind: EMAIL,
      valueIndex: subject.emailIndex,
      valueEnc: subject.emailEnc,
      validFrom: subject.createdAt,
      validTo: null,
    },
  ]);
  await closeIdentifier(tx, shopId, subjectId, EMAIL, how.at);
  // Someone else's past address may become this person's: that history stays theirs, the new span is this one's.
  await tx
    .update(subjectIdentifiers)
    .set({ validTo: how.at })
    .where(
      and(
        eq(subjectIdentifiers.shopId, shopId),
        eq(subjectIdentifiers.kind, EMAIL),
        eq(subjectIdentifiers.valueIndex, index),
        isNull(subjectIdentifiers.validTo),
      ),
    );
  const oldEmail = openForSubject(key, shopId, subjectId, 'email', subject.emailEnc);
  await insertIdentifiers(tx, [newIdentifierRow(s, subjectId, key, EMAIL, newEmail, how.at)]);
  const emailEnc = sealForSubject(key, shopId, subjectId, 'email', newEmail);
  await tx
    .update(subjects)
    .set({ emailIndex: index, emailEnc })
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId)));
  // Orders placed under the new address before Tactful knew it was theirs join the person.
  await tx
    .update(orders)
    .set({ subjectId })
    .where(
      and(
        eq(orders.shopId, shopId),
        isNull(orders.subjectId),
        eq(orders.customerRef, sql`${`e:${index.toString('hex')}`}`),
      ),
    );
  // Every other connected system follows (the one that reported the change has it already). The outbox
  // carries it durably, retried; an adapter moves its record without touching consent.
  const told = s.settings.connectedSystems.filter((system) => system !== how.source);
  await enqueue(
    tx,
    s.keys,
    shopId,
    told.map((target) => ({
      target,
      kind: EMAIL_CHANGE,
      subjectId,
      payload: { email: oldEmail, newEmail, externalIds: subject.externalIds },
    })),
    how.at,
  );
  await appendAudit(tx, shopId, s.head, {
    action: 'subject.email_changed',
    actor: how.actor,
    subjectId,
    at: how.at,
    details: { source: how.source, told },
  });
  return { status: 'changed', subjectId, emailEnc };
}

/**
 * Whether a system's report naming one of the person's past addresses is behind the times rather than a change
 * back: Tactful's move off that address is still waiting to reach that system, or the report describes a moment
 * before the address stopped being theirs, or before that system was last told their address.
 */
export async function reportIsStale(
  tx: Db,
  shopId: string,
  subjectId: string,
  system: string,
  past: { validTo: Date | null },
  reportedAt: Date,
): Promise<boolean> {
  if (past.validTo && reportedAt.getTime() < past.validTo.getTime()) return true;
  const sent = await tx
    .select({ status: outbox.status, deliveredAt: outbox.deliveredAt })
    .from(outbox)
    .where(
      and(
        eq(outbox.shopId, shopId),
        eq(outbox.subjectId, subjectId),
        eq(outbox.target, system),
        eq(outbox.kind, EMAIL_CHANGE),
      ),
    );
  return sent.some(
    (row) => row.status === 'pending' || (row.deliveredAt !== null && reportedAt.getTime() < row.deliveredAt.getTime()),
  );
}

/** The subject gains an id in `system` (when nobody holds it now), in the caller's transaction. */
export async function attachId(
  s: ChangeSession,
  subjectId: string,
  subjectKey: Buffer,
  system: string,
  id: string,
  at: Date,
): Promise<void> {
  await closeIdentifier(s.tx, s.shopId, subjectId, system, at);
  await insertIdentifiers(s.tx, [newIdentifierRow(s, subjectId, subjectKey, system, id, at)]);
}
