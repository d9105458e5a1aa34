/**
 * Applies a batch of validated consent events inside one transaction that holds the shop head lock. All
 * reads happen up front in a few set-based queries and all writes at the end in bulk, so a batch of 500
 * events costs about a dozen round trips instead of a dozen per event; the rules are applied event by
 * event in memory, in arrival order, exactly as for a single event.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { byteaArray } from '../store/text-array.js';
import {
  readIdentities,
  readSubjects,
  readWholeHistory,
  type FoldRow,
  type KnownEvent,
  type PairBound,
  type PushedRow,
  type StateRow,
} from './batch-reads.js';
import { nextAuditRow, type AuditRow } from '../audit/log.js';
import { TactfulError } from '../errors/tactful-error.js';
import { newSubjectRow, type StoredSubject } from '../profile/subjects.js';
import { hmac } from '../crypto/cipher.js';
import { repointAddress } from '../identity/change.js';
import { EMAIL, identifierIndex, newIdentifierRow, noteHolder, type IdentifierRow } from '../identity/identifiers.js';
import { emailRef, linkOrdersQuery, type OrderRef } from '../identity/orders.js';
import { openForSubject } from '../store/keyring.js';
import type { ShopSession } from '../shop/context.js';
import { auditLog, consentLedger, consentState, pushedConsent, subjectIdentifiers, subjects } from '../store/schema.js';
import { bulkInsertQuery } from '../store/bulk.js';
import { enqueueQuery, type EnqueueInput } from '../sync/outbox.js';
import type { ConsentEventData } from './event.js';
import type { ConsentState, OptInLevel } from '../ports.js';
import {
  compareEvents,
  foldConsent,
  initialConsent,
  isFirstPartyOptIn,
  step,
  type FoldableEvent,
  type FoldedConsent,
} from './fold.js';
import { eventContentHash, findBySources, nextLedgerRow, toFoldable, type LedgerRow } from './ledger.js';
import { PROFILE_PURPOSE, purgeProfiles, rebuildProfiles } from '../profile/lifecycle.js';
import { performance } from 'node:perf_hooks';
import { addPhase, stopwatch } from './phases.js';

export interface RecordOutcome {
  status: 'recorded' | 'duplicate';
  eventId: string;
  subjectId: string;
  echo: boolean;
  /** Whether the subject's current state for the purpose changed. */
  changed: boolean;
  state: FoldedConsent;
}

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

type Holder = IdentifierRow & { current: boolean };

/** What the batch's events need to know of the store, read up front and kept current as events apply. */
interface Known {
  /** Ledger rows by (source system, source event id): duplicates are answered, not recorded again. */
  sources: Map<string, KnownEvent>;
  /** Blind index of each address, and of each (system, id) pair, the events name. */
  emailIndex: Map<string, Buffer>;
  idIndex: Map<string, Buffer>;
  /** Erasure time by index (hex) of every suppressed address or id the events name. */
  suppressed: Map<string, Date>;
  /** Who holds (or held) each address or id, by index (hex). */
  holders: Map<string, Holder>;
  /** Subjects by their current address's index (hex), and by id. */
  byIndex: Map<string, StoredSubject>;
  byId: Map<string, StoredSubject>;
  /**
   * Ledger history (in ledger order as read, then the batch's own rows), consent state and what was pushed to
   * each system, by (subject, purpose). The history read is what the fold needs (`readSubjects`), as `bases` says.
   */
  histories: Map<string, FoldRow[]>;
  /**
   * Where the fold of each (subject, purpose) read starts: the state before the first event at or after `from`
   * (null: the whole history was read, from the initial state). A pair of a subject read but missing here, or an
   * event before `from`, makes the ingest read the pair's whole history first (`ensureHistory`).
   */
  bases: Map<string, { state: FoldedConsent; from: Date | null }>;
  /** Subjects whose rows were read in round trip 2 (any other subject is new and has no history). */
  readSubjects: Set<string>;
  /** The fold of each (subject, purpose) the batch touched so far: its events in fold order and their result. */
  folds: Map<string, { sorted: FoldableEvent[]; folded: FoldedConsent }>;
  states: Map<string, StateRow>;
  pushed: Map<string, PushedRow>;
  /** (system, subject) pairs with a consent push still waiting in the outbox. */
  pendingPush: Set<string>;
  /** Subject keys unwrapped during the batch, by subject id: each is unwrapped once. */
  subjectKeys: Map<string, Buffer | null>;
  /** The content hash of each event whose source id is stored as given (computed while read 1 runs). */
  contentHashes: Map<ConsentEventData, string>;
}

