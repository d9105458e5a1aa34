import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { openForSubject, sealForSubject, type KeyRing, type ShopKeys } from '../store/keyring.js';
import { rows, type Db } from '../store/open.js';
import { subjects, suppression } from '../store/schema.js';
import { EMAIL, holdersOf, identifierIndex } from '../identity/identifiers.js';

/** A data subject: one person of one shop, found by the blind index of their email. */
export interface SubjectRow {
  shopId: string;
  subjectId: string;
  externalIds: Record<string, string>;
  createdAt: Date;
  erasedAt: Date | null;
}

export interface SubjectLookup {
  keys: KeyRing;
  shopKeys: ShopKeys;
  shopId: string;
}

export async function findSubjectByEmail(db: Db, ctx: SubjectLookup, email: string): Promise<SubjectRow | null> {
  const index = ctx.keys.emailIndex(ctx.shopKeys, email);
  const [row] = await db
    .select({
      shopId: subjects.shopId,
      subjectId: subjects.subjectId,
      externalIds: subjects.externalIds,
      createdAt: subjects.createdAt,
      erasedAt: subjects.erasedAt,
    })
    .from(subjects)
    .where(and(eq(subjects.shopId, ctx.shopId), eq(subjects.emailIndex, index)));
  return row ?? null;
}

/**
 * The live subject an identifier names: the holder of an id of another system, else of the address, else whoever
 * had the address or the id last (a request naming an old address still finds the person).
 */
export async function findSubjectByIdentifier(
  db: Db,
  ctx: SubjectLookup,
  claim: { email?: string | null | undefined; ids?: Record<string, string> | undefined },
): Promise<StoredSubject | null> {
  const wanted = [
    ...Object.entries(claim.ids ?? {}).map(([system, id]) => identifierIndex(ctx, system, id)),
    ...(claim.email ? [identifierIndex(ctx, EMAIL, claim.email)] : []),
  ];
  if (claim.email) {
    const [current] = await subjectsByIndexes(db, ctx.shopId, [identifierIndex(ctx, EMAIL, claim.email)]);
    const byId = await holdersOf(db, ctx.shopId, wanted.slice(0, -1));
    const idHolder = [...byId.values()].find((h) => h.current);
    if (idHolder) return liveSubject(db, ctx.shopId, idHolder.subjectId);
    if (current?.wrappedKey) return current;
  }
  const holders = [...(await holdersOf(db, ctx.shopId, wanted)).values()].sort(
    (a, b) => Number(b.current) - Number(a.current) || (b.validTo?.getTime() ?? 0) - (a.validTo?.getTime() ?? 0),
  );
  for (const h of holders) {
    const subject = await liveSubject(db, ctx.shopId, h.subjectId);
    if (subject) return subject;
  }
  return null;
}

async function liveSubject(db: Db, shopId: string, subjectId: string): Promise<StoredSubject | null> {
  const [row] = await db
    .select()
    .from(subjects)
    .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId)));
  return row?.wrappedKey ? row : null;
}

/** The subjects' emails in clear, for the ones whose key still exists (erased subjects are left out). */
export async function emailsOf(
  db: Db,
  keys: KeyRing,
  shopId: string,
  subjectIds: string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (subjectIds.length === 0) return out;
  const found = await db
    .select({ subjectId: subjects.subjectId, emailEnc: subjects.emailEnc })
    .from(subjects)
    .where(and(eq(subjects.shopId, shopId), inArray(subjects.subjectId, subjectIds)));
  for (const row of found) {
    const key = await keys.subjectKey(db, shopId, row.subjectId);
    if (key) out.set(row.subjectId, openForSubject(key, shopId, row.subjectId, 'email', row.emailEnc));
  }
  return out;
}

export type StoredSubject = typeof subjects.$inferSelect;

/** The subjects whose blind-index values are among `indexes`. */
export async function subjectsByIndexes(db: Db, shopId: string, indexes: Buffer[]): Promise<StoredSubject[]> {
  const out: StoredSubject[] = [];
  for (let i = 0; i < indexes.length; i += 1000) {
    out.push(
      ...(await db
        .select()
        .from(subjects)
        .where(and(eq(subjects.shopId, shopId), inArray(subjects.emailIndex, indexes.slice(i, i + 1000))))),
    );
  }
  return out;
}

/** A new subject row with a fresh data key (not yet inserted). */
export function newSubjectRow(
  ctx: SubjectLookup,
  email: string,
  externalIds: Record<string, string> | undefined,
  now: Date,
): { row: StoredSubject; key: Buffer } {
  const subjectId = randomUUID();
  const { key, wrapped } = ctx.keys.newSubjectKey(ctx.shopKeys, ctx.shopId, subjectId);
  return {
    key,
    row: {
      shopId: ctx.shopId,
      subjectId,
      emailIndex: ctx.keys.emailIndex(ctx.shopKeys, email),
      emailEnc: sealForSubject(key, ctx.shopId, subjectId, 'email', email),
      wrappedKey: wrapped,
      externalIds: externalIds ?? {},
      createdAt: now,
      erasedAt: null,
      undeliverableAt: null,
      mergedInto: null,
    },
  };
}

/** Suppressed blind-index values among `indexes`, as hex strings. */
export async function suppressedAmong(db: Db, shopId: string, indexes: Buffer[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < indexes.length; i += 1000) {
    const found = await db
      .select({ emailIndex: suppression.emailIndex })
      .from(suppression)
      .where(and(eq(suppression.shopId, shopId), inArray(suppression.emailIndex, indexes.slice(i, i + 1000))));
    for (const r of found) out.add(r.emailIndex.toString('hex'));
  }
  return out;
}

/**
 * The emails of many subjects in clear, in a few set-based reads (the subject keys unwrapped in memory);
 * erased subjects are left out. For reports that list many customers.
 */
export async function emailsOfMany(
  db: Db,
  keys: KeyRing,
  shopId: string,
  subjectIds: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (subjectIds.length === 0) return out;
  const shopKeys = await keys.shop(db, shopId);
  const unique = [...new Set(subjectIds)];
  for (let i = 0; i < unique.length; i += 5000) {
    const found = await rows<{
      subject_id: string;
      email_enc: Buffer | Uint8Array;
      wrapped_key: Buffer | Uint8Array | null;
    }>(
      db,
      sql`select subject_id, email_enc, wrapped_key from subjects where shop_id = ${shopId} and wrapped_key is not null
          and subject_id in (select jsonb_array_elements_text(${JSON.stringify(unique.slice(i, i + 5000))}::jsonb))`,
    );
    for (const r of found) {
      const key = keys.unwrapSubjectKey(shopKeys, shopId, r.subject_id, Buffer.from(r.wrapped_key!));
      if (key) out.set(r.subject_id, openForSubject(key, shopId, r.subject_id, 'email', Buffer.from(r.email_enc)));
    }
  }
  return out;
}
