/**
 * The order summary a profile carries (count, revenue, first and last order), computed in SQL from the orders
 * the subject is linked to. Orders that named the person only by an address or another system's id are linked
 * first, so a summary never misses an order placed before Tactful knew the person.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { markRfmStale } from './rfm.js';

/** A list of subject ids as one JSON parameter: SQL expands it, however many there are. */
export const idsJson = (ids: readonly string[]) => JSON.stringify([...new Set(ids)]);

/**
 * Links orders that name the subject only by the blind index of its email (or by an id of another
 * system) to the subject, then recomputes the order summary of these subjects' profiles.
 */
export async function refreshOrderSummaries(
  tx: Db,
  shopId: string,
  subjectIds: readonly string[],
  at: Date,
): Promise<void> {
  if (subjectIds.length === 0) return;
  await markRfmStale(tx, shopId);
  const ids = idsJson(subjectIds);
  // The subjects' order references (email index and platform ids) are listed first, then matched with plain
  // equality, which the orders_customer_ref index serves even before the planner has statistics; an
  // expression join made every grant compare each order with each subject.
  const refs = await rows<{ subject_id: string; ref: string }>(
    tx,
    sql`select s.subject_id, r.ref
        from subjects s
        cross join lateral (
          select 'e:' || encode(s.email_index, 'hex') as ref
          union all select e.key || ':' || e.value from jsonb_each_text(s.external_ids) e
        ) r
        where s.shop_id = ${shopId} and s.subject_id in (select jsonb_array_elements_text(${ids}::jsonb)) and s.wrapped_key is not null`,
  );
  if (refs.length > 0) {
    await tx.execute(sql`
      update orders o set subject_id = x.subject_id
      from jsonb_to_recordset(${JSON.stringify(refs)}::jsonb) as x(subject_id text, ref text)
      where o.shop_id = ${shopId} and o.subject_id is null and o.customer_ref = x.ref`);
  }
  await tx.execute(sql`
    update profiles p set
      order_count = coalesce(agg.n, 0),
      revenue = coalesce(agg.revenue, 0),
      first_order_at = agg.first_at,
      last_order_at = agg.last_at,
      updated_at = ${at.toISOString()}::timestamptz
    from (
      select q.subject_id, o.n, o.revenue, o.first_at, o.last_at
      from (select jsonb_array_elements_text(${ids}::jsonb) as subject_id) q
      left join (
        select subject_id, count(*)::int as n, sum(coalesce(nullif(total_price, '')::numeric, 0)) as revenue,
               min(created_at) as first_at, max(created_at) as last_at
        from orders
        where shop_id = ${shopId} and counted and subject_id in (select jsonb_array_elements_text(${ids}::jsonb))
        group by subject_id
      ) o on o.subject_id = q.subject_id
    ) agg
    where p.shop_id = ${shopId} and p.subject_id = agg.subject_id`);
}

/** Profiles of subjects with orders: the ids whose summary must follow an order change. */
export async function profiledAmong(db: Db, shopId: string, subjectIds: readonly string[]): Promise<string[]> {
  if (subjectIds.length === 0) return [];
  const found = await rows<{ subject_id: string }>(
    db,
    sql`select subject_id from profiles where shop_id = ${shopId} and subject_id in (select jsonb_array_elements_text(${idsJson(subjectIds)}::jsonb))`,
  );
  return found.map((r) => r.subject_id);
}