/**
 * Everything the batch writes, gathered in memory and written in bulk: at the end, or on PostgreSQL in a few
 * parts as the rules go (`flushRows` empties the row lists; the sets and maps below `pushedUpserts` stay).
 */
interface Writes {
  /** Subjects registered since the last flush (their rows are not written yet). */
  newSubjects: StoredSubject[];
  newIdentifiers: IdentifierRow[];
  newRefs: OrderRef[];
  changedExternalIds: Map<string, StoredSubject>;
  unsuppress: Buffer[];
  ledgerRows: LedgerRow[];
  auditRows: AuditRow[];
  outboxItems: EnqueueInput[];
  stateUpserts: Map<string, StateRow>;
  pushedUpserts: Map<string, PushedRow>;
  /** Each subject's last personalization transition of the batch: true = granted (rebuild), false = purge. */
  profileTransitions: Map<string, boolean>;
  profileRevoked: Set<string>;
  /** The last rows sent to the server during the rules (PostgreSQL), until `settle` takes its answer. */
  sending: Sending | null;
}

export async function applyEvents(s: ShopSession, events: readonly ConsentEventData[]): Promise<RecordOutcome[]> {
  const known = await readKnown(s, events);
  const writes: Writes = {
    newSubjects: [],
    newIdentifiers: [],
    newRefs: [],
    changedExternalIds: new Map(),
    unsuppress: [],
    ledgerRows: [],
    auditRows: [],
    outboxItems: [],
    stateUpserts: new Map(),
    pushedUpserts: new Map(),
    profileTransitions: new Map(),
    profileRevoked: new Set(),
    sending: null,
  };
  const outcomes: RecordOutcome[] = [];
  const lap = stopwatch();
  // On a server, the rows gathered so far go out whenever the server has stored the previous ones, and it stores
  // them while the rules go on here: the two sides overlap instead of taking turns. (Embedded, a statement runs
  // on this thread: the rows are written once, at the end.)
  const overlap = s.ctx.server === true;
  for (let i = 0; i < events.length; i++) {
    outcomes.push(await applyEvent(s, known, writes, events[i]!));
    if (overlap && (i + 1) % checkEvery === 0 && i + 1 < events.length) await sendIfIdle(s, writes);
  }
  lap(rulesPhase);
  await settle(writes);
  lap('write: rows sent during the rules, still being stored');
  await writeAll(s, writes);
  return outcomes;
}

/** How many events the rules apply between two looks at whether the server is ready for more rows. */
const checkEvery = 25;

interface Sending {
  answered: Promise<void>;
  done: boolean;
  error?: unknown;
}

