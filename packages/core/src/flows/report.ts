/**
 * What a flow earns, computed from stored steps and orders only. Recipients (steps sent) are compared with the
 * holdout (steps that were just as eligible and were kept back by the seeded draw): each step's outcome is the
 * person's counted orders in the `attributionDays` after it was sent or held out, and their order totals. The
 * difference of the two groups' means carries a 95 % confidence interval by the normal approximation to the
 * difference of two independent means with unequal variances (Welch's standard error, z = 1.96); for conversion
 * the same with the binomial variance p(1-p). Incremental revenue is the revenue difference per person times
 * the recipients, with its interval scaled alike.
 */
import { sql } from 'drizzle-orm';
import { ATTRIBUTION_DAYS } from '../campaign/stats.js';
import type { ShopContext } from '../shop/context.js';
import { rows } from '../store/open.js';

export interface GroupOutcome {
  /** Steps (one per order) in the group. */
  people: number;
  orders: number;
  /** Steps followed by at least one order. */
  buyers: number;
  revenue: number;
  conversion: number;
  ordersPerPerson: number;
  revenuePerPerson: number;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

export interface FlowComparison {
  attributionDays: number;
  recipients: GroupOutcome;
  holdout: GroupOutcome;
  /** Recipients minus holdout; null while either group is empty. */
  conversionLift: Interval | null;
  revenuePerPersonLift: Interval | null;
  /** What the flow's emails earned beyond what would have sold anyway: the lift per person times the recipients. */
  incrementalRevenue: Interval | null;
  method: string;
}

export interface FunnelDay {
  day: string;
  triggered: number;
  waiting: number;
  sent: number;
  heldOut: number;
  opened: number;
  clicked: number;
  bought: number;
}

export interface FlowReport {
  flowId: string;
  comparison: FlowComparison;
  funnel: FunnelDay[];
  /** Steps per status now. */
  statuses: Record<string, number>;
  /** Why steps were skipped or exited, and how many. */
  reasons: Array<{ status: string; reason: string; steps: number }>;
}

export const COMPARISON_METHOD =
  "difference of means, 95 % interval by the normal approximation with Welch's standard error (z = 1.96)";

/** One step's outcome: its group and what the person bought within the window after it. */
export interface StepOutcome {
  group: 'recipients' | 'holdout';
  orders: number;
  revenue: number;
}

export async function stepOutcomes(ctx: ShopContext, flowId: string, attributionDays: number): Promise<StepOutcome[]> {
  const found = await rows<{ status: string; orders: number; revenue: number }>(
    ctx.db,
    sql`select s.status, count(o.order_id)::int as orders,
          coalesce(sum(case when o.total_price ~ '^-?[0-9]+(\\.[0-9]+)?$' then o.total_price::numeric else 0 end), 0)::float8 as revenue
        from flow_steps s
        left join orders o on o.shop_id = s.shop_id and o.subject_id = s.subject_id and o.counted
          and o.created_at > s.decided_at and o.created_at <= s.decided_at + make_interval(days => ${attributionDays})
        where s.shop_id = ${ctx.shopId} and s.flow_id = ${flowId} and s.status in ('sent', 'held_out')
        group by s.shop_id, s.flow_id, s.order_id, s.status`,
  );
  return found.map((r) => ({
    group: r.status === 'sent' ? 'recipients' : 'holdout',
    orders: r.orders,
    revenue: r.revenue,
  }));
}

function outcome(list: readonly StepOutcome[]): GroupOutcome {
  const people = list.length;
  const orders = list.reduce((n, s) => n + s.orders, 0);
  const buyers = list.filter((s) => s.orders > 0).length;
  const revenue = list.reduce((n, s) => n + s.revenue, 0);
  return {
    people,
    orders,
    buyers,
    revenue,
    conversion: people ? buyers / people : 0,
    ordersPerPerson: people ? orders / people : 0,
    revenuePerPerson: people ? revenue / people : 0,
  };
}

function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
}

/** Mean of a minus mean of b, ± 1.96 Welch standard errors. */
export function differenceInterval(a: readonly number[], b: readonly number[]): Interval | null {
  if (a.length === 0 || b.length === 0) return null;
  const mean = (v: readonly number[]) => v.reduce((x, y) => x + y, 0) / v.length;
  const estimate = mean(a) - mean(b);
  const se = Math.sqrt(sampleVariance(a) / a.length + sampleVariance(b) / b.length);
  return { estimate, low: estimate - 1.96 * se, high: estimate + 1.96 * se };
}

