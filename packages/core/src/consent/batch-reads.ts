/**
 * What a batch of consent events needs to know of the store, read in two round trips whatever the batch's size.
 * The batch's keys travel as one array parameter each (no bind-parameter ceiling, none of the query builder's
 * per-value work), unnested, and each key is looked up on its own in a `lateral` subquery (`offset 0` keeps it
 * one), so the plan is an index probe per key whatever the planner believes of the tables. With
 * `key = any(array)` it decided by statistics: PGlite never analyzes, so it takes the default selectivities,
 * under which a list of a few hundred keys filters nothing and the shop's one value filters almost everything,
 * and PostgreSQL, before its first ANALYZE of a new shop's rows, estimated that shop at one row: both then
 * scanned the shop's whole range of the index and filtered on the keys, so each batch read more than the last
 * (PGlite: 535 ms for the histories of 480 people over a 5 000-event ledger, PostgreSQL: 224 ms over 100 000,
 * against 9 ms looked up). Each query answers one row of JSON arrays, so the driver and the query builder handle
 * one value instead of thousands of rows, which dominated a batch's time, on PGlite most of all.
 */
import { sql } from 'drizzle-orm';
import type { IdentifierRow } from '../identity/identifiers.js';
import type { StoredSubject } from '../profile/subjects.js';
import { rows } from '../store/open.js';
import { arrayLiteral, byteaArray, textArray } from '../store/text-array.js';
import type { Db } from '../store/open.js';
import type { consentState, pushedConsent } from '../store/schema.js';
import type { LedgerRow } from './ledger.js';

/** What the ingest keeps of a ledger row: enough to fold, to answer a replay and to refuse a conflict. */
export type KnownEvent = Pick<
  LedgerRow,
  | 'eventId'
  | 'subjectId'
  | 'purpose'
  | 'state'
  | 'level'
  | 'occurredAt'
  | 'echo'
  | 'sourceSystem'
  | 'sourceEventId'
  | 'method'
  | 'contentHash'
>;
export type StateRow = typeof consentState.$inferSelect;
export type PushedRow = typeof pushedConsent.$inferSelect;

/**
 * (The purpose of a state is matched outside its lookup: inside, the planner, with no statistics, found the index
 * on (shop, purpose, state) as good as the key's and scanned a purpose's every state for each pair.)
 *
 * The shop, as a value the planner cannot look up in its statistics (`(select $1)`): a shop estimated at one row
 * makes a lookup by the shop alone look as good as one by the shop and the key.
 */
export const shopParam = (shopId: string) => sql`(select ${shopId}::text)`;
const buf = (h: string) => Buffer.from(h, 'hex');
const date = (s: string) => new Date(s);
const dateOrNull = (s: string | null) => (s === null ? null : new Date(s));

interface EventJson {
  eventId: string;
  subjectId: string;
  purpose: string;
  state: string;
  level: string;
  occurredAt: string;
  echo: boolean;
  sourceSystem: string;
  sourceEventId: string;
  method: string;
  contentHash: string;
}
const eventJson = (t: string) =>
  sql.raw(`json_build_object('eventId', ${t}.event_id, 'subjectId', ${t}.subject_id, 'purpose', ${t}.purpose,
    'state', ${t}.state, 'level', ${t}.level, 'occurredAt', ${t}.occurred_at, 'echo', ${t}.echo,
    'sourceSystem', ${t}.source_system, 'sourceEventId', ${t}.source_event_id, 'method', ${t}.method,
    'contentHash', ${t}.content_hash)`);
const toEvent = (e: EventJson): KnownEvent => ({ ...e, occurredAt: date(e.occurredAt) });

