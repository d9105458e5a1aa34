/**
 * What a batch of consent events needs to know of the store, read in two round trips whatever the batch's size.
 * The batch's keys travel as one array parameter each (no bind-parameter ceiling, none of the query builder's
 * per-value work) matched with `= any(...)` on an index (a join against a JSON list expanded in SQL was planned,
 * without statistics, as a scan of the shop's whole ledger). Each query answers one row of JSON arrays, so the driver and the query builder handle one value instead of
 * thousands of rows, which dominated a batch's time, on PGlite most of all.
 */
import { sql } from 'drizzle-orm';
import type { IdentifierRow } from '../identity/identifiers.js';
import type { StoredSubject } from '../profile/subjects.js';
import { rows } from '../store/open.js';
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

const hex = (b: Buffer) => b.toString('hex');
/**
 * A list as ONE bound parameter, an array literal cast to text[] (or bytea[]), for `= any(...)`. The planner
 * sees its values (an unnamed statement is planned with them): it estimates the rows, and a scan, if it picks
 * one, tests each row against a hash of the values.
 */
const quoted = (v: string) => `"${v.replace(/[\\"]/g, '\\$&')}"`;
export const textArray = (values: readonly string[]) => sql`${`{${values.map(quoted).join(',')}}`}::text[]`;
export const byteaArray = (values: readonly Buffer[]) =>
  sql`${`{${values.map((b) => `"\\\\x${hex(b)}"`).join(',')}}`}::bytea[]`;
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
  // Every (system, event id) of the systems and ids asked: a superset of the pairs asked, which is harmless.
  const systems = [...new Set(keys.sources.map((k) => k.system))];
  const eventIds = [...new Set(keys.sources.map((k) => k.eventId))];
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
      (select coalesce(json_agg(${eventJson('l')}), '[]'::json) from consent_ledger l
         where l.shop_id = ${shopId} and l.source_system = any(${textArray(systems)})
           and l.source_event_id = any(${textArray(eventIds)})) as sources,
      (select coalesce(json_agg(json_build_object('index', encode(p.email_index, 'hex'), 'at', p.at)), '[]'::json)
         from suppression p where p.shop_id = ${shopId} and p.email_index = any(${byteaArray(keys.indexes)})) as suppressed,
      (select coalesce(json_agg(json_build_object('subjectId', i.subject_id, 'kind', i.kind,
                'valueIndex', encode(i.value_index, 'hex'), 'valueEnc', encode(i.value_enc, 'hex'),
                'validFrom', i.valid_from, 'validTo', i.valid_to)), '[]'::json)
         from subject_identifiers i
         where i.shop_id = ${shopId} and i.value_index = any(${byteaArray(keys.indexes)})) as identifiers,
      (select coalesce(json_agg(${subjectJson}), '[]'::json) from subjects s
         where s.shop_id = ${shopId} and s.email_index = any(${byteaArray(keys.emailIndexes)})) as subjects`,
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

export interface SubjectReads {
  /** The subjects asked for by id that still have a key. */
  subjects: StoredSubject[];
  /** Every ledger row of the subjects, in ledger order. */
  histories: KnownEvent[];
  states: StateRow[];
  pushed: PushedRow[];
  /** (target, subject) pairs with a consent push still pending in the outbox. */
  pending: Array<{ target: string; subjectId: string }>;
}

/** Round trip 2: by subject (those the batch names, and those holding an id it names). */
export async function readSubjects(
  db: Db,
  shopId: string,
  keys: { subjectIds: string[]; heldElsewhere: string[]; targets: string[] },
): Promise<SubjectReads> {
  const ids = textArray(keys.subjectIds);
  const [row] = await rows<{
    subjects: SubjectJson[];
    histories: EventJson[];
    states: Array<{
      subjectId: string;
      purpose: string;
      state: string;
      level: string;
      since: string;
      decidedBy: string;
    }>;
    pushed: Array<{
      system: string;
      subjectId: string;
      purpose: string;
      state: string;
      occurredAt: string;
      pushedAt: string;
      inFlight: boolean;
      reportedState: string | null;
      reportedAt: string | null;
    }>;
    pending: Array<{ target: string; subjectId: string }>;
  }>(
    db,
    sql`select
      (select coalesce(json_agg(${subjectJson}), '[]'::json) from subjects s
         where s.shop_id = ${shopId} and s.subject_id = any(${textArray(keys.heldElsewhere)})
           and s.wrapped_key is not null) as subjects,
      (select coalesce(json_agg(${eventJson('l')} order by l.seq), '[]'::json) from consent_ledger l
         where l.shop_id = ${shopId} and l.subject_id = any(${ids})) as histories,
      (select coalesce(json_agg(json_build_object('subjectId', c.subject_id, 'purpose', c.purpose, 'state', c.state,
                'level', c.level, 'since', c.since, 'decidedBy', c.decided_by)), '[]'::json) from consent_state c
         where c.shop_id = ${shopId} and c.subject_id = any(${ids})) as states,
      (select coalesce(json_agg(json_build_object('system', p.system, 'subjectId', p.subject_id, 'purpose', p.purpose,
                'state', p.state, 'occurredAt', p.occurred_at, 'pushedAt', p.pushed_at, 'inFlight', p.in_flight,
                'reportedState', p.reported_state, 'reportedAt', p.reported_at)), '[]'::json) from pushed_consent p
         where p.shop_id = ${shopId} and p.system = any(${textArray(keys.targets)}) and p.subject_id = any(${ids})) as pushed,
      (select coalesce(json_agg(json_build_object('target', q.target, 'subjectId', q.subject_id)), '[]'::json)
         from (select distinct o.target, o.subject_id from outbox o
               where o.shop_id = ${shopId} and o.target = any(${textArray(keys.targets)}) and o.subject_id = any(${ids})
                 and o.status = 'pending' and o.kind = 'consent.push') q) as pending`,
  );
  return {
    subjects: row!.subjects.map(toSubject),
    histories: row!.histories.map(toEvent),
    states: row!.states.map((c) => ({ shopId, ...c, since: date(c.since) })),
    pushed: row!.pushed.map((p) => ({
      shopId,
      ...p,
      occurredAt: date(p.occurredAt),
      pushedAt: date(p.pushedAt),
      reportedAt: dateOrNull(p.reportedAt),
    })),
    pending: row!.pending,
  };
}
