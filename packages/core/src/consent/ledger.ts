import { randomUUID } from 'node:crypto';
import { and, asc, eq, gte, inArray } from 'drizzle-orm';
import { canonical, chainHashOfText, GENESIS, sha256, verifyPaged, type ChainVerification } from '../audit/chain.js';
import { openForSubject, sealForSubject } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { consentLedger, shops } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { bulkInsert } from '../store/bulk.js';
import type { ConsentEventData } from './event.js';
import type { ConsentMethod, ConsentState, OptInLevel } from '../ports.js';
import type { FoldableEvent } from './fold.js';

export type LedgerRow = typeof consentLedger.$inferSelect;

/** Personal evidence is encrypted under the subject's key; the rest stays readable as proof. */
const personalEvidence = ['ip', 'userAgent'] as const;

/** The hash of an event's content: the same source id with the same content is a replay, else a conflict. */
export function eventContentHash(data: ConsentEventData): string {
  return sha256(
    canonical({
      email: data.subject.email,
      purpose: data.purpose,
      state: data.state,
      level: data.level,
      occurredAt: data.occurredAt,
      source: data.source,
      evidence: data.evidence,
    }),
  );
}

/** What the chain hashes of a ledger row: every stored column but the two hashes. */
export function ledgerContent(row: Omit<LedgerRow, 'prevHash' | 'rowHash'>): unknown {
  return row;
}

type LedgerContent = Omit<LedgerRow, 'prevHash' | 'rowHash'>;
/** The columns `ledgerContent` holds, in the order `canonical` sorts them. */
const contentKeys: ReadonlyArray<keyof LedgerContent> = [
  'contentHash',
  'echo',
  'eventId',
  'evidence',
  'evidenceEnc',
  'level',
  'method',
  'occurredAt',
  'purpose',
  'recordedAt',
  'seq',
  'shopId',
  'sourceEventId',
  'sourceSystem',
  'state',
  'subjectId',
];
/**
 * `canonical(ledgerContent(row))`, written out for the ledger's one shape: every row of a batch is hashed, and
 * the generic walk (listing and sorting the keys for every row) cost a ledger row 2-3 times as much. A row of
 * any other shape (a column added or missing) takes the generic walk, so the text never differs.
 */
export function canonicalLedgerContent(row: LedgerContent): string {
  if (Object.keys(row).length !== contentKeys.length) return canonical(row);
  for (const k of contentKeys) if (row[k] === undefined) return canonical(row);
  const c = canonical;
  return `{"contentHash":${c(row.contentHash)},"echo":${c(row.echo)},"eventId":${c(row.eventId)},"evidence":${c(row.evidence)},"evidenceEnc":${c(row.evidenceEnc)},"level":${c(row.level)},"method":${c(row.method)},"occurredAt":${c(row.occurredAt)},"purpose":${c(row.purpose)},"recordedAt":${c(row.recordedAt)},"seq":${c(row.seq)},"shopId":${c(row.shopId)},"sourceEventId":${c(row.sourceEventId)},"sourceSystem":${c(row.sourceSystem)},"state":${c(row.state)},"subjectId":${c(row.subjectId)}}`;
}

/** Builds the next chained ledger row and advances the head; the caller inserts it in the same transaction. */
export function nextLedgerRow(
  shopId: string,
  head: ShopHead,
  input: {
    data: ConsentEventData;
    subjectId: string;
    subjectKey: Buffer;
    echo: boolean;
    recordedAt: Date;
    contentHash: string;
  },
): LedgerRow {
  const { data } = input;
  const evidence: Record<string, string> = {};
  const personal: Record<string, string> = {};
  for (const [k, v] of Object.entries(data.evidence)) {
    if (v === undefined) continue;
    if ((personalEvidence as readonly string[]).includes(k)) personal[k] = v;
    else evidence[k] = v;
  }
  const eventId = randomUUID();
  const base = {
    shopId,
    seq: head.ledgerSeq + 1,
    eventId,
    subjectId: input.subjectId,
    purpose: data.purpose,
    state: data.state,
    level: data.level,
    occurredAt: data.occurredAt,
    recordedAt: input.recordedAt,
    sourceSystem: data.source.system,
    sourceEventId: data.source.eventId,
    method: data.source.method,
    evidence,
    evidenceEnc:
      Object.keys(personal).length > 0
        ? sealForSubject(input.subjectKey, shopId, input.subjectId, `evidence:${eventId}`, JSON.stringify(personal))
        : null,
    echo: input.echo,
    contentHash: input.contentHash,
  };
  const prevHash = head.ledgerSeq === 0 ? GENESIS : head.ledgerHead;
  const row: LedgerRow = { ...base, prevHash, rowHash: chainHashOfText(prevHash, canonicalLedgerContent(base)) };
  head.ledgerSeq = row.seq;
  head.ledgerHead = row.rowHash;
  head.dirty = true;
  return row;
}

