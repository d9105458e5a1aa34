import type { AuditRowView, Tactful } from '@tactful/core';

/**
 * The dashboard's charts, drawn from the engine's activity report (`tactful.reports.activity`): the audit log is
 * the source of the funnel and of grants and withdrawals over time; current consent gives the audience now.
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
  /** Revenue of order lines whose product a marketing email featured to the buyer in core's ATTRIBUTION_DAYS before. */
  recommendedRevenue: number;
}

export async function dashboardData(tactful: Tactful, days: number): Promise<DashboardData> {
  const now = tactful.now();
  const labels = dayLabels(now, days);
  const since = new Date(`${labels[0]}T00:00:00Z`);
  // Attribution: an order line counts when the buyer was sent an email featuring that product within core's
  // ATTRIBUTION_DAYS before the order (each line once, however many emails featured it).
  const activity = await tactful.reports.activity(since);
  const { funnel: funnelRows, changes: changeRows, states: stateRows, revenue: revenueRows } = activity;
  const campaignStats = (await tactful.campaign.stats()).filter((c) => c.sends > 0).slice(-12);
  const purposes = (await tactful.purposes.list()).map((p) => p);
  const states = ['granted', 'pending', 'withdrawn'] as const;
  const countState = (purpose: string, state: string) =>
    stateRows.filter((r) => r.purpose === purpose && r.state === state).reduce((s, r) => s + Number(r.n), 0);
  const sum = (rows: ReadonlyArray<{ key: string; n: number }>, key: string) =>
    rows.filter((r) => r.key === key).reduce((s, r) => s + Number(r.n), 0);

  return {
    days,
    totals: {
      subjects: activity.subjects,
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

export type { AuditRowView } from '@tactful/core';

/** A page of the audit log, newest first. */
export function auditPage(
  tactful: Tactful,
  filter: AuditFilter,
  limit: number,
  offset: number,
): Promise<{ rows: AuditRowView[]; total: number }> {
  return tactful.audit.page(filter, { limit, offset });
}

/** The most bought products of the model, for the recommendations explorer's picker. */
export function topProducts(
  tactful: Tactful,
  limit = 100,
): Promise<Array<{ productId: string; title: string; count: number }>> {
  return tactful.recommend.topProducts(limit);
}
