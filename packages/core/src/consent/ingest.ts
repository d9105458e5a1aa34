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
import { newSubjectRow, subjectsByIndexes, suppressedAmong, type StoredSubject } from '../profile/subjects.js';
import type { ShopSettings } from '../shop/settings.js';
import type { Db } from '../store/open.js';
import { consentState, pushedConsent, subjects, suppression } from '../store/schema.js';
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

export async function applyEvents(s: IngestSession, events: readonly ConsentEventData[]): Promise<RecordOutcome[]> {
  const { tx, shopId, keys, shopKeys } = s;
  const lookup = { keys, shopKeys, shopId };

  // --- reads, set-based -------------------------------------------------------------------------------
  const known = new Map(
    (
      await findBySources(
        tx,
        shopId,
        events.map((e) => e.source),
      )
    ).map((r) => [sourceKey(r.sourceSystem, r.sourceEventId), r]),
  );
  const indexOf = new Map<string, Buffer>();
  for (const e of events)
    if (!indexOf.has(e.subject.email)) indexOf.set(e.subject.email, keys.emailIndex(shopKeys, e.subject.email));
  const indexes = [...indexOf.values()];
  const suppressed = await suppressedAmong(tx, shopId, indexes);
  const byIndex = new Map<string, StoredSubject>(
    (await subjectsByIndexes(tx, shopId, indexes)).map((r) => [r.emailIndex.toString('hex'), r]),
  );
  const existingIds = [...byIndex.values()].map((r) => r.subjectId);
  const histories = new Map<string, LedgerRow[]>();
  for (const row of await historiesOf(tx, shopId, existingIds)) {
    const k = pairKey(row.subjectId, row.purpose);
    const list = histories.get(k);
    if (list) list.push(row);
    else histories.set(k, [row]);
  }
  const states = new Map<string, StateRow>();
  const pushed = new Map<string, string>();
  for (let i = 0; i < existingIds.length; i += 1000) {
    const ids = existingIds.slice(i, i + 1000);
    for (const row of await tx
      .select()
      .from(consentState)
      .where(and(eq(consentState.shopId, shopId), inArray(consentState.subjectId, ids)))) {
      states.set(pairKey(row.subjectId, row.purpose), row);
    }
    for (const row of await tx
      .select({
        system: pushedConsent.system,
        subjectId: pushedConsent.subjectId,
        purpose: pushedConsent.purpose,
        state: pushedConsent.state,
      })
      .from(pushedConsent)
      .where(and(eq(pushedConsent.shopId, shopId), inArray(pushedConsent.subjectId, ids)))) {
      pushed.set(`${row.system}\u0000${pairKey(row.subjectId, row.purpose)}`, row.state);
    }
  }

  // --- the rules, event by event, in memory -----------------------------------------------------------
  const newSubjects: StoredSubject[] = [];
  const changedExternalIds = new Map<string, StoredSubject>();
  const unsuppress: Buffer[] = [];
  const ledgerRows: LedgerRow[] = [];
  const auditRows: AuditRow[] = [];
  const outboxItems: EnqueueInput[] = [];
  const stateUpserts = new Map<string, StateRow>();
  const pushedUpserts = new Map<string, typeof pushedConsent.$inferInsert>();
  const outcomes: RecordOutcome[] = [];
  // profiles (issue 4): subjects whose personalization became granted (rebuild) or stopped being granted (purge).
  const profileTransitions = new Map<string, boolean>();
  const profileRevoked = new Set<string>();

  for (const data of events) {
    const contentHash = eventContentHash(data);
    const seen = known.get(sourceKey(data.source.system, data.source.eventId));
    if (seen) {
      if (seen.contentHash !== contentHash) {
        throw new TactfulError(
          'CONSENT.CONFLICT',
          `Event id "${data.source.eventId}" from ${data.source.system} was already recorded with different content: give a new event id for a new event.`,
        );
      }
      outcomes.push({
        status: 'duplicate',
        eventId: seen.eventId,
        subjectId: seen.subjectId,
        echo: seen.echo,
        changed: false,
        state: asFolded(states.get(pairKey(seen.subjectId, seen.purpose))),
      });
      continue;
    }

    const firstParty = isFirstPartyOptIn({ source: data.source });
    const index = indexOf.get(data.subject.email)!;
    const indexHex = index.toString('hex');
    if (suppressed.has(indexHex)) {
      if (!(firstParty && (data.state === 'granted' || data.state === 'pending'))) {
        throw new TactfulError(
          'CONSENT.SUPPRESSED',
          'This person asked to be erased; only a fresh opt-in by the person themselves (a form or a double opt-in confirmation) can add them again.',
        );
      }
      suppressed.delete(indexHex);
      unsuppress.push(index);
    }

    let subject = byIndex.get(indexHex);
    let subjectKey: Buffer | null;
    if (!subject) {
      const created = newSubjectRow(lookup, data.subject.email, data.subject.externalIds, s.recordedAt);
      subject = created.row;
      subjectKey = created.key;
      keys.rememberSubjectKey(shopId, subject.subjectId, created.key);
      byIndex.set(indexHex, subject);
      newSubjects.push(subject);
      auditRows.push(
        nextAuditRow(shopId, s.head, {
          action: 'subject.registered',
          actor: s.actor,
          subjectId: subject.subjectId,
          at: s.recordedAt,
          details: { source: data.source.system, method: data.source.method },
        }),
      );
    } else {
      subjectKey = keys.unwrapSubjectKey(shopKeys, shopId, subject.subjectId, subject.wrappedKey);
      const ext = data.subject.externalIds;
      if (ext && Object.entries(ext).some(([k, v]) => subject!.externalIds[k] !== v)) {
        subject.externalIds = { ...subject.externalIds, ...ext };
        if (!newSubjects.includes(subject)) changedExternalIds.set(subject.subjectId, subject);
      }
    }
    if (!subjectKey)
      throw new TactfulError(
        'CONSENT.SUPPRESSED',
        'This person was erased; record a fresh first-party opt-in to add them again.',
      );

    const key = pairKey(subject.subjectId, data.purpose);
    // An echo: the source reports back exactly what Tactful told it to hold.
    const echo = !firstParty && pushed.get(`${data.source.system}\u0000${key}`) === data.state;
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
    // profiles (issue 4): remember the subject's last personalization transition of this batch.
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
      const targets = s.settings.connectedSystems.filter((system) => system !== data.source.system);
      const decider = history.find((h) => h.eventId === folded.decidedBy);
      const payload = {
        email: data.subject.email,
        externalIds: subject.externalIds,
        purpose: data.purpose,
        state: folded.state,
        level: folded.level,
        occurredAt: (folded.since ?? data.occurredAt).toISOString(),
        firstParty: decider ? isFirstPartyOptIn(toFoldable(decider)) : false,
      };
      for (const target of targets) {
        outboxItems.push({ target, kind: 'consent.push', subjectId: subject.subjectId, payload });
        // Remember what each system will now hold, so its report of the same state is known as an echo.
        pushed.set(`${target}\u0000${key}`, folded.state);
        pushedUpserts.set(`${target}\u0000${key}`, {
          shopId,
          system: target,
          subjectId: subject.subjectId,
          purpose: data.purpose,
          state: folded.state,
          occurredAt: folded.since ?? data.occurredAt,
          pushedAt: s.recordedAt,
        });
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
  // profiles (issue 4): purge on withdrawal, rebuild from order history on a fresh grant — same transaction.
  const granted = [...profileTransitions].filter(([, g]) => g).map(([id]) => id);
  await purgeProfiles(tx, shopId, s.head, [...profileRevoked], s.actor, s.recordedAt);
  await rebuildProfiles(tx, shopId, s.head, granted, s.actor, s.recordedAt);
  await enqueue(tx, keys, shopId, outboxItems, s.recordedAt);
  await bulkInsert(
    tx,
    pushedConsent,
    [...pushedUpserts.values()],
    sql`on conflict (shop_id, system, subject_id, purpose) do update set state = excluded.state, occurred_at = excluded.occurred_at, pushed_at = excluded.pushed_at`,
  );
  return outcomes;
}
