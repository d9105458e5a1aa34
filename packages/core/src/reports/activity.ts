import { sql } from 'drizzle-orm';
import { ATTRIBUTION_DAYS } from '../campaign/stats.js';
import { rows, type Db } from '../store/open.js';

/** A count (or amount) of one kind of thing on one UTC day (`YYYY-MM-DD`). */
export interface DayCount {
  day: string;
  key: string;
  n: number;
}

/** What a shop's dashboard shows, read in one place so the charts never run SQL of their own. */
export interface ActivityReport {
  /** Opt-ins requested, confirmed and one-click unsubscribes per day (key: the audit action). */
  funnel: DayCount[];
  /** Consent that changed per day, key `<purpose>:granted` or `<purpose>:withdrawn`. */
  changes: DayCount[];
  /** Current consent per purpose and state (everyone the shop holds). */
  states: Array<{ purpose: string; state: string; n: number }>;
  /**
   * Revenue per day (key `revenue`) of order lines whose product a marketing email featured to the buyer in
   * the `ATTRIBUTION_DAYS` before the order; each line counts once, however many emails featured it.
   */
  revenue: DayCount[];
  /** People the shop holds (erased ones not counted). */
  subjects: number;
}

const numbers = <T extends { n: unknown }>(list: T[]) => list.map((r) => ({ ...r, n: Number(r.n) }));

/** The shop's activity since `since` (the consent funnel, consent changes, attributed revenue). */
export async function activityReport(db: Db, shopId: string, since: Date): Promise<ActivityReport> {
  const funnel = await rows<DayCount>(
    db,
    sql`select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day, action as key, count(*)::int as n
          from audit_log
         where shop_id = ${shopId} and at >= ${since}
           and action in ('consent.opt_in_requested', 'consent.opt_in_confirmed', 'consent.unsubscribed')
         group by 1, 2`,
  );
  const changes = await rows<DayCount>(
    db,
    sql`select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day,
               (details->>'purpose') || ':' || (details->>'result') as key, count(*)::int as n
          from audit_log
         where shop_id = ${shopId} and at >= ${since} and action = 'consent.recorded'
           and details->>'changed' = 'true' and details->>'result' in ('granted', 'withdrawn')
         group by 1, 2`,
  );
  const states = await rows<{ purpose: string; state: string; n: number }>(
    db,
    sql`select purpose, state, count(*)::int as n from consent_state where shop_id = ${shopId}
         group by 1, 2 order by 1, 2`,
  );
  const revenue = await rows<DayCount>(
    db,
    sql`select to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, 'revenue' as key,
               coalesce(sum(coalesce(nullif(l.price, '')::numeric, 0) * l.quantity), 0)::float8 as n
          from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id
         where o.shop_id = ${shopId} and o.counted and o.created_at >= ${since} and o.subject_id is not null
           and exists (select 1 from contact_sends s
                        where s.shop_id = o.shop_id and s.subject_id = o.subject_id
                          and s.product_ids ? l.product_id and s.sent_at <= o.created_at
                          and s.sent_at > o.created_at - make_interval(days => ${ATTRIBUTION_DAYS}))
         group by 1`,
  );
  const [held] = await rows<{ n: number }>(
    db,
    sql`select count(*)::int as n from subjects where shop_id = ${shopId} and erased_at is null`,
  );
  return {
    funnel: numbers(funnel),
    changes: numbers(changes),
    states: numbers(states),
    revenue: numbers(revenue),
    subjects: Number(held?.n ?? 0),
  };
}