/** Lets the event loop poll for I/O once: a statement's answer that arrived meanwhile is read. */
async function ioTurn(): Promise<void> {
  // The first turn ends the loop's current phase; the second comes after its next poll.
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Sends the rows gathered so far, unless the server is still storing the last ones (then they wait for a later
 * look). One statement at a time on the transaction's connection. A failure is kept and thrown by `settle`.
 */
async function sendIfIdle(s: ShopSession, writes: Writes): Promise<void> {
  await ioTurn();
  if (writes.sending && !writes.sending.done) return;
  await settle(writes);
  const statement = flushRows(s, writes);
  if (!statement) return;
  const sending: Sending = { answered: Promise.resolve(), done: false };
  sending.answered = s.tx.execute(statement).then(
    () => {
      sending.done = true;
    },
    (error: unknown) => {
      sending.done = true;
      sending.error = error;
    },
  );
  writes.sending = sending;
}

/** Waits until the rows sent are stored (before the transaction reads or writes anything else). */
async function settle(writes: Writes): Promise<void> {
  const sending = writes.sending;
  writes.sending = null;
  if (!sending) return;
  await sending.answered;
  if (sending.error !== undefined) throw sending.error;
}

const rulesPhase = 'rules in memory (identify, unwrap, seal, chain, fold)';

/** The reads, set-based: a few queries for the whole batch. */
async function readKnown(s: ShopSession, events: readonly ConsentEventData[]): Promise<Known> {
  const { tx, shopId, keys, shopKeys } = s;
  const lap = stopwatch();
  const emailIndex = new Map<string, Buffer>();
  for (const e of events)
    if (!emailIndex.has(e.subject.email)) emailIndex.set(e.subject.email, keys.emailIndex(shopKeys, e.subject.email));
  const idIndex = new Map<string, Buffer>();
  for (const e of events)
    for (const [system, id] of Object.entries(e.subject.externalIds ?? {}))
      if (!idIndex.has(pairKey(system, id))) idIndex.set(pairKey(system, id), identifierIndex(s, system, id));
  const indexes = [...emailIndex.values(), ...idIndex.values()];
  lap('blind indexes (hmac)');
  const sourceIds = new Map<string, { system: string; eventId: string }>();
  for (const e of events)
    if (!addressInside.test(e.source.eventId))
      sourceIds.set(sourceKey(e.source.system, e.source.eventId), {
        system: e.source.system,
        eventId: e.source.eventId,
      });
  const reading1 = readIdentities(tx, shopId, {
    sources: [...sourceIds.values()],
    indexes,
    emailIndexes: [...emailIndex.values()],
  });
  reading1.catch(() => undefined); // awaited below; a failure meanwhile is not an unhandled rejection
  // While the server answers, the work that needs no answer: each event's content hash (replays compare it).
  const contentHashes = new Map<ConsentEventData, string>();
  for (const e of events) if (!addressInside.test(e.source.eventId)) contentHashes.set(e, eventContentHash(e));
  const first = await reading1;
  lap('read 1: source ids, suppressions, identifiers, subjects');
  const sources = new Map<string, KnownEvent>(
    first.sources.map((r) => [sourceKey(r.sourceSystem, r.sourceEventId), r]),
  );
  // Who holds each index: the current holder, else whoever held it last.
  const holders = new Map<string, Holder>();
  for (const row of first.identifiers) noteHolder(holders, row);
  const byIndex = new Map<string, StoredSubject>(first.subjects.map((r) => [r.emailIndex.toString('hex'), r]));
  const byId = new Map<string, StoredSubject>([...byIndex.values()].map((r) => [r.subjectId, r]));
  const heldElsewhere = [...new Set([...holders.values()].map((h) => h.subjectId))].filter((id) => !byId.has(id));
  const targets = new Set(s.settings.connectedSystems);
  for (const e of events) targets.add(e.source.system);
  // A replay answers with the current state of its first event's person: their states are read too.
  const subjectIds = [...new Set([...byId.keys(), ...heldElsewhere, ...first.sources.map((r) => r.subjectId)])];
  const pairs = pairBounds(events, emailIndex, idIndex, holders, byIndex, new Set(subjectIds));
  const reading2 = readSubjects(tx, shopId, {
    subjectIds,
    heldElsewhere,
    targets: [...targets],
    pairs: [...pairs.values()],
  });
  reading2.catch(() => undefined); // awaited below
  // Meanwhile: the keys of the people the events name by address (the rules unwrap each at most once).
  const subjectKeys = new Map<string, Buffer | null>();
  for (const subject of byIndex.values())
    subjectKeys.set(subject.subjectId, keys.unwrapSubjectKey(shopKeys, shopId, subject.subjectId, subject.wrappedKey));
  const second = await reading2;
  lap('read 2: histories, states, pushes, pending outbox');
  for (const row of second.subjects) byId.set(row.subjectId, row);
  const histories = new Map<string, FoldRow[]>();
  for (const row of second.histories) {
    const k = pairKey(row.subjectId, row.purpose);
    const list = histories.get(k);
    if (list) list.push(row);
    else histories.set(k, [row]);
  }
  const states = new Map<string, StateRow>(second.states.map((row) => [pairKey(row.subjectId, row.purpose), row]));
  const bases = new Map<string, { state: FoldedConsent; from: Date | null }>();
  for (const [k, { from }] of pairs) {
    const state = states.get(k);
    if (state && state.since.getTime() >= from.getTime()) bases.set(k, { state: initialConsent, from: null });
    else bases.set(k, { state: asFolded(state), from });
  }
  const pushed = new Map<string, PushedRow>(
    second.pushed.map((row) => [`${row.system}\u0000${pairKey(row.subjectId, row.purpose)}`, row]),
  );
  const pendingPush = new Set(second.pending.map((row) => `${row.target}\u0000${row.subjectId}`));
  return {
    sources,
    emailIndex,
    idIndex,
    suppressed: first.suppressed,
    holders,
    byIndex,
    byId,
    histories,
    bases,
    readSubjects: new Set(subjectIds),
    folds: new Map(),
    states,
    pushed,
    pendingPush,
    subjectKeys,
    contentHashes,
  };
}

/**
 * The (subject, purpose) pairs the batch's events may land on, each with its earliest `occurredAt`: an event
 * lands on the subject holding its address, the one holding an id it names, or the one who held its address
 * before (`identify`), else on a new subject, which has no history.
 */
function pairBounds(
  events: readonly ConsentEventData[],
  emailIndex: ReadonlyMap<string, Buffer>,
  idIndex: ReadonlyMap<string, Buffer>,
  holders: ReadonlyMap<string, Holder>,
  byIndex: ReadonlyMap<string, StoredSubject>,
  read: ReadonlySet<string>,
): Map<string, PairBound> {
  const pairs = new Map<string, PairBound>();
  const note = (subjectId: string | undefined, e: ConsentEventData) => {
    if (subjectId === undefined || !read.has(subjectId)) return;
    const k = pairKey(subjectId, e.purpose);
    const known = pairs.get(k);
    if (!known) pairs.set(k, { subjectId, purpose: e.purpose, from: e.occurredAt });
    else if (e.occurredAt.getTime() < known.from.getTime()) known.from = e.occurredAt;
  };
  for (const e of events) {
    const hex = emailIndex.get(e.subject.email)!.toString('hex');
    note(byIndex.get(hex)?.subjectId, e);
    note(holders.get(hex)?.subjectId, e);
    for (const [system, id] of Object.entries(e.subject.externalIds ?? {}))
      note(holders.get(idIndex.get(pairKey(system, id))!.toString('hex'))?.subjectId, e);
  }
  return pairs;
}

/**
 * Makes sure the history read for (subject, purpose) covers an event at `occurredAt`: when the pair was not
 * foreseen, or the event is earlier than the bound it was read with, its whole history is read now and the fold
 * starts again from the initial state (with the batch's own rows of the pair kept).
 */
async function ensureHistory(
  s: ShopSession,
  known: Known,
  writes: Writes,
  subjectId: string,
  purpose: string,
  occurredAt: Date,
) {
  if (!known.readSubjects.has(subjectId)) return;
  const key = pairKey(subjectId, purpose);
  const base = known.bases.get(key);
  if (base && (base.from === null || base.from.getTime() <= occurredAt.getTime())) return;
  const started = performance.now();
  await settle(writes);
  const whole = await readWholeHistory(s.tx, s.shopId, subjectId, purpose);
  // A read, not a rule: charged to a phase of its own and taken out of the rules' lap it happened in.
  const ms = performance.now() - started;
  addPhase('read 3: whole histories the batch did not foresee', ms);
  addPhase(rulesPhase, -ms);
  // The batch's own rows are whole ledger rows (with their `seq`); the rows read carry only what the fold needs.
  // Those of them already sent to the server are in `whole` too, and are counted once.
  const ours = (known.histories.get(key) ?? []).filter((row) => 'seq' in row);
  const oursIds = new Set(ours.map((row) => row.eventId));
  known.histories.set(key, [...whole.filter((row) => !oursIds.has(row.eventId)), ...ours]);
  known.bases.set(key, { state: initialConsent, from: null });
  known.folds.delete(key);
}

const contentHashOf = (known: Known, event: ConsentEventData) =>
  known.contentHashes.get(event) ?? eventContentHash(event);

function duplicateOutcome(known: Known, seen: KnownEvent, contentHash: string, eventId: string): RecordOutcome {
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
    state: asFolded(known.states.get(pairKey(seen.subjectId, seen.purpose))),
  };
}

