/**
 * The order summary a profile carries (count, revenue, first and last order), computed in SQL from the orders
 * the subject is linked to. Orders that named the person only by an address or another system's id are linked
 * first, so a summary never misses an order placed before Tactful knew the person.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { rows } from '../store/open.js';
import { linkOrdersQuery } from '../identity/orders.js';
import { textArray } from '../store/text-array.js';
import { markRfmStale } from './rfm.js';

/**
 * Links orders that name the subject only by the blind index of its email (or by an id of another
 * system) to the subject, then recomputes the order summary of these subjects' profiles.
 *
 * The subjects travel as one text[] parameter, so every statement is planned for their true number: index
 * lookups per subject, never a comparison of each subject with each other's orders (a JSON list, estimated at
 * 100 rows, made the summary of a 1 000-person consent batch cost ~3 s at 10 000 customers).
 */
export async function refreshOrderSummaries(
  tx: Db,
  shopId: string,
  subjectIds: readonly string[],
  at: Date,
): Promise<void> {
  if (subjectIds.length === 0) return;
  await markRfmStale(tx, shopId);
  const ids = textArray([...new Set(subjectIds)]);
  // The subjects' order references (email index and platform ids) are listed first, then matched with plain
  // equality, which the orders_customer_ref index serves even before the planner has statistics; an
  // expression join made every grant compare each order with each subject. A caller that linked them already
  // (the consent batch links a new person's references as it stores them) pays one index probe per reference
  // here: orders that changed hands in between are linked too.
  const refs = await rows<{ subject_id: string; ref: string }>(
    tx,
    sql`select s.subject_id, r.ref
        from subjects s
        cross join lateral (
          select 'e:' || encode(s.email_index, 'hex') as ref
          union all select e.key || ':' || e.value from jsonb_each_text(s.external_ids) e
        ) r
        where s.shop_id = ${shopId} and s.subject_id = any(${ids}) and s.wrapped_key is not null`,
  );
  const link = linkOrdersQuery(
    shopId,
    refs.map((r) => ({ subjectId: r.subject_id, ref: r.ref })),
  );
  if (link) await tx.execute(link);
  // One aggregate per subject over its own orders (orders_subject), whatever the batch's size.
  await tx.execute(sql`
    update profiles p set
      order_count = agg.n,
      revenue = agg.revenue,
      first_order_at = agg.first_at,
      last_order_at = agg.last_at,
      updated_at = ${at.toISOString()}::timestamptz
    from unnest(${ids}) as q(subject_id)
    cross join lateral (
      select count(*)::int as n, coalesce(sum(coalesce(nullif(o.total_price, '')::numeric, 0)), 0) as revenue,
             min(o.created_at) as first_at, max(o.created_at) as last_at
      from orders o
      where o.shop_id = ${shopId} and o.subject_id = q.subject_id and o.counted
    ) agg
    where p.shop_id = ${shopId} and p.subject_id = q.subject_id`);
}

/** Profiles of subjects with orders: the ids whose summary must follow an order change. */
export async function profiledAmong(db: Db, shopId: string, subjectIds: readonly string[]): Promise<string[]> {
  if (subjectIds.length === 0) return [];
  const found = await rows<{ subject_id: string }>(
    db,
    sql`select subject_id from profiles where shop_id = ${shopId} and subject_id = any(${textArray([...new Set(subjectIds)])})`,
  );
  return found.map((r) => r.subject_id);
}
