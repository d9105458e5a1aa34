import {
  consentMethodLabel,
  type CustomerEmail,
  type CustomerListRow,
  formatMoney,
  type HistoryEntry,
  type PreferencesView,
  type ProfileView,
  type Purpose,
  type PurposeConsentView,
  type RecommendationReason,
  type Tactful,
} from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { page, safeUrl } from '../../layout.js';
import type { SubjectOrder, SubjectRecord } from '../../subject-data.js';
import { attributeLabels, clauseLink, describeReason, stateBadge } from '../../public/views/parts.js';

const day = (d: Date) => d.toISOString().slice(0, 10);
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const customerHref = (subjectId: string) => `/admin/customers/${encodeURIComponent(subjectId)}`;

function notices(ok?: string, error?: string): SafeHtml {
  return html`${ok ? html`<div class="notice ok" role="status">${ok}</div>` : ''}${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}`;
}

export interface CustomerListForm {
  email: string;
  consent: Record<string, string>;
  segment: string;
  rfm: string;
}

export interface CustomerList {
  form: CustomerListForm;
  purposes: readonly Purpose[];
  segments: readonly string[];
  rfmLabels: readonly string[];
  rows: readonly CustomerListRow[];
  /** The query string of the next page, when there is one. */
  next: string | null;
  /** This is not the first page. */
  paged: boolean;
  /** The query without the cursor, for "first page". */
  firstPage: string;
  error?: string | undefined;
  currency: string;
}

export function customerListPage(c: CustomerList): string {
  const { form } = c;
  const option = (value: string, label: string, chosen: string) =>
    html`<option value="${value}"${value === chosen ? html` selected` : ''}>${label}</option>`;
  const filters = html`<form class="inline card" method="get" action="/admin/customers" id="customer-search">
<label>Email address<br><input type="email" name="email" value="${form.email}" placeholder="ada@example.com" autocomplete="off"></label>
${c.purposes.map(
  (p) =>
    html`<label>${p.title}<br><select name="consent.${p.key}">${option('', 'any', form.consent[p.key] ?? '')}${['granted', 'pending', 'withdrawn', 'none'].map((s) => option(s, s === 'none' ? 'no decision' : s, form.consent[p.key] ?? ''))}</select></label>`,
)}
<label>Segment<br><select name="segment">${option('', 'any', form.segment)}${c.segments.map((s) => option(s, s, form.segment))}</select></label>
<label>Customer group (RFM)<br><select name="rfm">${option('', 'any', form.rfm)}${c.rfmLabels.map((l) => option(l, l.replace(/_/g, ' '), form.rfm))}</select></label>
<button type="submit">Search</button> <a class="button secondary" href="/admin/customers">Clear</a></form>`;
  const body = html`<h1>Customers</h1>
${notices(undefined, c.error)}
<p class="small muted">An address is found by its keyed hash (the same one Tactful looks people up with): type it whole. Earlier addresses of a customer find them too. Opening a customer is recorded in the audit log and in their own data export.</p>
${filters}
${
  c.rows.length === 0
    ? html`<p class="empty" id="no-customers">${c.error ? 'Nothing shown: correct the search above.' : 'No customer matches.'}</p>`
    : html`<table id="customers"><thead><tr><th>Customer</th><th>Since</th>${c.purposes.map((p) => html`<th>${p.title}</th>`)}<th>Group</th><th class="num">Orders</th><th class="num">Revenue</th><th>Last order</th></tr></thead><tbody>
${c.rows.map(
  (r) =>
    html`<tr data-subject="${r.subjectId}"><td class="wrap address"><a href="${customerHref(r.subjectId)}">${r.email}</a></td><td class="date">${day(r.createdAt)}</td>${c.purposes.map((p) => html`<td>${stateBadge(r.consent[p.key]?.state ?? 'none')}</td>`)}<td>${r.rfmLabel ? r.rfmLabel.replace(/_/g, ' ') : '—'}</td><td class="num">${r.orderCount}</td><td class="num">${formatMoney(r.revenue, c.currency)}</td><td class="date">${r.lastOrderAt ? day(r.lastOrderAt) : '—'}</td></tr>`,
)}</tbody></table>`
}
<div class="pager">${c.paged ? html`<a href="/admin/customers?${c.firstPage}">← First page</a>` : ''}${c.next ? html`<a href="/admin/customers?${c.next}" rel="next">Next page →</a>` : ''}</div>`;
  return page({ title: 'Customers', admin: { current: '/admin/customers' }, body });
}