/** The rules for one event, in memory, in arrival order: who it is about, then the ledger, state and pushes. */
async function applyEvent(
  s: ShopSession,
  known: Known,
  writes: Writes,
  original: ConsentEventData,
): Promise<RecordOutcome> {
  const hashedId = addressInside.test(original.source.eventId);
  if (!hashedId) {
    const seen = known.sources.get(sourceKey(original.source.system, original.source.eventId));
    if (seen) return duplicateOutcome(known, seen, contentHashOf(known, original), original.source.eventId);
  }
  const firstParty = isFirstPartyOptIn({ source: original.source });
  const index = known.emailIndex.get(original.subject.email)!;
  const ids = Object.entries(original.subject.externalIds ?? {});
  const idHexes = ids.map(([system, id]) => known.idIndex.get(pairKey(system, id))!.toString('hex'));
  liftSuppression(known, writes, original, firstParty, [index.toString('hex'), ...idHexes]);
  const { subject, subjectKey } = await identify(s, known, writes, original, index, idHexes);
  claimIds(s, known, writes, subject, subjectKey, ids, idHexes);

  const data: ConsentEventData = hashedId
    ? {
        ...original,
        source: {
          ...original.source,
          eventId: storedEventId(subjectKey, original.source.system, original.source.eventId),
        },
      }
    : original;
  const contentHash = hashedId ? eventContentHash(data) : contentHashOf(known, original);
  if (hashedId) {
    const seen =
      known.sources.get(sourceKey(data.source.system, data.source.eventId)) ??
      (await settle(writes), await findBySources(s.tx, s.shopId, [data.source]))[0];
    if (seen) return duplicateOutcome(known, seen, contentHash, data.source.eventId);
  }
  await ensureHistory(s, known, writes, subject.subjectId, data.purpose, data.occurredAt);
  return recordEvent(s, known, writes, { data, contentHash, firstParty, subject, subjectKey, index });
}

