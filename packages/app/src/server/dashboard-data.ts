import type { AuditRow, Tactful } from '@tactful/core';

/**
 * The dashboard's numbers, read with SQL from the store. The audit log is the source of the funnel and of
 * grants and withdrawals over time (one row per recorded change); `consent_state` gives the audience now.
 */
export interface Series {
  label: string;
  data: number[];
  /** A fixed colour (grants green, withdrawals red); otherwise the palette's next one. */
  color?: string;
}

const stateColors: Record<string, string> = { granted: '#1d7a46', pending: '#9a5b00', withdrawn: '#a32020' };
const grantShades = ['#1d7a46', '#6dbb8a', '#0f4d2b'];
const withdrawShades = ['#a32020', '#e08585', '#5e1010'];
export interface ChartSpec {
  type: 'line' | 'bar' | 'doughnut';
  labels: string[];
  datasets: Series[];
  stacked?: boolean;
  /** Axis titles, when the labels alone do not say what is plotted. */
  xTitle?: string;
  yTitle?: string;
}

export function dayLabels(until: Date, days: number): string[] {
  const end = Date.UTC(until.getUTCFullYear(), until.getUTCMonth(), until.getUTCDate());
  return Array.from({ length: days }, (_, i) => new Date(end - (days - 1 - i) * 86400_000).toISOString().slice(0, 10));
}

function perDay(
  labels: string[],
  rows: ReadonlyArray<{ day: string; key: string; n: number }>,
  keys: ReadonlyArray<[string, string]>,
): Series[] {
  const index = new Map(labels.map((d, i) => [d, i]));
  return keys.map(([key, label]) => {
    const data = labels.map(() => 0);
    for (const r of rows) {
      const i = index.get(r.day);
      if (r.key === key && i !== undefined) data[i] = (data[i] ?? 0) + Number(r.n);
    }
    const state = /(granted|pending|withdrawn)$/.exec(key)?.[1];
    return state ? { label, data, color: stateColors[state]! } : { label, data };
  });
}

export interface DashboardData {
  days: number;
  totals: {
    subjects: number;
    granted: number;
    pending: number;
    withdrawn: number;
    requested: number;
    confirmed: number;
    unsubscribed: number;
  };
  charts: {
    funnel: ChartSpec;
    changes: ChartSpec;
    audience: ChartSpec;
    unsubscribes: ChartSpec;
    campaigns: ChartSpec;
    revenue: ChartSpec;
  };
  /** Campaigns with at least one send. */
  campaigns: number;
  /** Revenue of order lines whose product a marketing email featured to the buyer in the 30 days before. */
  recommendedRevenue: number;
}

