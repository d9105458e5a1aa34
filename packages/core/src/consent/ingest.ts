/**
 * Applies a batch of validated consent events inside one transaction that holds the shop head lock. All
 * reads happen up front in a few set-based queries and all writes at the end in bulk, so a batch of 500
 * events costs about a dozen round trips instead of a dozen per event; the rules are applied event by
 * event in memory, in arrival order, exactly as for a single event.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { insertAuditRows, nextAuditRow, type Actor, type AuditRow } from '../audit/log.js';
import type { KeyRing, ShopKeys } from '../crypto/keyring.js';
import { TactfulError } from '../errors/tactful-error.js';
import { newSubjectRow, subjectsByIndexes, type StoredSubject } from '../profile/subjects.js';
import { hmac } from '../crypto/cipher.js';
import { repointAddress } from '../identity/change.js';
import {
  EMAIL,
  holdersOf,
  identifierIndex,
  insertIdentifiers,
  newIdentifierRow,
  suppressionsOf,
  type IdentifierRow,
} from '../identity/identifiers.js';
import { emailRef, linkOrders, type OrderRef } from '../identity/orders.js';
import { openForSubject } from '../crypto/keyring.js';
import type { ShopSettings } from '../shop/settings.js';
import type { Db } from '../store/open.js';
import { consentState, outbox, pushedConsent, subjects, suppression } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { bulkInsert } from '../store/bulk.js';
import { enqueue, type EnqueueInput } from '../sync/outbox.js';
import type { ConsentEventData, ConsentState, OptInLevel } from './event.js';
import { foldConsent, isFirstPartyOptIn, type FoldedConsent } from './fold.js';
import {
  eventContentHash,
  findBySources,
  historiesOf,
  insertLedgerRows,
  nextLedgerRow,
  toFoldable,
  type LedgerRow,
} from './ledger.js';
import { PROFILE_PURPOSE, purgeProfiles, rebuildProfiles } from '../profile/profiles.js';

export interface IngestSession {
  tx: Db;
  keys: KeyRing;
  shopId: string;
  head: ShopHead;
  shopKeys: ShopKeys;
  settings: ShopSettings;
  actor: Actor;
  recordedAt: Date;
}

export interface RecordOutcome {
  status: 'recorded' | 'duplicate';
  eventId: string;
  subjectId: string;
  echo: boolean;
  /** Whether the subject's current state for the purpose changed. */
  changed: boolean;
  state: FoldedConsent;
}

type StateRow = typeof consentState.$inferSelect;
const sourceKey = (system: string, eventId: string) => `${system}\u0000${eventId}`;
const pairKey = (subjectId: string, purpose: string) => `${subjectId}\u0000${purpose}`;

function asFolded(row: StateRow | undefined): FoldedConsent {
  return row
    ? { state: row.state as ConsentState, level: row.level as OptInLevel, since: row.since, decidedBy: row.decidedBy }
    : foldConsent([]);
}

/** An event id that holds an address is stored as a keyed hash under the subject's key: erasure shreds the link. */
const addressInside = /[^\s@:]+@[^\s@:]+\.[^\s@:]+/;
function storedEventId(subjectKey: Buffer, system: string, eventId: string): string {
  return addressInside.test(eventId)
    ? `h:${hmac(subjectKey, `event-id:${system}:${eventId}`).toString('hex')}`
    : eventId;
}

type PushedRow = typeof pushedConsent.$inferSelect;