/**
 * The suppression list: every address and id of an erased person. Only the person themselves, opting in again
 * after the erasure, comes back (their entries leave the list); anything else is refused whenever it arrives.
 */
function liftSuppression(
  known: Known,
  writes: Writes,
  original: ConsentEventData,
  firstParty: boolean,
  hexes: readonly string[],
): void {
  const erasedAt = hexes
    .map((hex) => known.suppressed.get(hex))
    .filter((d): d is Date => d !== undefined)
    .sort((a, b) => b.getTime() - a.getTime())[0];
  if (!erasedAt) return;
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
  for (const hex of hexes) {
    if (!known.suppressed.has(hex)) continue;
    known.suppressed.delete(hex);
    writes.unsuppress.push(Buffer.from(hex, 'hex'));
    known.holders.delete(hex);
  }
}

/**
 * Who this is: the holder of the address, else the holder of the reporting system's id (their address changed
 * there), else whoever had the address before (a late event about an old address), else a new subject.
 */
async function identify(
  s: ShopSession,
  known: Known,
  writes: Writes,
  original: ConsentEventData,
  index: Buffer,
  idHexes: readonly string[],
): Promise<{ subject: StoredSubject; subjectKey: Buffer }> {
  const { byIndex, byId, holders } = known;
  const indexHex = index.toString('hex');
  let subject = byIndex.get(indexHex);
  const idHolder = idHexes
    .map((hex) => holders.get(hex))
    .map((h) => (h?.current ? byId.get(h.subjectId) : undefined))
    .find((x) => x !== undefined);
  if (subject && idHolder && idHolder.subjectId !== subject.subjectId) {
    // Two people in Tactful claim to be this one: the address decides, and the merchant is told to merge. Each
    // event that says so is audited, as it is when it comes alone.
    writes.auditRows.push(
      nextAuditRow(s.shopId, s.head, {
        action: 'subject.identity_conflict',
        actor: s.actor,
        subjectId: subject.subjectId,
        at: s.recordedAt,
        details: { source: original.source.system, otherSubjectId: idHolder.subjectId },
      }),
    );
  } else if (!subject && idHolder && holders.get(indexHex)?.subjectId === idHolder.subjectId) {
    // The system still names the person by an address they had before: it lags behind, nothing moved.
    subject = idHolder;
  } else if (!subject && idHolder) {
    // The change reads the person's row and writes the outbox itself: everything before it is stored first, so
    // it sees their ids as claimed so far and queues its message after the earlier events' pushes.
    await storeSoFar(s, writes);
    const change = await repointAddress(s, idHolder.subjectId, original.subject.email, {
      source: original.source.system,
      actor: s.actor,
      at: s.recordedAt,
    });
    if (change.status === 'changed') {
      const oldHex = idHolder.emailIndex.toString('hex');
      byIndex.delete(oldHex);
      // The old address is one they held before: a later event about it lands on them, as it would in a batch
      // of its own (not on a new person). The batch may know no row of theirs for it (they got it in this batch,
      // or before identifiers were kept), or only an earlier holder's: it is then the one stored from their row.
      const theirs = holders.get(oldHex);
      const held =
        theirs?.subjectId === idHolder.subjectId
          ? theirs
          : {
              shopId: s.shopId,
              subjectId: idHolder.subjectId,
              kind: EMAIL,
              valueIndex: idHolder.emailIndex,
              valueEnc: idHolder.emailEnc,
              validFrom: idHolder.createdAt,
            };
      holders.set(oldHex, { ...held, validTo: s.recordedAt, current: false });
      // The row in memory follows the stored one: a later event about the old address tells the systems the
      // new one (`pushChange`), as it would in a batch of its own.
      idHolder.emailIndex = index;
      idHolder.emailEnc = change.emailEnc;
      byIndex.set(indexHex, idHolder);
      subject = idHolder;
    }
  } else if (!subject) {
    const past = holders.get(indexHex);
    if (past && !past.current) subject = byId.get(past.subjectId);
  }
  if (!subject) return register(s, known, writes, original, index);
  let subjectKey = known.subjectKeys.get(subject.subjectId);
  if (subjectKey === undefined) {
    subjectKey = s.keys.unwrapSubjectKey(s.shopKeys, s.shopId, subject.subjectId, subject.wrappedKey);
    known.subjectKeys.set(subject.subjectId, subjectKey);
  }
  if (!subjectKey)
    throw new TactfulError(
      'CONSENT.SUPPRESSED',
      'This person was erased; record a fresh first-party opt-in to add them again.',
    );
  return { subject, subjectKey };
}