export async function dashboardData(tactful: Tactful, days: number): Promise<DashboardData> {
  const now = tactful.now();
  const labels = dayLabels(now, days);
  const since = new Date(`${labels[0]}T00:00:00Z`);
  const q = tactful.store.query.bind(tactful.store);
  const shop = tactful.shopId;

  const funnelRows = await q<{ day: string; key: string; n: number }>(
    `select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day, action as key, count(*)::int as n from audit_log
      where shop_id = $1 and at >= $2 and action in ('consent.opt_in_requested', 'consent.opt_in_confirmed', 'consent.unsubscribed')
      group by 1, 2`,
    [shop, since],
  );
  const changeRows = await q<{ day: string; key: string; n: number }>(
    `select to_char(at at time zone 'UTC', 'YYYY-MM-DD') as day, (details->>'purpose') || ':' || (details->>'result') as key, count(*)::int as n from audit_log
      where shop_id = $1 and at >= $2 and action = 'consent.recorded' and details->>'changed' = 'true' and details->>'result' in ('granted', 'withdrawn')
      group by 1, 2`,
    [shop, since],
  );
  const stateRows = await q<{ purpose: string; state: string; n: number }>(
    'select purpose, state, count(*)::int as n from consent_state where shop_id = $1 group by 1, 2 order by 1, 2',
    [shop],
  );
  // Attribution: an order line counts when the buyer was sent an email featuring that product in the 30 days
  // before the order (each line once, however many emails featured it).
  const revenueRows = await q<{ day: string; key: string; n: number }>(
    `select to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD') as day, 'revenue' as key,
            coalesce(sum(coalesce(nullif(l.price, '')::numeric, 0) * l.quantity), 0)::float8 as n
       from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id
      where o.shop_id = $1 and o.counted and o.created_at >= $2 and o.subject_id is not null
        and exists (select 1 from contact_sends s where s.shop_id = o.shop_id and s.subject_id = o.subject_id
                      and s.product_ids ? l.product_id and s.sent_at <= o.created_at and s.sent_at > o.created_at - interval '30 days')
      group by 1`,
    [shop, since],
  );
  const campaignStats = (await tactful.campaign.stats()).filter((c) => c.sends > 0).slice(-12);
  const [subjects] = await q<{ n: number }>(
    'select count(*)::int as n from subjects where shop_id = $1 and erased_at is null',
    [shop],
  );

  const purposes = (await tactful.purposes.list()).map((p) => p);
  const states = ['granted', 'pending', 'withdrawn'] as const;
  const countState = (purpose: string, state: string) =>
    stateRows.filter((r) => r.purpose === purpose && r.state === state).reduce((s, r) => s + Number(r.n), 0);
  const sum = (rows: ReadonlyArray<{ key: string; n: number }>, key: string) =>
    rows.filter((r) => r.key === key).reduce((s, r) => s + Number(r.n), 0);

  return {
    days,
    totals: {
      subjects: Number(subjects?.n ?? 0),
      granted: countState('email_marketing', 'granted'),
      pending: countState('email_marketing', 'pending'),
      withdrawn: countState('email_marketing', 'withdrawn'),
      requested: sum(funnelRows, 'consent.opt_in_requested'),
      confirmed: sum(funnelRows, 'consent.opt_in_confirmed'),
      unsubscribed: sum(funnelRows, 'consent.unsubscribed'),
    },
    charts: {
      funnel: {
        type: 'line',
        labels,
        datasets: perDay(labels, funnelRows, [
          ['consent.opt_in_requested', 'Opt-ins requested'],
          ['consent.opt_in_confirmed', 'Opt-ins confirmed'],
        ]),
      },
      changes: {
        type: 'bar',
        labels,
        stacked: true,
        // Greens for grants, reds for withdrawals, one shade per purpose.
        datasets: perDay(
          labels,
          changeRows,
          purposes.flatMap(
            (p): Array<[string, string]> => [
              [`${p.key}:granted`, `${p.title}: granted`],
              [`${p.key}:withdrawn`, `${p.title}: withdrawn`],
            ],
          ),
        ).map((series, i) => ({
          ...series,
          color: (i % 2 === 0 ? grantShades : withdrawShades)[Math.floor(i / 2) % 3]!,
        })),
      },
      audience: {
        type: 'bar',
        labels: purposes.map((p) => p.title),
        stacked: true,
        datasets: states.map((s) => ({
          label: s,
          data: purposes.map((p) => countState(p.key, s)),
          color: stateColors[s]!,
        })),
      },
      unsubscribes: {
        type: 'bar',
        labels,
        datasets: perDay(labels, funnelRows, [['consent.unsubscribed', 'One-click unsubscribes']]),
      },
      revenue: {
        type: 'bar',
        labels,
        datasets: perDay(labels, revenueRows, [['revenue', 'Revenue from recommended products']]).map((d) => ({
          ...d,
          data: d.data.map((v) => Math.round(v * 100) / 100),
        })),
      },
      campaigns: {
        type: 'bar',
        labels: campaignStats.map((c) => c.name),
        datasets: [
          { label: 'Sent', data: campaignStats.map((c) => c.sends) },
          { label: 'Opened', data: campaignStats.map((c) => c.opens) },
          { label: 'Clicked', data: campaignStats.map((c) => c.clicks) },
          { label: 'Unsubscribed', data: campaignStats.map((c) => c.unsubscribes), color: '#a32020' },
        ],
      },
    },
    campaigns: campaignStats.length,
    recommendedRevenue: Math.round(revenueRows.reduce((sum, r) => sum + Number(r.n), 0) * 100) / 100,
  };
}

export interface AuditFilter {
  action?: string | undefined;
  subjectId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
}

/** An audit entry as the admin page shows it: the stored row without its chain hashes. */
export type AuditRowView = Omit<AuditRow, 'shopId' | 'prevHash' | 'rowHash'>;

/** A page of the audit log, newest first. */
export async function auditPage(
  tactful: Tactful,
  filter: AuditFilter,
  limit: number,
  offset: number,
): Promise<{ rows: AuditRowView[]; total: number }> {
  const where = ['shop_id = $1'];
  const params: unknown[] = [tactful.shopId];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (filter.action) add('action = ?', filter.action);
  if (filter.subjectId) add('subject_id = ?', filter.subjectId);
  if (filter.since) add('at >= ?', filter.since);
  if (filter.until) add('at <= ?', filter.until);
  const clause = where.join(' and ');
  const [count] = await tactful.store.query<{ n: number }>(
    `select count(*)::int as n from audit_log where ${clause}`,
    params,
  );
  const rows = await tactful.store.query<{
    seq: number | string;
    at: Date | string;
    action: string;
    actor_type: string;
    actor_id: string;
    subject_id: string | null;
    details: Record<string, unknown> | string;
  }>(
    `select seq, at, action, actor_type, actor_id, subject_id, details from audit_log where ${clause} order by seq desc limit ${Math.trunc(limit)} offset ${Math.trunc(offset)}`,
    params,
  );
  return {
    total: Number(count?.n ?? 0),
    rows: rows.map((r) => ({
      seq: Number(r.seq),
      at: new Date(r.at),
      action: r.action,
      actorType: r.actor_type,
      actorId: r.actor_id,
      subjectId: r.subject_id,
      details: typeof r.details === 'string' ? (JSON.parse(r.details) as Record<string, unknown>) : r.details,
    })),
  };
}

/** The most bought products of the model, for the recommendations explorer's picker. */
export async function topProducts(
  tactful: Tactful,
  limit = 100,
): Promise<Array<{ productId: string; title: string; count: number }>> {
  const rows = await tactful.store.query<{ product_id: string; title: string | null; count: number }>(
    `select m.product_id, p.title, m.count from model_products m left join products p on p.shop_id = m.shop_id and p.product_id = m.product_id
      where m.shop_id = $1 order by m.count desc, m.product_id limit ${Math.trunc(limit)}`,
    [tactful.shopId],
  );
  return rows.map((r) => ({ productId: r.product_id, title: r.title ?? r.product_id, count: Number(r.count) }));
}