export async function applyEvents(s: IngestSession, events: readonly ConsentEventData[]): Promise<RecordOutcome[]> {
  const { tx, shopId, keys, shopKeys } = s;
  const lookup = { keys, shopKeys, shopId };

  // --- reads, set-based -------------------------------------------------------------------------------
  const known = new Map(
    (
      await findBySources(
        tx,
        shopId,
        events.filter((e) => !addressInside.test(e.source.eventId)).map((e) => e.source),
      )
    ).map((r) => [sourceKey(r.sourceSystem, r.sourceEventId), r]),
  );
  const indexOf = new Map<string, Buffer>();
  for (const e of events)
    if (!indexOf.has(e.subject.email)) indexOf.set(e.subject.email, keys.emailIndex(shopKeys, e.subject.email));
  const idIndexOf = new Map<string, Buffer>();
  for (const e of events)
    for (const [system, id] of Object.entries(e.subject.externalIds ?? {}))
      if (!idIndexOf.has(pairKey(system, id))) idIndexOf.set(pairKey(system, id), identifierIndex(lookup, system, id));
  const indexes = [...indexOf.values(), ...idIndexOf.values()];
  const suppressed = await suppressionsOf(tx, shopId, indexes);
  const holders = await holdersOf(tx, shopId, indexes);
  const byIndex = new Map<string, StoredSubject>(
    (await subjectsByIndexes(tx, shopId, [...indexOf.values()])).map((r) => [r.emailIndex.toString('hex'), r]),
  );
  const byId = new Map<string, StoredSubject>([...byIndex.values()].map((r) => [r.subjectId, r]));
  const heldElsewhere = [...new Set([...holders.values()].map((h) => h.subjectId))].filter((id) => !byId.has(id));
  for (let i = 0; i < heldElsewhere.length; i += 1000)
    for (const row of await tx
      .select()
      .from(subjects)
      .where(and(eq(subjects.shopId, shopId), inArray(subjects.subjectId, heldElsewhere.slice(i, i + 1000)))))
      if (row.wrappedKey) byId.set(row.subjectId, row);
  const existingIds = [...byId.keys()];
  const histories = new Map<string, LedgerRow[]>();
  for (const row of await historiesOf(tx, shopId, existingIds)) {
    const k = pairKey(row.subjectId, row.purpose);
    const list = histories.get(k);
    if (list) list.push(row);
    else histories.set(k, [row]);
  }
  const states = new Map<string, StateRow>();
  const pushed = new Map<string, PushedRow>();
  for (let i = 0; i < existingIds.length; i += 1000) {
    const ids = existingIds.slice(i, i + 1000);
    for (const row of await tx
      .select()
      .from(consentState)
      .where(and(eq(consentState.shopId, shopId), inArray(consentState.subjectId, ids)))) {
      states.set(pairKey(row.subjectId, row.purpose), row);
    }
    for (const row of await tx
      .select()
      .from(pushedConsent)
      .where(and(eq(pushedConsent.shopId, shopId), inArray(pushedConsent.subjectId, ids)))) {
      pushed.set(`${row.system}\u0000${pairKey(row.subjectId, row.purpose)}`, row);
    }
  }

  // Systems with a consent push for the subject still waiting in the outbox.
  const pendingPush = new Set<string>();
  for (let i = 0; i < existingIds.length; i += 1000)
    for (const row of await tx
      .select({ target: outbox.target, subjectId: outbox.subjectId })
      .from(outbox)
      .where(
        and(
          eq(outbox.shopId, shopId),
          eq(outbox.kind, 'consent.push'),
          eq(outbox.status, 'pending'),
          inArray(outbox.subjectId, existingIds.slice(i, i + 1000)),
        ),
      ))
      pendingPush.add(`${row.target}\u0000${row.subjectId}`);

  // --- the rules, event by event, in memory -----------------------------------------------------------
  const newSubjects: StoredSubject[] = [];
  const newIdentifiers: IdentifierRow[] = [];
  const newRefs: OrderRef[] = [];
  const changedExternalIds = new Map<string, StoredSubject>();
  const unsuppress: Buffer[] = [];
  const ledgerRows: LedgerRow[] = [];
  const auditRows: AuditRow[] = [];
  const outboxItems: EnqueueInput[] = [];
  const stateUpserts = new Map<string, StateRow>();
  const pushedUpserts = new Map<string, PushedRow>();
  const outcomes: RecordOutcome[] = [];
  // Subjects whose personalization became granted (their profile is rebuilt) or stopped being granted (purged):
  // a profile exists only while that consent does.
  const profileTransitions = new Map<string, boolean>();
  const profileRevoked = new Set<string>();
  const session = { ...lookup, tx, head: s.head };
  const conflictsAudited = new Set<string>();

  const duplicateOutcome = (seen: LedgerRow, contentHash: string, eventId: string): RecordOutcome => {
    if (seen.contentHash !== contentHash) {
      throw new TactfulError(
        'CONSENT.CONFLICT',
        `Event id "${eventId}" from ${seen.sourceSystem} was already recorded with different content: give a new event id for a new event.`,
      );
    }
    return {
      status: 'duplicate',
      eventId: seen.eventId,
      subjectId: seen.subjectId,
      echo: seen.echo,
      changed: false,
      state: asFolded(states.get(pairKey(seen.subjectId, seen.purpose))),
    };
  };

  for (const original of events) {
    const hashedId = addressInside.test(original.source.eventId);
    if (!hashedId) {
      const seen = known.get(sourceKey(original.source.system, original.source.eventId));
      if (seen) {
        outcomes.push(duplicateOutcome(seen, eventContentHash(original), original.source.eventId));
        continue;
      }
    }

    const firstParty = isFirstPartyOptIn({ source: original.source });
    const index = indexOf.get(original.subject.email)!;
    const indexHex = index.toString('hex');
    const ids = Object.entries(original.subject.externalIds ?? {});
    const idHexes = ids.map(([system, id]) => idIndexOf.get(pairKey(system, id))!.toString('hex'));

    // The suppression list: every address and id of an erased person. Only the person themselves, opting in
    // again after the erasure, comes back; anything that happened before it is refused whenever it arrives.
    const erasedAt = [indexHex, ...idHexes]
      .map((hex) => suppressed.get(hex))
      .filter((d): d is Date => d !== undefined)
      .sort((a, b) => b.getTime() - a.getTime())[0];
    if (erasedAt) {
      const fresh = firstParty && (original.state === 'granted' || original.state === 'pending');
      if (!fresh)
        throw new TactfulError(
          'CONSENT.SUPPRESSED',
          'This person asked to be erased; only a fresh opt-in by the person themselves (a form or a double opt-in confirmation) can add them again.',
        );
      if (original.occurredAt.getTime() <= erasedAt.getTime())
        throw new TactfulError(
          'CONSENT.SUPPRESSED',
          `This opt-in happened on ${original.occurredAt.toISOString()}, before the person was erased (${erasedAt.toISOString()}): it cannot bring them back. Only an opt-in made after the erasure can.`,
        );
      for (const hex of [indexHex, ...idHexes]) {
        if (!suppressed.has(hex)) continue;
        suppressed.delete(hex);
        unsuppress.push(Buffer.from(hex, 'hex'));
        holders.delete(hex);
      }
    }

    // Who this is: the holder of the address, else the holder of the reporting system's id (their address
    // changed there), else whoever had the address before (a late event about an old address).
    let subject = byIndex.get(indexHex);
    const idHolder = idHexes
      .map((hex) => holders.get(hex))
      .map((h) => (h?.current ? byId.get(h.subjectId) : undefined))
      .find((x) => x !== undefined);
    if (subject && idHolder && idHolder.subjectId !== subject.subjectId) {
      // Two people in Tactful claim to be this one: the address decides, and the merchant is told to merge.
      const pair = `${subject.subjectId}\u0000${idHolder.subjectId}`;
      if (!conflictsAudited.has(pair)) {
        conflictsAudited.add(pair);
        auditRows.push(
          nextAuditRow(shopId, s.head, {
            action: 'subject.identity_conflict',
            actor: s.actor,
            subjectId: subject.subjectId,
            at: s.recordedAt,
            details: { source: original.source.system, otherSubjectId: idHolder.subjectId },
          }),
        );
      }
    } else if (!subject && idHolder && holders.get(indexHex)?.subjectId === idHolder.subjectId) {
      // The system still names the person by an address they had before: it lags behind, nothing moved.
      subject = idHolder;
    } else if (!subject && idHolder && !newSubjects.includes(idHolder)) {
      const change = await repointAddress(session, idHolder.subjectId, original.subject.email, {
        source: original.source.system,
        actor: s.actor,
        at: s.recordedAt,
      });
      if (change.status === 'changed') {
        byIndex.delete(idHolder.emailIndex.toString('hex'));
        idHolder.emailIndex = index;
        byIndex.set(indexHex, idHolder);
        subject = idHolder;
      }
    } else if (!subject) {
      const past = holders.get(indexHex);
      if (past && !past.current) subject = byId.get(past.subjectId);
    }

    let subjectKey: Buffer | null;
    if (!subject) {
      const created = newSubjectRow(lookup, original.subject.email, undefined, s.recordedAt);
      subject = created.row;
      subjectKey = created.key;
      keys.rememberSubjectKey(shopId, subject.subjectId, created.key);
      byIndex.set(indexHex, subject);
      byId.set(subject.subjectId, subject);
      newSubjects.push(subject);
      newIdentifiers.push(
        newIdentifierRow(lookup, subject.subjectId, created.key, EMAIL, original.subject.email, s.recordedAt),
      );
      newRefs.push({ subjectId: subject.subjectId, ref: emailRef(index) });
      auditRows.push(
        nextAuditRow(shopId, s.head, {
          action: 'subject.registered',
          actor: s.actor,
          subjectId: subject.subjectId,
          at: s.recordedAt,
          details: { source: original.source.system, method: original.source.method },
        }),
      );
    } else {
      subjectKey = keys.unwrapSubjectKey(shopKeys, shopId, subject.subjectId, subject.wrappedKey);
    }
    if (!subjectKey)
      throw new TactfulError(
        'CONSENT.SUPPRESSED',
        'This person was erased; record a fresh first-party opt-in to add them again.',
      );
    // Ids nobody else holds become this person's; an id held by another person stays theirs (a conflict).
    for (const [i, [system, id]] of ids.entries()) {
      const hex = idHexes[i]!;
      const holder = holders.get(hex);
      if (holder?.current || subject.externalIds[system] === id) continue;
      subject.externalIds = { ...subject.externalIds, [system]: id };
      if (!newSubjects.includes(subject)) changedExternalIds.set(subject.subjectId, subject);
      const row = newIdentifierRow(lookup, subject.subjectId, subjectKey, system, id, s.recordedAt);
      newIdentifiers.push(row);
      newRefs.push({ subjectId: subject.subjectId, ref: `${system}:${id}` });
      holders.set(hex, { ...row, current: true });
    }

    const data: ConsentEventData = hashedId
      ? {
          ...original,
          source: {
            ...original.source,
            eventId: storedEventId(subjectKey, original.source.system, original.source.eventId),
          },
        }
      : original;
    const contentHash = eventContentHash(data);
    if (hashedId) {
      const k = sourceKey(data.source.system, data.source.eventId);
      const seen = known.get(k) ?? (await findBySources(tx, shopId, [data.source]))[0];
      if (seen) {
        outcomes.push(duplicateOutcome(seen, contentHash, data.source.eventId));
        continue;
      }
    }

    const key = pairKey(subject.subjectId, data.purpose);
    // An echo: the source reports back exactly what Tactful wrote to it, while that write is still in flight
    // (the source has reported nothing since). Whatever the source reports, it is what it holds now.
    const fromSource = pushed.get(`${data.source.system}\u0000${key}`);
    const echo = !firstParty && fromSource?.inFlight === true && fromSource.state === data.state;
    // A push of ours to the source not delivered yet would overwrite what the source just reported.
    const overtaken = pendingPush.has(`${data.source.system}\u0000${subject.subjectId}`);
    if (fromSource && (!fromSource.reportedAt || fromSource.reportedAt.getTime() <= data.occurredAt.getTime())) {
      const reported: PushedRow = {
        ...fromSource,
        inFlight: false,
        reportedState: data.state,
        reportedAt: data.occurredAt,
      };
      pushed.set(`${data.source.system}\u0000${key}`, reported);
      pushedUpserts.set(`${data.source.system}\u0000${key}`, reported);
    }
    const row = nextLedgerRow(shopId, s.head, {
      data,
      subjectId: subject.subjectId,
      subjectKey,
      echo,
      recordedAt: s.recordedAt,
      contentHash,
    });
    ledgerRows.push(row);
    known.set(sourceKey(data.source.system, data.source.eventId), row);
    const history = histories.get(key) ?? [];
    history.push(row);
    histories.set(key, history);

    const folded = foldConsent(history.map(toFoldable));
    const before = states.get(key);
    const stateChanged =
      folded.decidedBy !== null && (before?.state !== folded.state || before?.level !== folded.level);
    // The batch's last personalization transition decides a rebuild; any withdrawal in it purges first, so a
    // withdraw-then-grant starts the profile afresh.
    if (
      stateChanged &&
      data.purpose === PROFILE_PURPOSE &&
      (before?.state === 'granted') !== (folded.state === 'granted')
    ) {
      profileTransitions.set(subject.subjectId, folded.state === 'granted');
      if (folded.state !== 'granted') profileRevoked.add(subject.subjectId);
    }
    if (folded.decidedBy !== null && folded.since && (stateChanged || before?.decidedBy !== folded.decidedBy)) {
      const next: StateRow = {
        shopId,
        subjectId: subject.subjectId,
        purpose: data.purpose,
        state: folded.state,
        level: folded.level,
        since: folded.since,
        decidedBy: folded.decidedBy,
      };
      states.set(key, next);
      stateUpserts.set(key, next);
    }

    auditRows.push(
      nextAuditRow(shopId, s.head, {
        action: 'consent.recorded',
        actor: s.actor,
        subjectId: subject.subjectId,
        at: s.recordedAt,
        details: {
          purpose: data.purpose,
          state: data.state,
          level: data.level,
          source: data.source.system,
          method: data.source.method,
          sourceEventId: data.source.eventId,
          occurredAt: data.occurredAt.toISOString(),
          echo,
          changed: stateChanged,
          result: folded.state,
        },
      }),
    );

    if (stateChanged) {
      // The source already holds the new state, unless a write of ours with another state is still on its way
      // there: then it is told again, so the last word it gets is this one.
      const targets = s.settings.connectedSystems.filter((system) => system !== data.source.system || overtaken);
      const decider = history.find((h) => h.eventId === folded.decidedBy);
      // A late event about an old address changes the person: the systems are told at their address now.
      const payload = {
        email: subject.emailIndex.equals(index)
          ? data.subject.email
          : openForSubject(subjectKey, shopId, subject.subjectId, 'email', subject.emailEnc),
        externalIds: subject.externalIds,
        purpose: data.purpose,
        state: folded.state,
        level: folded.level,
        occurredAt: (folded.since ?? data.occurredAt).toISOString(),
        firstParty: decider ? isFirstPartyOptIn(toFoldable(decider)) : false,
      };
      for (const target of targets) {
        outboxItems.push({ target, kind: 'consent.push', subjectId: subject.subjectId, payload });
        pendingPush.add(`${target}\u0000${subject.subjectId}`);
        // Remember the write in flight, so the system's report of exactly this state is known as its echo.
        const before = pushed.get(`${target}\u0000${key}`);
        const written: PushedRow = {
          shopId,
          system: target,
          subjectId: subject.subjectId,
          purpose: data.purpose,
          state: folded.state,
          occurredAt: folded.since ?? data.occurredAt,
          pushedAt: s.recordedAt,
          inFlight: true,
          reportedState: before?.reportedState ?? null,
          reportedAt: before?.reportedAt ?? null,
        };
        pushed.set(`${target}\u0000${key}`, written);
        pushedUpserts.set(`${target}\u0000${key}`, written);
      }
    }
    outcomes.push({
      status: 'recorded',
      eventId: row.eventId,
      subjectId: subject.subjectId,
      echo,
      changed: stateChanged,
      state: folded,
    });
  }

  // --- writes, in bulk ----------------------------------------------------------------------------------
  if (unsuppress.length > 0)
    await tx
      .delete(suppression)
      .where(and(eq(suppression.shopId, shopId), inArray(suppression.emailIndex, unsuppress)));
  await bulkInsert(tx, subjects, newSubjects);
  await insertIdentifiers(tx, newIdentifiers);
  // Orders placed before Tactful knew the person (by their address or an id of theirs) join them now.
  await linkOrders(tx, shopId, newRefs);
  for (const subject of changedExternalIds.values()) {
    await tx
      .update(subjects)
      .set({ externalIds: subject.externalIds })
      .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subject.subjectId)));
  }
  await insertLedgerRows(tx, ledgerRows);
  await bulkInsert(
    tx,
    consentState,
    [...stateUpserts.values()],
    sql`on conflict (shop_id, subject_id, purpose) do update set state = excluded.state, level = excluded.level, since = excluded.since, decided_by = excluded.decided_by`,
  );
  await insertAuditRows(tx, auditRows);
  // Purge on withdrawal, rebuild from order history on a fresh grant, in the consent's own transaction: no
  // moment exists where the consent is withdrawn and the profile still there.
  const granted = [...profileTransitions].filter(([, g]) => g).map(([id]) => id);
  await purgeProfiles(tx, shopId, s.head, [...profileRevoked], s.actor, s.recordedAt);
  await rebuildProfiles(tx, shopId, s.head, granted, s.actor, s.recordedAt);
  await enqueue(tx, keys, shopId, outboxItems, s.recordedAt);
  await bulkInsert(
    tx,
    pushedConsent,
    [...pushedUpserts.values()],
    sql`on conflict (shop_id, system, subject_id, purpose) do update set state = excluded.state, occurred_at = excluded.occurred_at, pushed_at = excluded.pushed_at, in_flight = excluded.in_flight, reported_state = excluded.reported_state, reported_at = excluded.reported_at`,
  );
  return outcomes;
}
