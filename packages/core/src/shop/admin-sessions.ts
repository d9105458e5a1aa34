/**
 * Sign-in sessions of the admin dashboard, kept server-side so that signing out ends them everywhere: the
 * browser holds a random id, the store holds only its SHA-256 and when it expires (the kv table). Expired
 * entries are removed whenever a new session starts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, like } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { kv } from '../store/schema.js';

const prefix = 'admin-session:';

function keyOf(id: string): string {
  return `${prefix}${createHash('sha256').update(id, 'utf8').digest('hex')}`;
}

/** Starts a session valid until `expiresAt`; returns its id (32 random bytes, base64url). */
export async function createAdminSession(db: Db, shopId: string, now: Date, expiresAt: Date): Promise<string> {
  const id = randomBytes(32).toString('base64url');
  await db.transaction(async (tx) => {
    const rows = await tx
      .select({ key: kv.key, value: kv.value })
      .from(kv)
      .where(and(eq(kv.shopId, shopId), like(kv.key, `${prefix}%`)));
    for (const row of rows) {
      if ((JSON.parse(row.value) as { expiresAt: number }).expiresAt <= now.getTime())
        await tx.delete(kv).where(and(eq(kv.shopId, shopId), eq(kv.key, row.key)));
    }
    await tx
      .insert(kv)
      .values({ shopId, key: keyOf(id), value: JSON.stringify({ expiresAt: expiresAt.getTime() }), updatedAt: now });
  });
  return id;
}

/** True when `id` names a session that was started, not ended, and has not expired at `now`. */
export async function adminSessionValid(db: Db, shopId: string, id: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ value: kv.value })
    .from(kv)
    .where(and(eq(kv.shopId, shopId), eq(kv.key, keyOf(id))));
  return row !== undefined && (JSON.parse(row.value) as { expiresAt: number }).expiresAt > now.getTime();
}

/** Ends the session (sign-out); ending an unknown one does nothing. */
export async function endAdminSession(db: Db, shopId: string, id: string): Promise<void> {
  await db.delete(kv).where(and(eq(kv.shopId, shopId), eq(kv.key, keyOf(id))));
}