interface SubjectJson {
  shopId: string;
  subjectId: string;
  emailIndex: string;
  emailEnc: string;
  wrappedKey: string | null;
  externalIds: Record<string, string>;
  createdAt: string;
  erasedAt: string | null;
  undeliverableAt: string | null;
  mergedInto: string | null;
}
const subjectJson = sql.raw(`json_build_object('shopId', s.shop_id, 'subjectId', s.subject_id,
  'emailIndex', encode(s.email_index, 'hex'), 'emailEnc', encode(s.email_enc, 'hex'),
  'wrappedKey', encode(s.wrapped_key, 'hex'), 'externalIds', s.external_ids, 'createdAt', s.created_at,
  'erasedAt', s.erased_at, 'undeliverableAt', s.undeliverable_at, 'mergedInto', s.merged_into)`);
const toSubject = (s: SubjectJson): StoredSubject => ({
  ...s,
  emailIndex: buf(s.emailIndex),
  emailEnc: buf(s.emailEnc),
  wrappedKey: s.wrappedKey === null ? null : buf(s.wrappedKey),
  createdAt: date(s.createdAt),
  erasedAt: dateOrNull(s.erasedAt),
  undeliverableAt: dateOrNull(s.undeliverableAt),
});

export interface IdentityReads {
  /** Ledger rows of the batch's (system, event id) pairs: replays and conflicts. */
  sources: KnownEvent[];
  /** Erasure time of each suppressed index (hex) among those asked. */
  suppressed: Map<string, Date>;
  /** Every identifier row, current or past, whose index is among those asked. */
  identifiers: IdentifierRow[];
  /** Subjects whose current address has one of the email indexes asked. */
  subjects: StoredSubject[];
}

/** Round trip 1: by the batch's own keys (source ids, blind indexes of addresses and ids). */
export async function readIdentities(
  db: Db,
  shopId: string,
  keys: { sources: ReadonlyArray<{ system: string; eventId: string }>; indexes: Buffer[]; emailIndexes: Buffer[] },
): Promise<IdentityReads> {
  const shop = shopParam(shopId);
  const indexes = byteaArray(keys.indexes);
  const [row] = await rows<{
    sources: EventJson[];
    suppressed: Array<{ index: string; at: string }>;
    identifiers: Array<{
      subjectId: string;
      kind: string;
      valueIndex: string;
      valueEnc: string;
      validFrom: string;
      validTo: string | null;
    }>;
    subjects: SubjectJson[];
  }>(
    db,
    sql`select
      (select coalesce(json_agg(${eventJson('l')}), '[]'::json)
         from unnest(${textArray(keys.sources.map((k) => k.system))}, ${textArray(keys.sources.map((k) => k.eventId))})
           as k(system, event_id)
         cross join lateral (select * from consent_ledger l where l.shop_id = ${shop} and l.source_system = k.system
           and l.source_event_id = k.event_id offset 0) l) as sources,
      (select coalesce(json_agg(json_build_object('index', encode(p.email_index, 'hex'), 'at', p.at)), '[]'::json)
         from unnest(${indexes}) as k(value_index)
         cross join lateral (select * from suppression p where p.shop_id = ${shop} and p.email_index = k.value_index
           offset 0) p) as suppressed,
      (select coalesce(json_agg(json_build_object('subjectId', i.subject_id, 'kind', i.kind,
                'valueIndex', encode(i.value_index, 'hex'), 'valueEnc', encode(i.value_enc, 'hex'),
                'validFrom', i.valid_from, 'validTo', i.valid_to)), '[]'::json)
         from unnest(${indexes}) as k(value_index)
         cross join lateral (select * from subject_identifiers i where i.shop_id = ${shop}
           and i.value_index = k.value_index offset 0) i) as identifiers,
      (select coalesce(json_agg(${subjectJson}), '[]'::json)
         from unnest(${byteaArray(keys.emailIndexes)}) as k(email_index)
         cross join lateral (select * from subjects s where s.shop_id = ${shop} and s.email_index = k.email_index
           offset 0) s) as subjects`,
  );
  return {
    sources: row!.sources.map(toEvent),
    suppressed: new Map(row!.suppressed.map((r) => [r.index, date(r.at)])),
    identifiers: row!.identifiers.map((i) => ({
      shopId,
      subjectId: i.subjectId,
      kind: i.kind,
      valueIndex: buf(i.valueIndex),
      valueEnc: buf(i.valueEnc),
      validFrom: date(i.validFrom),
      validTo: dateOrNull(i.validTo),
    })),
    subjects: row!.subjects.map(toSubject),
  };
}