/** The comparison from step outcomes (pure: the report and its independent test both use plain numbers). */
export function compareGroups(steps: readonly StepOutcome[], attributionDays = ATTRIBUTION_DAYS): FlowComparison {
  const r = steps.filter((s) => s.group === 'recipients');
  const h = steps.filter((s) => s.group === 'holdout');
  const recipients = outcome(r);
  const revenueLift = differenceInterval(
    r.map((s) => s.revenue),
    h.map((s) => s.revenue),
  );
  const scale = (i: Interval | null, k: number) =>
    i ? { estimate: i.estimate * k, low: i.low * k, high: i.high * k } : null;
  return {
    attributionDays,
    recipients,
    holdout: outcome(h),
    conversionLift: differenceInterval(
      r.map((s) => (s.orders > 0 ? 1 : 0)),
      h.map((s) => (s.orders > 0 ? 1 : 0)),
    ),
    revenuePerPersonLift: revenueLift,
    incrementalRevenue: scale(revenueLift, recipients.people),
    method: COMPARISON_METHOD,
  };
}

/** Per day: steps triggered, that had to wait, sent, held out; the waves' opens and clicks; sends followed by an order. */
export async function flowFunnel(ctx: ShopContext, flowId: string, attributionDays: number): Promise<FunnelDay[]> {
  const days = new Map<string, FunnelDay>();
  const day = (d: string) => {
    let row = days.get(d);
    if (!row)
      days.set(d, (row = { day: d, triggered: 0, waiting: 0, sent: 0, heldOut: 0, opened: 0, clicked: 0, bought: 0 }));
    return row;
  };
  const steps = await rows<{ created: string; decided: string | null; status: string; waits: number; bought: boolean }>(
    ctx.db,
    sql`select to_char(s.created_at at time zone 'UTC', 'YYYY-MM-DD') as created,
          to_char(s.decided_at at time zone 'UTC', 'YYYY-MM-DD') as decided, s.status, s.waits,
          exists (select 1 from orders o where o.shop_id = s.shop_id and o.subject_id = s.subject_id and o.counted
            and o.created_at > s.decided_at and o.created_at <= s.decided_at + make_interval(days => ${attributionDays})) as bought
        from flow_steps s where s.shop_id = ${ctx.shopId} and s.flow_id = ${flowId}`,
  );
  for (const s of steps) {
    const created = day(s.created);
    created.triggered += 1;
    if (s.waits > 0 || s.status === 'waiting') created.waiting += 1;
    if (!s.decided) continue;
    const decided = day(s.decided);
    if (s.status === 'sent') {
      decided.sent += 1;
      if (s.bought) decided.bought += 1;
    } else if (s.status === 'held_out') decided.heldOut += 1;
  }
  const waves = await rows<{ sent: string; opens: number; clicks: number }>(
    ctx.db,
    sql`select to_char(sent_at at time zone 'UTC', 'YYYY-MM-DD') as sent, sum(opens)::int as opens, sum(clicks)::int as clicks
        from campaign_waves where shop_id = ${ctx.shopId} and campaign like ${`flow-${flowId}-%`} and sent_at is not null
        group by 1`,
  );
  for (const w of waves) {
    day(w.sent).opened += w.opens;
    day(w.sent).clicked += w.clicks;
  }
  return [...days.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export async function flowReport(
  ctx: ShopContext,
  flowId: string,
  attributionDays = ATTRIBUTION_DAYS,
): Promise<FlowReport> {
  const statuses = await rows<{ status: string; steps: number }>(
    ctx.db,
    sql`select status, count(*)::int as steps from flow_steps where shop_id = ${ctx.shopId} and flow_id = ${flowId} group by status`,
  );
  const reasons = await rows<{ status: string; reason: string; steps: number }>(
    ctx.db,
    sql`select status, reason, count(*)::int as steps from flow_steps
        where shop_id = ${ctx.shopId} and flow_id = ${flowId} and status in ('skipped', 'exited', 'waiting') and reason is not null
        group by status, reason order by 3 desc limit 20`,
  );
  return {
    flowId,
    comparison: compareGroups(await stepOutcomes(ctx, flowId, attributionDays), attributionDays),
    funnel: await flowFunnel(ctx, flowId, attributionDays),
    statuses: Object.fromEntries(statuses.map((s) => [s.status, s.steps])),
    reasons,
  };
}