/** A person Tactful has not met: a subject with their own key, their address as an identifier, their orders. */
function register(
  s: ShopSession,
  known: Known,
  writes: Writes,
  original: ConsentEventData,
  index: Buffer,
): { subject: StoredSubject; subjectKey: Buffer } {
  const created = newSubjectRow(s, original.subject.email, undefined, s.recordedAt);
  const subject = created.row;
  s.keys.rememberSubjectKey(s.shopId, subject.subjectId, created.key);
  known.subjectKeys.set(subject.subjectId, created.key);
  known.byIndex.set(index.toString('hex'), subject);
  known.byId.set(subject.subjectId, subject);
  writes.newSubjects.push(subject);
  writes.newIdentifiers.push(
    newIdentifierRow(s, subject.subjectId, created.key, EMAIL, original.subject.email, s.recordedAt),
  );
  writes.newRefs.push({ subjectId: subject.subjectId, ref: emailRef(index) });
  writes.auditRows.push(
    nextAuditRow(s.shopId, s.head, {
      action: 'subject.registered',
      actor: s.actor,
      subjectId: subject.subjectId,
      at: s.recordedAt,
      details: { source: original.source.system, method: original.source.method },
    }),
  );
  return { subject, subjectKey: created.key };
}

/** Ids nobody else holds become this person's; an id held by another person stays theirs (a conflict). */
function claimIds(
  s: ShopSession,
  known: Known,
  writes: Writes,
  subject: StoredSubject,
  subjectKey: Buffer,
  ids: ReadonlyArray<[string, string]>,
  idHexes: readonly string[],
): void {
  for (const [i, [system, id]] of ids.entries()) {
    const hex = idHexes[i]!;
    const holder = known.holders.get(hex);
    if (holder?.current || subject.externalIds[system] === id) continue;
    subject.externalIds = { ...subject.externalIds, [system]: id };
    // A subject whose row is written (or sent) already gets its ids by an update at the end.
    if (!writes.newSubjects.includes(subject)) writes.changedExternalIds.set(subject.subjectId, subject);
    const row = newIdentifierRow(s, subject.subjectId, subjectKey, system, id, s.recordedAt);
    writes.newIdentifiers.push(row);
    writes.newRefs.push({ subjectId: subject.subjectId, ref: `${system}:${id}` });
    known.holders.set(hex, { ...row, current: true });
  }
}

interface Identified {
  data: ConsentEventData;
  contentHash: string;
  firstParty: boolean;
  subject: StoredSubject;
  subjectKey: Buffer;
  /** The blind index of the address the event named. */
  index: Buffer;
}