/**
 * A ledger row as the fold needs it, as a positional array (names would double what the database writes and
 * the driver parses): event id, subject, purpose, state, level, occurred at, echo, source system, source event
 * id, method.
 */
type FoldRowJson = [string, string, string, string, string, string, boolean, string, string, string];
const toFoldRow = (r: FoldRowJson): FoldRow => ({
  eventId: r[0],
  subjectId: r[1],
  purpose: r[2],
  state: r[3],
  level: r[4],
  occurredAt: date(r[5]),
  echo: r[6],
  sourceSystem: r[7],
  sourceEventId: r[8],
  method: r[9],
});
/** What the fold and the push need of an earlier ledger row (no hashes: replays are found by read 1). */
export type FoldRow = Omit<KnownEvent, 'contentHash'>;

export interface SubjectReads {
  /** The subjects asked for by id that still have a key. */
  subjects: StoredSubject[];
  /**
   * Per (subject, purpose) asked, in ledger order, the earlier events the fold needs (see `readSubjects`).
   */
  histories: FoldRow[];
  states: StateRow[];
  pushed: PushedRow[];
  /** (target, subject) pairs with a consent push still pending in the outbox. */
  pending: Array<{ target: string; subjectId: string }>;
}

/** A (subject, purpose) the batch may touch, and the earliest `occurredAt` among its events for it. */
export interface PairBound {
  subjectId: string;
  purpose: string;
  from: Date;
}

/**
 * Round trip 2: by subject (those the batch names, and those holding an id it names).
 *
 * Not every earlier event: the stored state of a (subject, purpose) is the fold of its whole history, and every
 * event after the one that decided it (`decided_by`) left it unchanged. So when that decider happened before the
 * batch's earliest event for the pair (`since < from`), every incoming event sorts after it, the state just
 * before each incoming event's place is the stored state folded over the later events only, and the events
 * from `from` on (plus the decider, for what the push tells of it) are all the fold needs. Without a state row
 * no event ever changed anything, so the events from `from` on suffice as well. Only a pair whose decider is as
 * late as the batch's earliest event (a late report landing before the current decision) reads its whole history.
 */