/** One consent step as a sentence: what, when, from where, under which clause, with which evidence. */
function storyLine(e: HistoryEntry, purposes: Map<string, Purpose>): SafeHtml {
  const title = purposes.get(e.purpose)?.title ?? e.purpose;
  const verb =
    e.state === 'granted'
      ? html`<strong>agreed</strong> to`
      : e.state === 'pending'
        ? html`<strong>asked</strong> for (awaiting email confirmation)`
        : e.state === 'withdrawn'
          ? html`<strong>withdrew</strong>`
          : html`recorded <strong>no decision</strong> on`;
  const how = consentMethodLabel({ method: e.source.method, formId: e.evidence.formId });
  const level = e.state === 'granted' && e.level === 'confirmed' ? ' (confirmed by email)' : '';
  const evidence: string[] = [];
  if (e.evidence.ip) evidence.push(`IP address ${e.evidence.ip}`);
  if (e.evidence.userAgent) evidence.push(`browser “${e.evidence.userAgent}”`);
  if (e.evidence.formId) evidence.push(`form “${e.evidence.formId}”`);
  if (e.evidence.confirmationTokenId) evidence.push(`confirmation link ${e.evidence.confirmationTokenId.slice(0, 8)}`);
  const clause = e.evidence.clause
    ? html` under clause <strong>${e.evidence.clause}</strong>${e.evidence.policyVersion ? html`, version ${e.evidence.policyVersion}` : ''}`
    : e.evidence.policyVersion
      ? html` under version ${e.evidence.policyVersion} of the terms`
      : '';
  return html`<li data-purpose="${e.purpose}" data-state="${e.state}"><span class="muted small">${minute(e.occurredAt)}</span><br>
${verb} <strong>${title}</strong>${level}, through ${how} in ${e.source.system}${clause}.${e.echo ? html` <span class="small muted">(an echo of Tactful's own change; it changed nothing)</span>` : ''}
${evidence.length > 0 ? html`<br><span class="small">Evidence: ${evidence.join('; ')}.</span>` : html`<br><span class="small muted">Evidence: the ${e.source.system} event ${e.source.eventId}.</span>`}</li>`;
}

function currentLine(p: PurposeConsentView, purpose: Purpose | undefined): SafeHtml {
  const title = purpose?.title ?? p.purpose;
  const words =
    p.state === 'granted'
      ? html`may be used${p.level === 'confirmed' ? ' (confirmed by email)' : p.level === 'single' ? ' (single opt-in)' : ''}`
      : p.state === 'pending'
        ? html`asked for, waiting for the customer to confirm by email`
        : p.state === 'withdrawn'
          ? html`withdrawn: nothing is sent or personalised for this purpose`
          : html`never asked: nothing is sent or personalised for this purpose`;
  return html`<tr><td><strong>${title}</strong></td><td>${stateBadge(p.state)} ${words}</td><td>${p.since ? minute(p.since) : '—'}${p.source ? html`<br><span class="small muted">${p.source.system}, ${consentMethodLabel(p.source)}</span>` : ''}</td><td>${clauseLink(p)}</td></tr>`;
}

export interface CustomerPage {
  subjectId: string;
  email: string;
  record: SubjectRecord;
  purposes: Map<string, Purpose>;
  consent: readonly PurposeConsentView[];
  history: readonly HistoryEntry[];
  profile: ProfileView['profile'];
  shaping: PreferencesView | null;
  orders: readonly SubjectOrder[];
  emails: readonly CustomerEmail[];
  recommendations:
    | { kind: 'not-allowed' }
    | { kind: 'refused'; message: string }
    | {
        kind: 'list';
        list: Awaited<ReturnType<Tactful['recommend']['forCustomer']>>['recommendations'];
        titles: Map<string, string>;
      };
  currency: string;
  /** Where a test email goes (the sender's reply address), when one is set. */
  testTo: string | null;
  demo: boolean;
  ok?: string | undefined;
  error?: string | undefined;
}

function recommendationsSection(r: CustomerPage['recommendations']): SafeHtml {
  if (r.kind === 'not-allowed')
    return html`<p class="empty">They have not allowed personal recommendations, so none are built for them.</p>`;
  if (r.kind === 'refused') return html`<p class="empty">No recommendations: ${r.message}</p>`;
  if (r.list.length === 0) return html`<p class="empty">Nothing to recommend yet.</p>`;
  return html`<p class="small muted">In the words their own preference centre uses.</p><ol id="recommendations">${r.list.map(
    (x) =>
      html`<li><strong>${x.product.title}</strong>${x.product.price ? html` <span class="muted">${x.product.price}</span>` : ''}<ul>${x.reasons.map((reason: RecommendationReason) => html`<li class="small">${describeReason(reason, r.titles)}</li>`)}</ul></li>`,
  )}</ol>`;
}

export function customerPage(c: CustomerPage): string {
  const { subjectId, email, record, profile, shaping } = c;
  const href = customerHref(subjectId);
  const attributes = Object.entries(profile?.attributes ?? {}).flatMap(([name, a]) => (a ? [{ name, ...a }] : []));
  const excludedProducts = shaping?.purchases.filter((p) => p.excluded) ?? [];
  const body = html`<p class="small"><a href="/admin/customers">← Customers</a></p>
<h1 class="wrap">${email}</h1>
${notices(c.ok, c.error)}
<p class="muted">Customer since ${day(record.createdAt)}${record.registeredBy ? `, first known from ${record.registeredBy.source} (${record.registeredBy.method.replace(/_/g, ' ')})` : ''}.
${Object.entries(record.externalIds).map(([system, id]) => html` <span class="small">${system}: <span class="mono">${id}</span>.</span>`)}
${profile?.rfm ? html` Group: <strong>${profile.rfm.label.replace(/_/g, ' ')}</strong>.` : ''}
<a class="small" href="/admin/audit?subject=${encodeURIComponent(subjectId)}">Everything recorded about them, and who looked →</a></p>

<h2 id="consent">Consent</h2>
<table id="consent-now"><thead><tr><th>Purpose</th><th>Now</th><th>Since, from</th><th>Terms</th></tr></thead><tbody>
${c.consent.map((p) => currentLine(p, c.purposes.get(p.purpose)))}</tbody></table>
<h3>How it came about</h3>
${c.history.length === 0 ? html`<p class="empty">No consent was ever recorded for them.</p>` : html`<ol class="story" id="consent-story">${c.history.map((e) => storyLine(e, c.purposes))}</ol>`}

<h2 id="attributes">What is held about them</h2>
${
  profile === null
    ? html`<p class="empty">No profile: they have not allowed personalisation, so only their address, their consent record and their orders are kept.</p>`
    : html`<table id="attributes-table"><thead><tr><th>Attribute</th><th>Value</th><th>Source</th><th>Updated</th></tr></thead><tbody>
${attributes.map((a) => html`<tr><td>${attributeLabels[a.name] ?? a.name}</td><td class="wrap">${Array.isArray(a.value) ? a.value.join(', ') : a.value}</td><td>${a.source}</td><td>${a.updatedAt.slice(0, 10)}</td></tr>`)}
${attributes.length === 0 ? html`<tr><td colspan="4" class="empty">No attributes.</td></tr>` : ''}
<tr><td>Orders</td><td>${profile.orders.count} (${formatMoney(profile.orders.revenue, c.currency)})</td><td>order history</td><td>${profile.orders.lastOrderAt ? day(profile.orders.lastOrderAt) : '—'}</td></tr>
${profile.categories.length > 0 ? html`<tr><td>Bought from</td><td>${profile.categories.map((x) => x.category).join(', ')}</td><td>order history</td><td>—</td></tr>` : ''}
</tbody></table>`
}

<h2 id="not-this">“Not this”</h2>
${
  !shaping ||
  (
    excludedProducts.length === 0 &&
      shaping.preferences.excludedCategories.length === 0 &&
      shaping.preferences.sensitiveOptIns.length === 0
  )
    ? html`<p class="empty">They excluded nothing from their recommendations.</p>`
    : html`<ul id="exclusions">${excludedProducts.map((p) => html`<li>Never use their purchase of <strong>${p.title}</strong>.</li>`)}
${shaping.preferences.excludedCategories.map((x) => html`<li>Never use the category <strong>${x}</strong>.</li>`)}
${shaping.preferences.sensitiveOptIns.map((x) => html`<li>They allowed the sensitive category <strong>${x}</strong>.</li>`)}</ul>`
}

<h2 id="orders">Orders</h2>
${
  c.orders.length === 0
    ? html`<p class="empty">No orders.</p>`
    : html`<table id="orders-table"><thead><tr><th>Order</th><th>Date</th><th>Products</th><th class="num">Total</th><th>Counted</th></tr></thead><tbody>
${c.orders.map((o) => html`<tr><td>${o.name ?? o.orderId}</td><td>${day(o.createdAt)}</td><td>${o.lines.map((l, i) => html`${i > 0 ? ', ' : ''}${l.title}${l.quantity > 1 ? ` × ${l.quantity}` : ''}`)}</td><td class="num">${o.totalPrice ?? ''} ${o.currency ?? ''}</td><td>${o.counted ? 'yes' : 'no (cancelled or refunded)'}</td></tr>`)}</tbody></table>`
}

<h2 id="emails">Emails sent</h2>
${
  c.emails.length === 0
    ? html`<p class="empty">No campaign email was sent to them.</p>`
    : html`<p class="small muted">What the email provider reported: whether they opened and clicked, and the figures of the send their email went out in.</p><table id="emails-table"><thead><tr><th>Campaign</th><th>Sent</th><th>Products</th><th>They opened it</th><th>They clicked</th><th class="num">Opens in its send</th><th class="num">Clicks in its send</th></tr></thead><tbody>
${c.emails.map((e) => html`<tr><td>${e.campaign}${e.subject ? html`<br><span class="small muted">“${e.subject}”</span>` : ''}</td><td>${e.sentAt ? minute(e.sentAt) : 'being sent'}</td><td>${e.products.map((p) => p.title).join(', ')}</td><td>${e.wave?.reportAt ? (e.opened ? 'yes' : 'no') : 'not reported yet'}</td><td>${e.wave?.reportAt ? (e.clicked ? 'yes' : 'no') : 'not reported yet'}</td><td class="num">${e.wave ? `${e.wave.opens} of ${e.wave.sends}` : '—'}</td><td class="num">${e.wave ? `${e.wave.clicks} of ${e.wave.sends}` : '—'}</td></tr>`)}</tbody></table>`
}

<h2 id="recommendations-heading">Recommendations</h2>
${recommendationsSection(c.recommendations)}

<h2 id="actions">Requests and actions</h2>
<div class="grid">
<div class="card"><h3>Their data</h3><p class="small">A customer asked by email for their data: download the bundle (everything held, with the consent evidence and the audit entries) and send it to them.</p>
<p><a class="button" id="export" href="${href}/export.json" download>Download their data (JSON)</a></p></div>
<div class="card"><h3>Their preferences</h3><p class="small">Email them a private link to their preference centre, where they see everything and change their choices themselves.</p>
<form method="post" action="${href}/preference-link"><button type="submit" class="secondary">Email them their preference link</button></form></div>
<div class="card"><h3>Test email</h3>
${
  c.testTo
    ? html`<p class="small">Send the email this customer would get now to your own address, <strong class="wrap">${c.testTo}</strong>${c.demo ? html` (in the demo: to the <a href="/demo/mail">demo inbox</a>)` : ''}. It is marked as a test and never counts as an email to them.</p>
<form method="post" action="${href}/test-send"><label>Subject line<br><input type="text" name="subject" value="Picked for you" maxlength="150" required></label><button type="submit" class="secondary">Send me a test</button></form>`
    : html`<p class="small">Set the sender identity in <a href="/admin/settings">Settings</a> first: a test goes to its reply address.</p><button type="button" class="secondary" disabled>Send me a test</button>`
}</div>
<div class="card"><h3>Same person, two addresses</h3><p class="small">This customer also appears under another address (a work and a home one, say): merge the two into one person, keeping this one.</p>
<p><a class="button secondary" id="merge" href="/admin/merge?keep=${encodeURIComponent(email)}">Merge with another address</a></p></div>
<div class="card danger-zone"><h3>Erase</h3><p class="small">A customer asked to be forgotten: this destroys their data key (every copy becomes unreadable), deletes their orders and profile, tells the connected systems, and keeps only a keyed hash of the address so no sync brings them back. It cannot be undone.</p>
<form method="post" action="${href}/erase" id="erase-form"><label>Type their address to confirm<br><input type="email" name="confirm" autocomplete="off" required></label>
<button type="submit" class="danger">Erase this customer</button></form></div>
</div>`;
  return page({ title: email, admin: { current: '/admin/customers' }, body });
}

/** After an erasure: what was done, and nothing left to show. */
export function erasedPage(result: { ordersDeleted: number; queuedFor: readonly string[] }): string {
  return page({
    title: 'Customer erased',
    admin: { current: '/admin/customers' },
    body: html`<h1>Customer erased</h1><div class="notice ok" role="status">Their data key is destroyed: nothing about them can be read any more. ${result.ordersDeleted} order${result.ordersDeleted === 1 ? '' : 's'} deleted${result.queuedFor.length > 0 ? `; ${result.queuedFor.join(' and ')} will be told to delete them too` : ''}. Their address is kept only as a keyed hash, so no later sync adds them again.</div>
<p><a href="/admin/customers">Back to the customers</a></p>`,
  });
}

export function customerGonePage(): string {
  return page({
    title: 'No such customer',
    admin: { current: '/admin/customers' },
    body: html`<h1>No such customer</h1><div class="notice error" role="alert">This shop holds no customer under this address: they may have been erased. Nothing was recorded.</div><p><a href="${safeUrl('/admin/customers')}">Back to the customers</a></p>`,
  });
}
