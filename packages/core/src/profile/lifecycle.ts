/**
 * A profile exists ONLY while the subject's `personalization` consent is granted: it is created (and filled
 * from the order history, kept on the basis of the sales contract) on a fresh grant and deleted in the same
 * transaction as a withdrawal. The ledger keeps the proof; identity lives in `subjects`.
 */
import { and, eq, sql } from 'drizzle-orm';
import { insertAuditRows, nextAuditRow, type Actor } from '../audit/log.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { consentState } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { textArray } from '../store/text-array.js';
import { refreshOrderSummaries } from './order-summaries.js';
import { markRfmStale } from './rfm.js';

/** The purpose whose grant allows a profile to exist. */
export const PROFILE_PURPOSE = 'personalization';

export async function personalizationGranted(db: Db, shopId: string, subjectId: string): Promise<boolean> {
  const [row] = await db
    .select({ state: consentState.state })
    .from(consentState)
    .where(
      and(
        eq(consentState.shopId, shopId),
        eq(consentState.subjectId, subjectId),
        eq(consentState.purpose, PROFILE_PURPOSE),
      ),
    );
  return row?.state === 'granted';
}

/** Creates (empty) profiles for subjects whose personalization was just granted and fills their order summary. */
export async function rebuildProfiles(
  tx: Db,
  shopId: string,
  head: ShopHead,
  subjectIds: readonly string[],
  actor: Actor,
  at: Date,
): Promise<void> {
  if (subjectIds.length === 0) return;
  const ids = textArray([...new Set(subjectIds)]);
  await tx.execute(sql`
    insert into profiles (shop_id, subject_id, created_at, updated_at)
    select ${shopId}, q.id, ${at.toISOString()}::timestamptz, ${at.toISOString()}::timestamptz
    from unnest(${ids}) as q(id)
    on conflict (shop_id, subject_id) do nothing`);
  await refreshOrderSummaries(tx, shopId, subjectIds, at);
  await insertAuditRows(
    tx,
    [...new Set(subjectIds)].map((subjectId) =>
      nextAuditRow(shopId, head, {
        action: 'profile.changed',
        actor,
        subjectId,
        at,
        details: { rebuilt: true, reason: 'personalization granted' },
      }),
    ),
  );
}

/** Deletes the profiles of subjects whose personalization is no longer granted; the ledger keeps the proof. */
export async function purgeProfiles(
  tx: Db,
  shopId: string,
  head: ShopHead,
  subjectIds: readonly string[],
  actor: Actor,
  at: Date,
  reason = 'personalization withdrawn',
): Promise<number> {
  if (subjectIds.length === 0) return 0;
  const ids = textArray([...new Set(subjectIds)]);
  await markRfmStale(tx, shopId);
  const deleted = await rows<{ subject_id: string }>(
    tx,
    sql`delete from profiles where shop_id = ${shopId} and subject_id = any(${ids}) returning subject_id`,
  );
  await insertAuditRows(
    tx,
    deleted.map((r) =>
      nextAuditRow(shopId, head, { action: 'profile.purged', actor, subjectId: r.subject_id, at, details: { reason } }),
    ),
  );
  return deleted.length;
}