/** Appends the event to the ledger, folds the subject's state again, and audits it; a change is pushed on. */
function recordEvent(s: ShopSession, known: Known, writes: Writes, event: Identified): RecordOutcome {
  const { data, subject } = event;
  const key = pairKey(subject.subjectId, data.purpose);
  // An echo: the source reports back exactly what Tactful wrote to it, while that write is still in flight
  // (the source has reported nothing since). Whatever the source reports, it is what it holds now.
  const fromSource = known.pushed.get(`${data.source.system}\u0000${key}`);
  const echo = !event.firstParty && fromSource?.inFlight === true && fromSource.state === data.state;
  // A push of ours to the source not delivered yet would overwrite what the source just reported.
  const overtaken = known.pendingPush.has(`${data.source.system}\u0000${subject.subjectId}`);
  if (fromSource && (!fromSource.reportedAt || fromSource.reportedAt.getTime() <= data.occurredAt.getTime())) {
    const reported: PushedRow = {
      ...fromSource,
      inFlight: false,
      reportedState: data.state,
      reportedAt: data.occurredAt,
    };
    known.pushed.set(`${data.source.system}\u0000${key}`, reported);
    writes.pushedUpserts.set(`${data.source.system}\u0000${key}`, reported);
  }
  const row = nextLedgerRow(s.shopId, s.head, {
    data,
    subjectId: subject.subjectId,
    subjectKey: event.subjectKey,
    echo,
    recordedAt: s.recordedAt,
    contentHash: event.contentHash,
  });
  writes.ledgerRows.push(row);
  known.sources.set(sourceKey(data.source.system, data.source.eventId), row);
  const history = known.histories.get(key) ?? [];
  history.push(row);
  known.histories.set(key, history);
  const folded = foldWith(known, key, history);
  const before = known.states.get(key);
  const stateChanged = folded.decidedBy !== null && (before?.state !== folded.state || before?.level !== folded.level);
  if (
    stateChanged &&
    data.purpose === PROFILE_PURPOSE &&
    (before?.state === 'granted') !== (folded.state === 'granted')
  ) {
    writes.profileTransitions.set(subject.subjectId, folded.state === 'granted');
    if (folded.state !== 'granted') writes.profileRevoked.add(subject.subjectId);
  }
  if (folded.decidedBy !== null && folded.since && (stateChanged || before?.decidedBy !== folded.decidedBy)) {
    const next: StateRow = {
      shopId: s.shopId,
      subjectId: subject.subjectId,
      purpose: data.purpose,
      state: folded.state,
      level: folded.level,
      since: folded.since,
      decidedBy: folded.decidedBy,
    };
    known.states.set(key, next);
    writes.stateUpserts.set(key, next);
  }

  writes.auditRows.push(
    nextAuditRow(s.shopId, s.head, {
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
  if (stateChanged) pushChange(s, known, writes, event, { folded, history, overtaken });
  return {
    status: 'recorded',
    eventId: row.eventId,
    subjectId: subject.subjectId,
    echo,
    changed: stateChanged,
    state: folded,
  };
}

/**
 * The pair's state with the last of `history` in it, the same as folding the whole history again: an event
 * that sorts after every earlier one is one more step from the state before; one that sorts among them (a late
 * report) folds the sorted events again from the pair's base. The events stay sorted, so neither sorts the
 * history anew. The history read may start late (`readSubjects`): its events before `from` (the decider of the
 * stored state) are already in the base state, and are left out of the fold.
 */
function foldWith(known: Known, key: string, history: readonly FoldRow[]): FoldedConsent {
  const base = known.bases.get(key) ?? { state: initialConsent, from: null };
  let fold = known.folds.get(key);
  if (!fold) {
    const from = base.from?.getTime() ?? Number.NEGATIVE_INFINITY;
    const earlier: FoldableEvent[] = [];
    for (let i = 0; i < history.length - 1; i++)
      if (history[i]!.occurredAt.getTime() >= from) earlier.push(toFoldable(history[i]!));
    earlier.sort(compareEvents);
    fold = { sorted: earlier, folded: earlier.reduce(step, base.state) };
    known.folds.set(key, fold);
  }
  const event = toFoldable(history[history.length - 1]!);
  const { sorted } = fold;
  let at = sorted.length;
  while (at > 0 && compareEvents(sorted[at - 1]!, event) > 0) at--;
  sorted.splice(at, 0, event);
  fold.folded = at === sorted.length - 1 ? step(fold.folded, event) : sorted.reduce(step, base.state);
  return fold.folded;
}

/**
 * Tells every other connected system of a changed state. The source already holds it, unless a write of ours
 * with another state is still on its way there: then it is told again, so the last word it gets is this one.
 */
function pushChange(
  s: ShopSession,
  known: Known,
  writes: Writes,
  event: Identified,
  change: { folded: FoldedConsent; history: readonly FoldRow[]; overtaken: boolean },
): void {
  const { data, subject, subjectKey } = event;
  const { folded } = change;
  const key = pairKey(subject.subjectId, data.purpose);
  const targets = s.settings.connectedSystems.filter((system) => system !== data.source.system || change.overtaken);
  const decider = change.history.find((h) => h.eventId === folded.decidedBy);
  // A late event about an old address changes the person: the systems are told at their address now.
  const payload = {
    email: subject.emailIndex.equals(event.index)
      ? data.subject.email
      : openForSubject(subjectKey, s.shopId, subject.subjectId, 'email', subject.emailEnc),
    externalIds: subject.externalIds,
    purpose: data.purpose,
    state: folded.state,
    level: folded.level,
    occurredAt: (folded.since ?? data.occurredAt).toISOString(),
    firstParty: decider ? isFirstPartyOptIn(toFoldable(decider)) : false,
  };
  for (const target of targets) {
    writes.outboxItems.push({ target, kind: 'consent.push', subjectId: subject.subjectId, payload });
    known.pendingPush.add(`${target}\u0000${subject.subjectId}`);
    // Remember the write in flight, so the system's report of exactly this state is known as its echo.
    const before = known.pushed.get(`${target}\u0000${key}`);
    const written: PushedRow = {
      shopId: s.shopId,
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
    known.pushed.set(`${target}\u0000${key}`, written);
    writes.pushedUpserts.set(`${target}\u0000${key}`, written);
  }
}

/**
 * The rows gathered since the last flush as ONE statement (a `with` of one insert, upsert, update or delete per
 * table), and the lists emptied; null when there is nothing to write. Each part changes a table no other part
 * touches, so none depends on seeing another's rows. A round trip costs the most on a busy machine, where the
 * database process waits to be scheduled for each one.
 */
function flushRows(s: ShopSession, writes: Writes): SQL | null {
  const { shopId } = s;
  const statements = [
    writes.unsuppress.length > 0
      ? sql`delete from suppression where shop_id = ${shopId} and email_index = any(${byteaArray(writes.unsuppress)})`
      : null,
    bulkInsertQuery(subjects, writes.newSubjects),
    bulkInsertQuery(subjectIdentifiers, writes.newIdentifiers, sql`on conflict do nothing`),
    // Orders placed before Tactful knew the person (by their address or an id of theirs) join them now.
    linkOrdersQuery(shopId, writes.newRefs),
    bulkInsertQuery(consentLedger, writes.ledgerRows),
    bulkInsertQuery(
      consentState,
      [...writes.stateUpserts.values()],
      sql`on conflict (shop_id, subject_id, purpose) do update set state = excluded.state, level = excluded.level, since = excluded.since, decided_by = excluded.decided_by`,
    ),
    bulkInsertQuery(auditLog, writes.auditRows),
    enqueueQuery(s.shopKeys, shopId, writes.outboxItems, s.recordedAt),
    bulkInsertQuery(
      pushedConsent,
      [...writes.pushedUpserts.values()],
      sql`on conflict (shop_id, system, subject_id, purpose) do update set state = excluded.state, occurred_at = excluded.occurred_at, pushed_at = excluded.pushed_at, in_flight = excluded.in_flight, reported_state = excluded.reported_state, reported_at = excluded.reported_at`,
    ),
  ].filter((q): q is SQL => q !== null);
  writes.unsuppress = [];
  writes.newSubjects = [];
  writes.newIdentifiers = [];
  writes.newRefs = [];
  writes.ledgerRows = [];
  writes.auditRows = [];
  writes.outboxItems = [];
  writes.stateUpserts = new Map();
  writes.pushedUpserts = new Map();
  if (statements.length === 0) return null;
  return sql`with ${sql.join(
    statements.map((q, i) => sql`${sql.raw(`w${i}`)} as (${q})`),
    sql`, `,
  )} select 1`;
}

/** Stores everything gathered so far: the rows, then the ids claimed by people whose rows were stored before. */
async function storeSoFar(s: ShopSession, writes: Writes): Promise<void> {
  await settle(writes);
  const statement = flushRows(s, writes);
  if (statement) await s.tx.execute(statement);
  for (const subject of writes.changedExternalIds.values()) {
    await s.tx
      .update(subjects)
      .set({ externalIds: subject.externalIds })
      .where(and(eq(subjects.shopId, s.shopId), eq(subjects.subjectId, subject.subjectId)));
  }
  writes.changedExternalIds.clear();
}

/** The last rows, then the few writes that read what the rows wrote (external ids, profiles). */
async function writeAll(s: ShopSession, writes: Writes): Promise<void> {
  const { tx, shopId } = s;
  const lap = stopwatch();
  const statement = flushRows(s, writes);
  lap('write: rows to JSON (encrypting outbox payloads)');
  if (statement) await tx.execute(statement);
  lap('write: one statement (ledger, state, audit, outbox, pushes, subjects)');
  await storeSoFar(s, writes);
  // Minimisation: a withdrawal purges the profile and a fresh grant rebuilds it from the order history, in the
  // same transaction as the consent change.
  const granted = [...writes.profileTransitions].filter(([, g]) => g).map(([id]) => id);
  await purgeProfiles(tx, shopId, s.head, [...writes.profileRevoked], s.actor, s.recordedAt);
  await rebuildProfiles(tx, shopId, s.head, granted, s.actor, s.recordedAt);
  lap('write: profiles');
}
