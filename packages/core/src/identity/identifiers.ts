/**
 * A person's identifiers: every email address they have had and their id in each other system, each with
 * the time span it was theirs. The values are sealed with the subject's own key (so erasure shreds them);
 * lookups go through a blind index under the shop's index key, the same one the suppression list uses.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { openForSubject, sealForSubject, type KeyRing, type ShopKeys } from '../store/keyring.js';
import { bulkInsert } from '../store/bulk.js';
import type { Db } from '../store/open.js';
import { subjectIdentifiers, subjects, suppression } from '../store/schema.js';

/** The kind of an email address; any other kind is the name of the system whose id it is. */
export const EMAIL = 'email';

export interface IdentityKeys {
  keys: KeyRing;
  shopKeys: ShopKeys;
  shopId: string;
}

export type IdentifierRow = typeof subjectIdentifiers.$inferSelect;

/** The blind index of an identifier: an address as itself (as `subjects.email_index`), an id as `id:<system>:<id>`. */
export function identifierIndex(ctx: IdentityKeys, kind: string, value: string): Buffer {
  return ctx.keys.emailIndex(ctx.shopKeys, kind === EMAIL ? value : `id:${kind}:${value}`);
}

/** An address is sealed exactly like `subjects.email_enc`, so existing subjects' addresses are copied as they are. */
const fieldOf = (kind: string) => (kind === EMAIL ? 'email' : `identifier:${kind}`);

export function newIdentifierRow(
  ctx: IdentityKeys,
  subjectId: string,
  subjectKey: Buffer,
  kind: string,
  value: string,
  validFrom: Date,
): IdentifierRow {
  return {
    shopId: ctx.shopId,
    subjectId,
    kind,
    valueIndex: identifierIndex(ctx, kind, value),
    valueEnc: sealForSubject(subjectKey, ctx.shopId, subjectId, fieldOf(kind), value),
    validFrom,
    validTo: null,
  };
}

export function openIdentifier(subjectKey: Buffer, row: IdentifierRow): string {
  return openForSubject(subjectKey, row.shopId, row.subjectId, fieldOf(row.kind), row.valueEnc);
}

/**
 * Who holds each of these identifiers (blind indexes, as hex): the current holder, else whoever held it last.
 * `current` tells which.
 */
export async function holdersOf(
  db: Db,
  shopId: string,
  indexes: readonly Buffer[],
): Promise<Map<string, IdentifierRow & { current: boolean }>> {
  const out = new Map<string, IdentifierRow & { current: boolean }>();
  for (let i = 0; i < indexes.length; i += 1000) {
    const found = await db
      .select()
      .from(subjectIdentifiers)
      .where(
        and(eq(subjectIdentifiers.shopId, shopId), inArray(subjectIdentifiers.valueIndex, indexes.slice(i, i + 1000))),
      );
    for (const row of found) noteHolder(out, row);
  }
  return out;
}

/**
 * Keeps `row` in `holders` (by the index's hex) if it is the better holder of its identifier: the current holder,
 * else whoever held it last. The rule of {@link holdersOf}, for identifier rows read another way.
 *
 * Spans that end at the same instant (one transaction, a batch, handed the identifier on and moved its new holder
 * off it again) are told apart by their start: a holder's span can only start once the one before it ended, so
 * the later start is the later holder.
 */
export function noteHolder(holders: Map<string, IdentifierRow & { current: boolean }>, row: IdentifierRow): void {
  const hex = row.valueIndex.toString('hex');
  const seen = holders.get(hex);
  const ended = (r: IdentifierRow) => r.validTo?.getTime() ?? Number.POSITIVE_INFINITY;
  const better =
    !seen ||
    ended(row) > ended(seen) ||
    (ended(row) === ended(seen) && row.validFrom.getTime() > seen.validFrom.getTime());
  if (better) holders.set(hex, { ...row, current: row.validTo === null });
}

/** Every identifier these subjects have had, oldest first. */
export async function identifiersOf(db: Db, shopId: string, subjectIds: readonly string[]): Promise<IdentifierRow[]> {
  if (subjectIds.length === 0) return [];
  return db
    .select()
    .from(subjectIdentifiers)
    .where(and(eq(subjectIdentifiers.shopId, shopId), inArray(subjectIdentifiers.subjectId, [...subjectIds])))
    .orderBy(subjectIdentifiers.validFrom);
}

export async function insertIdentifiers(tx: Db, rows: readonly IdentifierRow[]): Promise<void> {
  await bulkInsert(tx, subjectIdentifiers, [...rows], sql`on conflict do nothing`);
}

/** Ends the subject's current identifier of `kind` (its current address, or its id in that system). */
export async function closeIdentifier(tx: Db, shopId: string, subjectId: string, kind: string, at: Date) {
  await tx
    .update(subjectIdentifiers)
    .set({ validTo: at })
    .where(
      and(
        eq(subjectIdentifiers.shopId, shopId),
        eq(subjectIdentifiers.subjectId, subjectId),
        eq(subjectIdentifiers.kind, kind),
        isNull(subjectIdentifiers.validTo),
      ),
    );
}

/** The suppressed identifiers among `indexes` (hex), with when each was suppressed. */
export async function suppressionsOf(db: Db, shopId: string, indexes: readonly Buffer[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  for (let i = 0; i < indexes.length; i += 1000) {
    const found = await db
      .select({ emailIndex: suppression.emailIndex, at: suppression.at })
      .from(suppression)
      .where(and(eq(suppression.shopId, shopId), inArray(suppression.emailIndex, indexes.slice(i, i + 1000))));
    for (const r of found) out.set(r.emailIndex.toString('hex'), r.at);
  }
  return out;
}

/**
 * Records the identifiers of subjects created before identifiers were kept (their current address and ids),
 * once; a store where every subject has them answers with one query.
 */
export async function backfillIdentifiers(db: Db, ctx: IdentityKeys): Promise<number> {
  const missing = await db
    .select({
      subjectId: subjects.subjectId,
      emailIndex: subjects.emailIndex,
      emailEnc: subjects.emailEnc,
      wrappedKey: subjects.wrappedKey,
      externalIds: subjects.externalIds,
      createdAt: subjects.createdAt,
    })
    .from(subjects)
    .where(
      and(
        eq(subjects.shopId, ctx.shopId),
        sql`${subjects.wrappedKey} is not null`,
        sql`not exists (select 1 from subject_identifiers i where i.shop_id = ${subjects.shopId} and i.subject_id = ${subjects.subjectId})`,
      ),
    );
  const rows: IdentifierRow[] = [];
  for (const s of missing) {
    rows.push({
      shopId: ctx.shopId,
      subjectId: s.subjectId,
      kind: EMAIL,
      valueIndex: s.emailIndex,
      valueEnc: s.emailEnc,
      validFrom: s.createdAt,
      validTo: null,
    });
    const ids = Object.entries(s.externalIds);
    if (ids.length === 0) continue;
    const key = ctx.keys.unwrapSubjectKey(ctx.shopKeys, ctx.shopId, s.subjectId, s.wrappedKey);
    if (!key) continue;
    for (const [system, id] of ids) rows.push(newIdentifierRow(ctx, s.subjectId, key, system, id, s.createdAt));
  }
  for (let i = 0; i < rows.length; i += 2000) await insertIdentifiers(db, rows.slice(i, i + 2000));
  return missing.length;
}
