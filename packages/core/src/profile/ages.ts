/**
 * A profile's age is a plain column segments filter on, derived from the sealed birth date: it is stored with
 * the moment it next changes, and refreshed once that moment has passed.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { profiles } from '../store/schema.js';
import { openAttributes } from './sealed-attributes.js';

/** Whole years between a birth date (YYYY-MM-DD) and `at`, and when that number next changes. */
export function ageAt(birthDate: string, at: Date): { age: number; validUntil: Date } {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  let age = at.getUTCFullYear() - y;
  const birthdayThisYear = Date.UTC(at.getUTCFullYear(), m - 1, d);
  if (at.getTime() < birthdayThisYear) age -= 1;
  const next = new Date(Date.UTC(y + age + 1, m - 1, d));
  return { age, validUntil: next };
}

/** Recomputes the ages whose birthday passed since they were stored. */
export async function refreshAges(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  const stale = await db
    .select({ shopId: profiles.shopId, subjectId: profiles.subjectId, attrsEnc: profiles.attrsEnc })
    .from(profiles)
    .where(and(eq(profiles.shopId, shopId), sql`${profiles.ageValidUntil} <= ${at.toISOString()}::timestamptz`));
  for (const row of stale) {
    const key = await keys.subjectKey(db, shopId, row.subjectId);
    const birth = openAttributes(key, row).birthDate?.value;
    const age = typeof birth === 'string' ? ageAt(birth, at) : null;
    await db
      .update(profiles)
      .set({ age: age?.age ?? null, ageValidUntil: age?.validUntil ?? null })
      .where(and(eq(profiles.shopId, shopId), eq(profiles.subjectId, row.subjectId)));
  }
}