export async function readSubjects(
  db: Db,
  shopId: string,
  keys: { subjectIds: string[]; heldElsewhere: string[]; targets: string[]; pairs: readonly PairBound[] },
): Promise<SubjectReads> {
  const ids = sql`unnest(${textArray(keys.subjectIds)}) as k(subject_id)`;
  const targets = sql`unnest(${textArray(keys.targets)}) as t(system)`;
  const shop = shopParam(shopId);
  const froms = arrayLiteral(keys.pairs.map((p) => p.from.toISOString()));
  // States, pushes and pending targets come as positional arrays, as the histories do (see `FoldRowJson`).
  const [row] = await rows<{
    subjects: SubjectJson[];
    histories: FoldRowJson[];
    /** subject, purpose, state, level, since, decided by */
    states: Array<[string, string, string, string, string, string]>;
    /** system, subject, purpose, state, occurred at, pushed at, in flight, reported state, reported at */
    pushed: Array<[string, string, string, string, string, string, boolean, string | null, string | null]>;
    /** target, subject */
    pending: Array<[string, string]>;
  }>(
    db,
    // The subjects' states are read once (`st`): the histories' bounds use them, and the ingest keeps them.
    sql`with st as materialized (select c.subject_id, c.purpose, c.state, c.level, c.since, c.decided_by
         from ${ids} cross join lateral (select * from consent_state c where c.shop_id = ${shop}
           and c.subject_id = k.subject_id offset 0) c)
      select
      (select coalesce(json_agg(${subjectJson}), '[]'::json)
         from unnest(${textArray(keys.heldElsewhere)}) as k(subject_id)
         cross join lateral (select * from subjects s where s.shop_id = ${shop} and s.subject_id = k.subject_id
           and s.wrapped_key is not null offset 0) s) as subjects,
      (select coalesce(json_agg(json_build_array(l.event_id, k.subject_id, k.purpose, l.state, l.level, l.occurred_at,
                l.echo, l.source_system, l.source_event_id, l.method) order by l.seq), '[]'::json)
         from unnest(${textArray(keys.pairs.map((p) => p.subjectId))}, ${textArray(keys.pairs.map((p) => p.purpose))},
                     ${froms}::timestamptz[]) as k(subject_id, purpose, from_at)
         left join st c on c.subject_id = k.subject_id and c.purpose = k.purpose
         cross join lateral (select l.seq, l.event_id, l.state, l.level, l.occurred_at, l.echo, l.source_system,
             l.source_event_id, l.method from consent_ledger l
           where l.shop_id = ${shop} and l.subject_id = k.subject_id and l.purpose = k.purpose
             and (l.occurred_at >= k.from_at or c.since >= k.from_at or l.event_id = c.decided_by) offset 0) l) as histories,
      (select coalesce(json_agg(json_build_array(c.subject_id, c.purpose, c.state, c.level, c.since, c.decided_by)),
         '[]'::json) from st c) as states,
      (select coalesce(json_agg(json_build_array(p.system, p.subject_id, p.purpose, p.state, p.occurred_at, p.pushed_at,
                p.in_flight, p.reported_state, p.reported_at)), '[]'::json)
         from ${targets} cross join ${ids} cross join lateral (select * from pushed_consent p where p.shop_id = ${shop}
           and p.system = t.system and p.subject_id = k.subject_id offset 0) p) as pushed,
      (select coalesce(json_agg(json_build_array(t.system, k.subject_id)), '[]'::json)
         from ${targets} cross join ${ids}
         cross join lateral (select 1 from outbox o where o.shop_id = ${shop} and o.target = t.system
           and o.subject_id = k.subject_id and o.status = 'pending' and o.kind = 'consent.push' limit 1) o) as pending`,
  );
  return {
    subjects: row!.subjects.map(toSubject),
    histories: row!.histories.map(toFoldRow),
    states: row!.states.map((c) => ({
      shopId,
      subjectId: c[0],
      purpose: c[1],
      state: c[2],
      level: c[3],
      since: date(c[4]),
      decidedBy: c[5],
    })),
    pushed: row!.pushed.map((p) => ({
      shopId,
      system: p[0],
      subjectId: p[1],
      purpose: p[2],
      state: p[3],
      occurredAt: date(p[4]),
      pushedAt: date(p[5]),
      inFlight: p[6],
      reportedState: p[7],
      reportedAt: dateOrNull(p[8]),
    })),
    pending: row!.pending.map(([target, subjectId]) => ({ target, subjectId })),
  };
}

/** Every earlier event of one (subject, purpose), in ledger order: the fallback when a bound did not hold. */
export async function readWholeHistory(db: Db, shopId: string, subjectId: string, purpose: string): Promise<FoldRow[]> {
  const [row] = await rows<{ histories: FoldRowJson[] }>(
    db,
    sql`select coalesce(json_agg(json_build_array(l.event_id, l.subject_id, l.purpose, l.state, l.level, l.occurred_at,
                l.echo, l.source_system, l.source_event_id, l.method) order by l.seq), '[]'::json) as histories
         from consent_ledger l where l.shop_id = ${shopId} and l.subject_id = ${subjectId} and l.purpose = ${purpose}`,
  );
  return row!.histories.map(toFoldRow);
}
