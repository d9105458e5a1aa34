import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import { openForSubject, sealForSubject, type KeyRing, type ShopKeys } from '../crypto/keyring.js';
import type { Db } from '../store/open.js';
import { subjects, suppression } from '../store/schema.js';

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
    .select({ shopId: subjects.shopId, subjectId: subjects.subjectId, externalIds: subjects.externalIds, createdAt: subjects.createdAt, erasedAt: subjects.erasedAt })
    .from(subjects)
    .where(and(eq(subjects.shopId, ctx.shopId), eq(subjects.emailIndex, index)));
  return row ?? null;
}

export async function isSuppressed(db: Db, ctx: SubjectLookup, email: string): Promise<boolean> {
  const index = ctx.keys.emailIndex(ctx.shopKeys, email);
  const [row] = await db
    .select({ at: suppression.at })
    .from(suppression)
    .where(and(eq(suppression.shopId, ctx.shopId), eq(suppression.emailIndex, index)));
  return Boolean(row);
}

/** Finds the subject or creates it with a fresh data key; `created` tells which. */
export async function ensureSubject(
  db: Db,
  ctx: SubjectLookup,
  email: string,
  externalIds: Record<string, string> | undefined,
  now: Date,
): Promise<{ subject: SubjectRow; created: boolean }> {
  const existing = await findSubjectByEmail(db, ctx, email);
  if (existing) {
    const merged = { ...existing.externalIds, ...(externalIds ?? {}) };
    if (externalIds && Object.entries(externalIds).some(([k, v]) => existing.externalIds[k] !== v)) {
      await db
        .update(subjects)
        .set({ externalIds: merged })
        .where(and(eq(subjects.shopId, ctx.shopId), eq(subjects.subjectId, existing.subjectId)));
      existing.externalIds = merged;
    }
    return { subject: existing, created: false };
  }
  const subjectId = randomUUID();
  const { key, wrapped } = ctx.keys.newSubjectKey(ctx.shopKeys, ctx.shopId, subjectId);
  const row = {
    shopId: ctx.shopId,
    subjectId,
    emailIndex: ctx.keys.emailIndex(ctx.shopKeys, email),
    emailEnc: sealForSubject(key, ctx.shopId, subjectId, 'email', email),
    wrappedKey: wrapped,
    externalIds: externalIds ?? {},
    createdAt: now,
  };
  await db.insert(subjects).values(row);
  ctx.keys.rememberSubjectKey(ctx.shopId, subjectId, key);
  return { subject: { shopId: ctx.shopId, subjectId, externalIds: row.externalIds, createdAt: now, erasedAt: null }, created: true };
}

/** The subjects' emails in clear, for the ones whose key still exists (erased subjects are left out). */
export async function emailsOf(db: Db, keys: KeyRing, shopId: string, subjectIds: string[]): Promise<Map<string, string>> {
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
