import { formatMoney, type Tactful } from '@tactful/core';
import type { ChartSpec, DashboardData } from '../../dashboard-data.js';
import { html, jsonForScript, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';
import type { ChecklistItem } from '../checklist.js';
import { checklistSection } from './connections.js';

export function chartCard(name: string, title: string, note?: SafeHtml | string): SafeHtml {
  return html`<section class="card"><h2>${title}</h2><div class="chart"><canvas data-chart="${name}" role="img" aria-label="${title}"></canvas></div>${note ? html`<p class="small muted">${note}</p>` : ''}</section>`;
}

/** An admin page with charts: /assets/dashboard.js draws each `canvas[data-chart]` from the JSON block. */
export function chartPage(title: string, current: string, body: SafeHtml, charts: Record<string, ChartSpec>): string {
  return page({
    title,
    admin: { current },
    body: html`${body}<script type="application/json" id="chart-data">${jsonForScript(charts)}</script>`,
    scripts: ['/assets/chart.umd.min.js', '/assets/dashboard.js'],
  });
}

export interface Dashboard {
  days: number;
  data: DashboardData;
  /** Messages waiting in the outbox to connected systems, by state. */
  outbox: Awaited<ReturnType<Tactful['outbox']['counts']>>;
  currency: string;
  /** What is missing before the first send. */
  checklist: ChecklistItem[];
}

export function dashboardPage({ days, data, outbox, currency, checklist }: Dashboard): string {
  const t = data.totals;
  const body = html`<h1>Dashboard</h1>
${checklist.every((i) => i.done) ? html`<p class="small muted" data-checklist-missing="0">Ready to send: every item of the <a href="/admin/connections">setup checklist</a> is done.</p>` : checklistSection(checklist)}
<form class="inline" method="get" action="/admin"><label>Period <select name="days">${[7, 30, 90, 365].map((d) => html`<option value="${d}"${d === days ? html` selected` : ''}>last ${d} days</option>`)}</select></label><button type="submit" class="secondary">Show</button></form>
<div class="grid" style="margin-top:1rem">
<section class="card"><h2>Audience (email offers)</h2><p><strong>${t.granted}</strong> granted · <strong>${t.pending}</strong> pending · <strong>${t.withdrawn}</strong> withdrawn · ${t.subjects} people known</p>
<p class="small muted">In the period: ${t.requested} opt-ins requested, ${t.confirmed} confirmed${t.requested > 0 ? ` (${Math.round((100 * t.confirmed) / t.requested)}%)` : ''}, ${t.unsubscribed} one-click unsubscribes.</p></section>
<section class="card"><h2>Integrity and sync</h2><p><a href="/admin/audit/verify">Verify the hash chains</a> of the consent ledger and the audit log (reads them whole).</p>
<p class="small muted">Outbox to connected systems: ${Object.entries(outbox)
    .map(([k, v]) => `${String(v)} ${k}`)
    .join(', ')}.</p></section>
</div>
<div class="grid">
${chartCard('funnel', 'Consent funnel: requested → confirmed')}
${chartCard('changes', 'Grants and withdrawals')}
${chartCard('audience', 'Audience by state')}
${chartCard('unsubscribes', 'Unsubscribes')}
</div>
<section class="card"><h2>Campaigns: sends, opens, clicks and unsubscribes</h2>${
    data.campaigns === 0
      ? html`<p class="empty">No campaign was sent yet: see <a href="/admin/campaign">Campaign</a>.</p>`
      : html`<div class="chart"><canvas data-chart="campaigns" role="img" aria-label="Sends, opens, clicks and unsubscribes per campaign"></canvas></div>`
  }<p class="small muted">Opens, clicks and unsubscribes are the provider's reports (unique people), fetched with each send and on request from the Campaign page.</p></section>
<section class="card"><h2>Revenue from recommended products</h2>${
    data.recommendedRevenue === 0
      ? html`<p class="empty">No order in this period contains a product that an email featured to the buyer in the 30 days before.</p>`
      : html`<p><strong>${formatMoney(data.recommendedRevenue, currency)}</strong> in the period.</p><div class="chart"><canvas data-chart="revenue" role="img" aria-label="Revenue from recommended products per day"></canvas></div>`
  }<p class="small muted">An order line counts when the buyer was sent an email featuring that product in the 30 days before the order; amounts are summed as recorded, in the shop's currency.</p></section>`;
  return chartPage('Dashboard', '/admin', body, data.charts as unknown as Record<string, ChartSpec>);
}
