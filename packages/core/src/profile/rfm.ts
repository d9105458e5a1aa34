/**
 * RFM: each profile's recency, frequency and monetary quintile and its label, scored for the whole shop in
 * SQL, lazily: order changes mark the scores stale, and the next report or RFM segment rescores first.
 */
import { and, eq, sql, type SQL } from 'drizzle-orm';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { withHashJoins } from '../store/analyze.js';
import { kv } from '../store/schema.js';
import { refreshAges } from './ages.js';

/**
 * RFM labels from the recency score R and the mean of the frequency and monetary scores FM (rounded),
 * first match wins. Documented in docs/privacy.md.
 */
export const rfmLabels = [
  { label: 'champions', rule: 'R >= 4 and FM >= 4', sql: 'r >= 4 and fm >= 4' },
  { label: 'loyal', rule: 'R >= 3 and FM >= 4', sql: 'r >= 3 and fm >= 4' },
  { label: 'potential_loyalists', rule: 'R >= 4 and FM 2-3', sql: 'r >= 4 and fm >= 2' },
  { label: 'new_customers', rule: 'R >= 4 and FM = 1', sql: 'r >= 4' },
  { label: 'need_attention', rule: 'R = 3 and FM = 3', sql: 'r = 3 and fm = 3' },
  { label: 'promising', rule: 'R = 3 and FM <= 2', sql: 'r = 3' },
  { label: 'cannot_lose', rule: 'R = 1 and FM = 5', sql: 'r = 1 and fm = 5' },
  { label: 'at_risk', rule: 'R <= 2 and FM >= 3', sql: 'fm >= 3' },
  { label: 'hibernating', rule: 'R = 2 and FM <= 2', sql: 'r = 2' },
  { label: 'lost', rule: 'R = 1 and FM <= 2', sql: 'true' },
] as const;
export type RfmLabel = (typeof rfmLabels)[number]['label'];

const RFM_KEY = 'profiles.rfm_scored_at';

/**
 * The statements `rescoreProfiles` runs in one transaction: every profile's R, F and M quintile (1–5 among the
 * shop's profiles with at least one order; ties share the lower score) and label, then the scores of profiles
 * without orders cleared. The first one runs under `withHashJoins`: it touches every scored profile of the shop, and
 * for a shop the planner's statistics have not seen yet PostgreSQL estimated the shop at one row, chose a nested
 * loop and computed the window functions again for each profile (0.83 s for 741 customers on the suite's
 * database, quadratic in the shop's size).
 */
export function rfmRescoreStatements(shopId: string): { score: SQL; clear: SQL } {
  const score = (col: string) =>
    sql.raw(`least(5, 1 + floor(5.0 * (rank() over (order by ${col}) - 1) / count(*) over ()))::int`);
  const label = sql.raw(`case ${rfmLabels.map((l) => `when ${l.sql} then '${l.label}'`).join(' ')} end`);
  return {
    score: sql`
      with s as (
        select subject_id, ${score('last_order_at')} as r, ${score('order_count')} as f, ${score('revenue')} as m
        from profiles where shop_id = ${shopId} and order_count > 0
      ), l as (select subject_id, r, f, m, round((f + m) / 2.0)::int as fm from s),
      lab as (select subject_id, r, f, m, ${label} as label from l)
      update profiles p set recency_score = lab.r, frequency_score = lab.f, monetary_score = lab.m, rfm_label = lab.label
      from lab where p.shop_id = ${shopId} and p.subject_id = lab.subject_id
        and (p.recency_score is distinct from lab.r or p.frequency_score is distinct from lab.f
             or p.monetary_score is distinct from lab.m or p.rfm_label is distinct from lab.label)`,
    clear: sql`update profiles set recency_score = null, frequency_score = null, monetary_score = null, rfm_label = null
      where shop_id = ${shopId} and order_count = 0 and recency_score is not null`,
  };
}

/** Rescores every profile of the shop (`rfmRescoreStatements`) and refreshes ages whose birthday passed. */
export async function rescoreProfiles(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  await refreshAges(db, keys, shopId, at);
  const { score, clear } = rfmRescoreStatements(shopId);
  await db.transaction(async (tx) => {
    await withHashJoins(tx, () => tx.execute(score));
    await tx.execute(clear);
    await tx
      .insert(kv)
      .values({ shopId, key: RFM_KEY, value: at.toISOString(), updatedAt: at })
      .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value: at.toISOString(), updatedAt: at } });
  });
}

/** Marks the shop's RFM scores stale: the next report or RFM segment rescores first. */
export async function markRfmStale(tx: Db, shopId: string): Promise<void> {
  await tx.delete(kv).where(and(eq(kv.shopId, shopId), eq(kv.key, RFM_KEY)));
}

/** Rescores when the order summaries changed since the last scoring (or an age went stale). */
export async function ensureScored(db: Db, keys: KeyRing, shopId: string, at: Date): Promise<void> {
  // Both by index (kv's key, profiles_age_valid_until): one row at most is looked at, whatever the shop's size.
  const [state] = await rows<{ scored: boolean; stale: boolean }>(
    db,
    sql`select exists (select 1 from kv where shop_id = ${shopId} and key = ${RFM_KEY}) as scored,
               exists (select 1 from profiles where shop_id = ${shopId} and age_valid_until is not null
                         and age_valid_until <= ${at.toISOString()}::timestamptz) as stale`,
  );
  if (state?.scored && !state.stale) return;
  await rescoreProfiles(db, keys, shopId, at);
}
