import { auditActions } from '@tactful/core';
import type { AuditRowView } from '../../dashboard-data.js';
import { html } from '../../html.js';
import { page } from '../../layout.js';

function details(value: Record<string, unknown>): string {
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

export interface AuditLog {
  /** The filter as typed, shown back in the form. */
  form: { action: string; email: string; since: string; until: string };
  /** The filter as a query string, for the CSV export and the pager. */
  query: URLSearchParams;
  problems: readonly string[];
  /** An email was asked for that no customer has. */
  empty: boolean;
  rows: readonly AuditRowView[];
  total: number;
  pageNo: number;
  size: number;
}

export function auditLogPage(a: AuditLog): string {
  const { form, query, problems, empty, pageNo, size } = a;
  const result = { rows: a.rows, total: a.total };
  const at = (p: number) => `/admin/audit?${new URLSearchParams([...query, ['page', String(p)]]).toString()}`;
  const body = html`<h1>Audit log</h1>
${problems.length > 0 ? html`<div class="notice error" role="alert">${problems.join(' ')}</div>` : ''}
<form class="inline card" method="get" action="/admin/audit">
<label>Action<br><select name="action"><option value="">any</option>${auditActions.map((x) => html`<option value="${x}"${form.action === x ? html` selected` : ''}>${x}</option>`)}</select></label>
<label>Customer email<br><input type="email" name="email" value="${form.email}"></label>
<label>From<br><input type="date" name="since" value="${form.since}"></label>
<label>To<br><input type="date" name="until" value="${form.until}"></label>
<button type="submit">Filter</button> <a class="button" href="/admin/audit.csv?${query.toString()}">Export CSV</a></form>
<p class="muted small">${result.total} entr${result.total === 1 ? 'y' : 'ies'}${empty ? ' (no customer with that email)' : ''}, newest first.</p>
<table><thead><tr><th class="num">#</th><th>When (UTC)</th><th>Action</th><th>Actor</th><th>Subject</th><th>Details</th></tr></thead><tbody>
${result.rows.map(
  (
    r,
  ) => html`<tr><td class="num">${r.seq}</td><td>${r.at.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${r.action}</td><td>${r.actorType}:${r.actorId}</td>
<td>${r.subjectId ? html`<a class="mono" href="/admin/customers/${encodeURIComponent(r.subjectId)}" title="Open the customer">${r.subjectId.slice(0, 8)}</a> <a class="small" href="/admin/audit?subject=${encodeURIComponent(r.subjectId)}">their entries</a>` : ''}</td><td class="mono small">${details(r.details)}</td></tr>`,
)}</tbody></table>
<div class="pager">${pageNo > 1 ? html`<a href="${at(pageNo - 1)}">← newer</a>` : ''}${pageNo * size < result.total ? html`<a href="${at(pageNo + 1)}">older →</a>` : ''}</div>`;
  return page({ title: 'Audit log', admin: { current: '/admin/audit' }, body });
}

export function hashChainsPage(verify: {
  ledger: { ok: boolean; rows: number };
  audit: { ok: boolean; rows: number };
}): string {
  const line = (name: string, v: { ok: boolean; rows: number }) =>
    html`<p>${name}: <strong>${v.ok ? 'intact' : 'BROKEN'}</strong> (${v.rows} ${name === 'Consent ledger' ? 'events' : 'entries'} checked)</p>`;
  const body = html`<h1>Hash chains</h1>${
    verify.ledger.ok && verify.audit.ok
      ? html`<div class="notice ok" role="status">Both chains are intact: no entry was changed, removed or inserted.</div>`
      : html`<div class="notice error" role="alert">A chain is broken: an entry was changed, removed or inserted outside Tactful. Export the audit log and investigate.</div>`
  }${line('Consent ledger', verify.ledger)}${line('Audit log', verify.audit)}<p class="small"><a href="/admin/audit">Back to the audit log</a></p>`;
  return page({ title: 'Hash chains', admin: { current: '/admin/audit' }, body });
}