export async function insertLedgerRows(tx: Db, rows: LedgerRow[]): Promise<void> {
  await bulkInsert(tx, consentLedger, rows);
}

/** All source-id matches among `keys` (system + event id), for replay and conflict checks. */
export async function findBySources(
  db: Db,
  shopId: string,
  keys: Array<{ system: string; eventId: string }>,
): Promise<LedgerRow[]> {
  const bySystem = new Map<string, string[]>();
  for (const k of keys) bySystem.set(k.system, [...(bySystem.get(k.system) ?? []), k.eventId]);
  const out: LedgerRow[] = [];
  for (const [system, ids] of bySystem) {
    for (let i = 0; i < ids.length; i += 1000) {
      out.push(
        ...(await db
          .select()
          .from(consentLedger)
          .where(
            and(
              eq(consentLedger.shopId, shopId),
              eq(consentLedger.sourceSystem, system),
              inArray(consentLedger.sourceEventId, ids.slice(i, i + 1000)),
            ),
          )),
      );
    }
  }
  return out;
}

/** The fold inputs of every event of these subjects. */
export async function historiesOf(db: Db, shopId: string, subjectIds: string[]): Promise<LedgerRow[]> {
  const out: LedgerRow[] = [];
  for (let i = 0; i < subjectIds.length; i += 1000) {
    out.push(
      ...(await db
        .select()
        .from(consentLedger)
        .where(and(eq(consentLedger.shopId, shopId), inArray(consentLedger.subjectId, subjectIds.slice(i, i + 1000))))
        .orderBy(asc(consentLedger.seq))),
    );
  }
  return out;
}

export function toFoldable(
  row: Pick<
    LedgerRow,
    'eventId' | 'state' | 'level' | 'occurredAt' | 'echo' | 'sourceSystem' | 'sourceEventId' | 'method'
  >,
): FoldableEvent {
  return {
    id: row.eventId,
    state: row.state as ConsentState,
    level: row.level as OptInLevel,
    occurredAt: row.occurredAt,
    echo: row.echo,
    source: { system: row.sourceSystem, eventId: row.sourceEventId, method: row.method as ConsentMethod },
  };
}

export async function subjectHistory(
  db: Db,
  shopId: string,
  subjectId: string,
  purpose?: string,
): Promise<LedgerRow[]> {
  const conditions = [eq(consentLedger.shopId, shopId), eq(consentLedger.subjectId, subjectId)];
  if (purpose) conditions.push(eq(consentLedger.purpose, purpose));
  return db
    .select()
    .from(consentLedger)
    .where(and(...conditions))
    .orderBy(asc(consentLedger.seq));
}

/** Decrypts a row's personal evidence with the subject's key; empty once the subject was erased. */
export function personalEvidenceOf(row: LedgerRow, subjectKey: Buffer | null): Record<string, string> {
  if (!row.evidenceEnc || !subjectKey) return {};
  return JSON.parse(
    openForSubject(subjectKey, row.shopId, row.subjectId, `evidence:${row.eventId}`, row.evidenceEnc),
  ) as Record<string, string>;
}

/** Walks the whole ledger of a shop and finds the first edited, inserted, deleted or cut row. */
export async function verifyLedger(db: Db, shopId: string, pageSize = 5000): Promise<ChainVerification> {
  const [shop] = await db
    .select({ seq: shops.ledgerSeq, hash: shops.ledgerHead })
    .from(shops)
    .where(eq(shops.shopId, shopId));
  return verifyPaged(
    (after) =>
      db
        .select()
        .from(consentLedger)
        .where(and(eq(consentLedger.shopId, shopId), gte(consentLedger.seq, after + 1)))
        .orderBy(asc(consentLedger.seq))
        .limit(pageSize),
    ({ prevHash: _p, rowHash: _r, ...content }) => ledgerContent(content),
    { seq: shop?.seq ?? 0, hash: shop?.hash ?? '' },
    pageSize,
  );
}
