import { formatMoney, type Tactful } from '@tactful/core';
import type { ChartSpec } from '../../dashboard-data.js';
import { html, jsonForScript, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';

/** What the preview box shows before anything is typed. */
const example = JSON.stringify(
  { all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { orderCount: { min: 1 } }] },
  null,
  2,
);

function pct(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

export interface Segments {
  notice?: { kind: 'ok' | 'error'; text: string } | undefined;
  saved: Awaited<ReturnType<Tactful['segments']['list']>>;
  /** The member count of each saved segment, in the same order. */
  sizes: readonly number[];
  /** The definition in the preview box (empty: the example). */
  definition: string;
  /** The preview's count and sample, or its refusal, or nothing. */
  preview: SafeHtml | string;
  draft?: { name: string; definition: string } | undefined;
  /** What the form builder offers (purposes, states, categories, ...). */
  builder: BuilderOptions;
  pareto: Awaited<ReturnType<Tactful['segments']['pareto']>>;
  rfm: Awaited<ReturnType<Tactful['segments']['rfm']>>;
  currency: string;
  charts: Record<string, ChartSpec>;
}

/** The choices of the form builder's value fields (segment-builder.js reads them from #segment-options). */
export interface BuilderOptions {
  purposes: string[];
  states: string[];
  rfmLabels: string[];
  ageBands: string[];
  categories: string[];
  attributes: string[];
}

export function segmentsPage(c: Segments): string {
  const { notice, saved, sizes, definition, preview, draft, pareto, rfm, charts } = c;
  const money = (n: number) => formatMoney(n, c.currency);
  const body = html`<h1>Segments</h1>
${notice ? html`<div class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</div>` : ''}
<section class="card"><h2>Saved segments</h2>${
    saved.length === 0
      ? html`<p class="empty">No saved segment yet.</p>`
      : html`<table><thead><tr><th>Name</th><th class="num">Members</th><th>Definition</th><th></th></tr></thead><tbody>${saved.map(
          (
            s,
            i,
          ) => html`<tr><td>${s.name}</td><td class="num">${sizes[i] ?? 0}</td><td class="mono small">${JSON.stringify(s.definition)}</td>
<td><a href="/admin/segments?name=${encodeURIComponent(s.name)}&amp;definition=${encodeURIComponent(JSON.stringify(s.definition, null, 2))}">edit</a>
<form method="post" action="/admin/segments/delete" style="display:inline"><input type="hidden" name="name" value="${s.name}"><button class="secondary" type="submit">Delete</button></form></td></tr>`,
        )}</tbody></table>`
  }</section>
<section class="card" aria-labelledby="build-title"><h2 id="build-title">${draft?.name ? `Edit segment "${draft.name}"` : 'Build a segment'}</h2>
<form method="post" action="/admin/segments" id="segment-form" class="stack">
<div id="segment-builder" class="seg-builder" hidden></div>
<noscript><p class="small muted">The form builder needs JavaScript; without it, write the definition as JSON below: it is previewed and saved the same way.</p></noscript>
<div id="segment-live" role="status" aria-live="polite">${preview}</div>
<details class="seg-json" open><summary>Definition as JSON</summary>
<label for="segment-json">Definition (JSON): the form and this text stay in step</label>
<textarea id="segment-json" name="definition" rows="8" class="mono wide" spellcheck="false">${definition || example}</textarea>
<p id="segment-json-error" class="notice error" role="alert" hidden></p>
<p class="small muted">Predicates: attribute, ageBand, location, interests, rfm, rfmLabel, purchased, orderCount, revenue, consent; combine with all, any, not.</p></details>
<div class="inline"><label>Save as (lower-case letters, digits, - and _)<br><input type="text" name="name" value="${draft?.name ?? ''}" required pattern="[a-z0-9][a-z0-9_\\-]{0,63}" maxlength="64"></label>
<button type="submit">Save segment</button>
<button type="submit" class="secondary" formmethod="get" formaction="/admin/segments" formnovalidate>Preview</button></div>
<p class="small muted">Saved segments are offered on the <a href="/admin/campaign">Campaign</a> page (and to flows) as the audience.</p>
</form>
<script type="application/json" id="segment-options">${jsonForScript(c.builder)}</script></section>
<div class="grid">
<section class="card"><h2>Pareto: who brings the revenue</h2>${
    pareto.customers === 0 || pareto.totalRevenue === 0
      ? html`<p class="empty">No revenue from counted orders yet.</p>`
      : html`<p><strong>${pareto.top}</strong> of ${pareto.customers} customers (${pct(pareto.shareOfCustomers)}) bring ${pct(pareto.threshold)} of the revenue (${money(pareto.topRevenue)} of ${money(pareto.totalRevenue)}).</p>
<div class="chart"><canvas data-chart="pareto" role="img" aria-label="Cumulative share of revenue by customer rank"></canvas></div>`
  }</section>
<section class="card"><h2>RFM groups</h2>${
    rfm.customers === 0
      ? html`<p class="empty">No scored customer yet.</p>`
      : html`<div class="chart"><canvas data-chart="rfm" role="img" aria-label="Customers per RFM group"></canvas></div>
<table><thead><tr><th>Group</th><th class="num">Customers</th><th class="num">Share</th><th class="num">Revenue</th><th class="num">R / F / M</th></tr></thead><tbody>${rfm.labels.map(
          (
            l,
          ) => html`<tr><td>${l.label.replace(/_/g, ' ')}</td><td class="num">${l.customers}</td><td class="num">${pct(l.share)}</td><td class="num">${money(l.revenue)}</td>
<td class="num">${l.averageRecency.toFixed(1)} / ${l.averageFrequency.toFixed(1)} / ${l.averageMonetary.toFixed(1)}</td></tr>`,
        )}</tbody></table>`
  }</section></div>
<script type="application/json" id="chart-data">${jsonForScript(charts)}</script>`;
  return page({
    title: 'Segments',
    admin: { current: '/admin/segments' },
    body,
    scripts: ['/assets/chart.umd.min.js', '/assets/dashboard.js', '/assets/segment-builder.js'],
  });
}

/** How many profiles a definition matches, with a few of them linked to their audit trail. */
export function previewResult(result: Awaited<ReturnType<Tactful['segments']['preview']>>): SafeHtml {
  return html`<div class="notice ok" role="status"><strong>${result.count}</strong> of ${result.profiles} profiles match.</div>
${result.sample.length > 0 ? html`<p class="small muted">Sample: ${result.sample.map((s, i) => html`${i > 0 ? ', ' : ''}<a href="/admin/customers/${encodeURIComponent(s.subjectId)}">${s.email}</a>`)}</p>` : ''}`;
}

export function previewRefused(message: string): SafeHtml {
  return html`<div class="notice error" role="alert">${message}</div>`;
}
