import express, { type Request, type Router } from 'express';
import { formatMoney, isTactfulError, type Tactful } from '@tactful/core';
import type { ChartSpec } from '../dashboard-data.js';
import { html, jsonForScript, type SafeHtml } from '../html.js';
import { page } from '../layout.js';

const example = JSON.stringify(
  { all: [{ consent: { purpose: 'email_marketing', state: 'granted' } }, { orderCount: { min: 1 } }] },
  null,
  2,
);

function pct(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

/** The ranks (1-based) a Pareto chart of `n` members plots: all of them up to 200, else 200 spread evenly. */
export function paretoRanks(n: number, points = 200): number[] {
  if (n <= points) return Array.from({ length: n }, (_, i) => i + 1);
  return Array.from({ length: points }, (_, i) => 1 + Math.round((i * (n - 1)) / (points - 1)));
}

/** Saved segments with their size, a preview of any definition, and the Pareto and RFM views. */
export function adminSegments(tactful: Tactful): Router {
  const router = express.Router();

  async function render(
    req: Request,
    status: number,
    notice?: { kind: 'ok' | 'error'; text: string },
    draft?: { name: string; definition: string },
  ): Promise<[number, string]> {
    const saved = await tactful.segments.list();
    const sizes = await Promise.all(saved.map((s) => tactful.segments.preview(s.definition, 0).then((p) => p.count)));
    const definition = draft?.definition ?? (typeof req.query.definition === 'string' ? req.query.definition : '');
    let preview: SafeHtml | string = '';
    if (definition.trim() !== '' && notice?.kind !== 'error') {
      try {
        const result = await tactful.segments.preview(JSON.parse(definition), 10);
        preview = html`<div class="notice ok" role="status"><strong>${result.count}</strong> of ${result.profiles} profiles match.</div>
${result.sample.length > 0 ? html`<p class="small muted">Sample: ${result.sample.map((s, i) => html`${i > 0 ? ', ' : ''}<a href="/admin/audit?subject=${encodeURIComponent(s.subjectId)}">${s.email}</a>`)}</p>` : ''}`;
      } catch (error) {
        if (!isTactfulError(error) && !(error instanceof SyntaxError)) throw error;
        status = 400;
        preview = html`<div class="notice error" role="alert">${error instanceof SyntaxError ? `The definition is not valid JSON: ${error.message}` : (error as Error).message}</div>`;
      }
    }
    const threshold = Math.min(0.99, Math.max(0.5, Number(req.query.threshold) || 0.8));
    const pareto = await tactful.segments.pareto(threshold);
    const { currency } = await tactful.settings.get();
    const money = (n: number) => formatMoney(n, currency);
    const rfm = await tactful.segments.rfm();
    const charts: Record<string, ChartSpec> = {
      rfm: {
        type: 'bar',
        labels: rfm.labels.map((l) => l.label.replace(/_/g, ' ')),
        datasets: [{ label: 'Customers', data: rfm.labels.map((l) => l.customers) }],
      },
      // Every member up to the threshold, largest first: at most 200 points, evenly spread, always the last
      // (where the curve crosses the threshold), so the line ends where the sentence above says it does.
      pareto: {
        type: 'line',
        labels: paretoRanks(pareto.members.length).map(String),
        xTitle: 'customers, largest revenue first',
        yTitle: 'cumulative share of revenue (%)',
        datasets: [
          {
            label: 'Cumulative share of revenue (%)',
            data: paretoRanks(pareto.members.length).map(
              (rank) => Math.round(pareto.members[rank - 1]!.cumulativeShare * 1000) / 10,
            ),
          },
        ],
      },
    };
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
<td><a href="/admin/segments?definition=${encodeURIComponent(JSON.stringify(s.definition, null, 2))}">preview</a>
<form method="post" action="/admin/segments/delete" style="display:inline"><input type="hidden" name="name" value="${s.name}"><button class="secondary" type="submit">Delete</button></form></td></tr>`,
          )}</tbody></table>`
    }</section>
<section class="card"><h2>Preview a segment</h2>
<form method="get" action="/admin/segments"><label>Definition (JSON)<br><textarea name="definition" rows="8" style="width:100%" class="mono">${definition || example}</textarea></label>
<button type="submit">Preview</button></form>
${preview}
<form method="post" action="/admin/segments" class="inline" style="margin-top:.8rem"><input type="hidden" name="definition" value="${definition || example}">
<label>Save as<br><input type="text" name="name" value="${draft?.name ?? ''}" required></label><button type="submit" class="secondary">Save segment</button></form>
<p class="small muted">Predicates: attribute, ageBand, location, interests, rfm, rfmLabel, purchased, orderCount, revenue, consent; combine with all, any, not.</p></section>
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
    return [
      status,
      page({
        title: 'Segments',
        admin: { current: '/admin/segments' },
        body,
        scripts: ['/assets/chart.umd.min.js', '/assets/dashboard.js'],
      }),
    ];
  }

  router.get('/admin/segments', async (req, res) => {
    const saved = typeof req.query.saved === 'string' ? req.query.saved : undefined;
    const [status, out] = await render(req, 200, saved ? { kind: 'ok', text: `Segment "${saved}" saved.` } : undefined);
    res.status(status).send(out);
  });

  router.post('/admin/segments', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === 'string' ? body.name.trim() : '';
    const definition = typeof body.definition === 'string' ? body.definition : '';
    try {
      if (name === '') throw new SyntaxError('give the segment a name');
      await tactful.segments.save(name, JSON.parse(definition));
      res.redirect(303, `/admin/segments?saved=${encodeURIComponent(name)}`);
    } catch (error) {
      if (!isTactfulError(error) && !(error instanceof SyntaxError)) throw error;
      const [, out] = await render(
        req,
        400,
        { kind: 'error', text: `${error.message}. Nothing was saved.` },
        { name, definition },
      );
      res.status(400).send(out);
    }
  });

  router.post('/admin/segments/delete', async (req, res) => {
    const name =
      typeof (req.body as Record<string, unknown>)?.name === 'string'
        ? ((req.body as Record<string, unknown>).name as string)
        : '';
    await tactful.segments.delete(name);
    res.redirect(303, '/admin/segments');
  });

  return router;
}
