import {
  COMPARISON_METHOD,
  formatMoney,
  type FlowConfig,
  type FlowReport,
  type Interval,
  type StepPreview,
} from '@tactful/core';
import type { ChartSpec } from '../../dashboard-data.js';
import { html, type SafeHtml } from '../../html.js';
import { chartCard, chartPage } from './dashboard.js';

export interface FlowsView {
  flow: FlowConfig;
  report: FlowReport;
  preview: StepPreview[];
  /** Why there is no preview (no provider, …), when there is none. */
  previewNote?: string | undefined;
  delivery: string;
  currency: string;
  ok?: string | undefined;
  error?: string | undefined;
}

const verdictWords: Record<StepPreview['verdict'], string> = {
  send: 'will get it',
  hold_out: 'held out',
  wait: 'waits',
  skip: 'skipped',
  exit: 'leaves the flow',
};

function settingsForm(flow: FlowConfig): SafeHtml {
  return html`<form method="post" action="/admin/flows" class="card"><h2>Settings</h2>
<input type="hidden" name="flow" value="${flow.flowId}">
<label class="check"><input type="checkbox" name="enabled"${flow.enabled ? html` checked` : ''}><span>On: some days after each paid order, the customer gets the products that go with it</span></label>
<div class="grid"><label>Delay (days after the order is paid)<br><input type="number" name="delayDays" min="0" max="90" value="${flow.delayDays}" required></label>
<label>Holdout (% kept back to measure the flow)<br><input type="number" name="holdoutPercent" min="0" max="50" step="0.1" value="${Math.round(flow.holdoutShare * 1000) / 10}" required></label></div>
<div class="grid"><label>Send window from (customer's time)<br><input type="text" name="windowStart" value="${flow.window.start}" placeholder="09:00" required></label>
<label>to<br><input type="text" name="windowEnd" value="${flow.window.end}" placeholder="20:00" required></label></div>
<div class="grid"><label>Journey id (Mailchimp Customer Journey)<br><input type="text" name="journeyId" value="${flow.journeyId ?? ''}" placeholder="none: daily campaign waves"></label>
<label>Journey step id<br><input type="text" name="stepId" value="${flow.stepId ?? ''}"></label></div>
<div class="grid"><label>Products per email<br><input type="number" name="maxProducts" min="1" max="3" value="${flow.maxProducts}" required></label>
<label>Subject line (waves)<br><input type="text" name="subject" value="${flow.subject}" required maxlength="150"></label></div>
<button type="submit">Save</button></form>`;
}

function previewCard(preview: readonly StepPreview[], note: string | undefined): SafeHtml {
  const body =
    preview.length === 0
      ? html`<p class="muted">${note ?? 'Nothing is scheduled: steps appear here when paid orders arrive while the flow is on.'}</p>`
      : html`<table><thead><tr><th>Due (UTC)</th><th>Customer</th><th>Order</th><th>Outcome</th><th>What, or why not</th></tr></thead><tbody>${preview.map(
          (p) =>
            html`<tr><td>${p.dueAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td>${p.email ?? '(erased)'}</td><td>${p.orderId}</td><td>${verdictWords[p.verdict]}</td><td>${p.detail}</td></tr>`,
        )}</tbody></table>`;
  return html`<section class="card"><h2>Next steps due</h2><p class="small muted">Each decided as of its due time, the way the runner will decide it; nothing is sent from here.</p>${body}</section>`;
}

function comparisonCard(report: FlowReport, currency: string): SafeHtml {
  const c = report.comparison;
  const money = (x: number) => formatMoney(x, currency);
  const range = (i: Interval | null, f: (x: number) => string) =>
    i
      ? html`<strong>${f(i.estimate)}</strong> (95 % interval ${f(i.low)} to ${f(i.high)})`
      : html`not yet: a group is empty`;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  return html`<section class="card"><h2>Recipients against the holdout</h2>
<table><thead><tr><th></th><th class="num">Recipients</th><th class="num">Holdout</th></tr></thead><tbody>
<tr><td>People (one per order)</td><td class="num">${c.recipients.people}</td><td class="num">${c.holdout.people}</td></tr>
<tr><td>Orders within ${c.attributionDays} days</td><td class="num">${c.recipients.orders}</td><td class="num">${c.holdout.orders}</td></tr>
<tr><td>Conversion</td><td class="num">${pct(c.recipients.conversion)}</td><td class="num">${pct(c.holdout.conversion)}</td></tr>
<tr><td>Revenue per person</td><td class="num">${money(c.recipients.revenuePerPerson)}</td><td class="num">${money(c.holdout.revenuePerPerson)}</td></tr>
</tbody></table>
<p>Incremental revenue: ${range(c.incrementalRevenue, money)}. Revenue per person: ${range(c.revenuePerPersonLift, money)} more. Conversion: ${range(c.conversionLift, (x) => `${(x * 100).toFixed(1)} points`)}.</p>
<p class="small muted">Method: ${COMPARISON_METHOD}. The holdout is a seeded draw among steps that were just as eligible; an interval that includes 0 means the flow's effect is not yet shown.</p></section>`;
}

function charts(report: FlowReport): Record<string, ChartSpec> {
  const f = report.funnel;
  const c = report.comparison;
  return {
    flowFunnel: {
      type: 'bar',
      labels: f.map((d) => d.day),
      datasets: [
        { label: 'Triggered', data: f.map((d) => d.triggered) },
        { label: 'Waited', data: f.map((d) => d.waiting) },
        { label: 'Sent', data: f.map((d) => d.sent) },
        { label: 'Opened', data: f.map((d) => d.opened) },
        { label: 'Clicked', data: f.map((d) => d.clicked) },
        { label: 'Bought', data: f.map((d) => d.bought) },
      ],
      yTitle: 'steps',
    },
    flowHoldout: {
      type: 'bar',
      labels: ['Conversion (%)', 'Orders per 100 people', 'Revenue per person'],
      datasets: [
        {
          label: 'Recipients',
          data: [c.recipients.conversion * 100, c.recipients.ordersPerPerson * 100, c.recipients.revenuePerPerson],
        },
        {
          label: 'Holdout',
          data: [c.holdout.conversion * 100, c.holdout.ordersPerPerson * 100, c.holdout.revenuePerPerson],
        },
      ],
    },
  };
}

export function flowsPage(view: FlowsView): string {
  const { flow, report } = view;
  const statuses = Object.entries(report.statuses);
  const body = html`<h1>Flows: related products after a purchase</h1>
${view.ok ? html`<div class="notice ok" role="status">${view.ok}</div>` : ''}${view.error ? html`<div class="notice error" role="alert">${view.error}</div>` : ''}
<p>${flow.enabled ? html`<strong>On.</strong>` : html`<strong>Off.</strong>`} ${flow.delayDays} days after each paid order, between ${flow.window.start} and ${flow.window.end} in the customer's time zone; ${Math.round(flow.holdoutShare * 1000) / 10} % held out. Delivery: ${view.delivery}.</p>
${settingsForm(flow)}
${previewCard(view.preview, view.previewNote)}
${comparisonCard(report, view.currency)}
${chartCard('flowHoldout', 'Holdout comparison', 'Recipients and holdout side by side, from stored steps and orders.')}
${chartCard('flowFunnel', 'Funnel per day', 'Triggered and waited by the day the order arrived; sent and bought by the day of the send; opens and clicks from the campaign waves’ reports (a journey’s are in Mailchimp).')}
<section class="card"><h2>Steps now</h2>${
    statuses.length === 0
      ? html`<p class="muted">No steps yet.</p>`
      : html`<table><thead><tr><th>Status</th><th class="num">Steps</th></tr></thead><tbody>${statuses.map(
          ([s, n]) => html`<tr><td>${s}</td><td class="num">${n}</td></tr>`,
        )}</tbody></table>`
  }${
    report.reasons.length === 0
      ? ''
      : html`<table><thead><tr><th>Status</th><th>Why</th><th class="num">Steps</th></tr></thead><tbody>${report.reasons.map(
          (r) => html`<tr><td>${r.status}</td><td>${r.reason}</td><td class="num">${r.steps}</td></tr>`,
        )}</tbody></table>`
  }</section>`;
  return chartPage('Flows', '/admin/flows', body, charts(report));
}
