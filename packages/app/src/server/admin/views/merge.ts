import type { MergePreview, MergePreviewPerson } from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';

export interface MergePageInput {
  keep?: string | undefined;
  other?: string | undefined;
  preview?: MergePreview | undefined;
  ok?: string | undefined;
  error?: string | undefined;
}

type Attributes = MergePreview['result']['attributes'];
type Preferences = MergePreview['result']['preferences'];

const shown = (value: string | string[]) => (Array.isArray(value) ? value.join(', ') : value);

function consentList(consents: Array<{ purpose: string; state: string }>): SafeHtml {
  return consents.length === 0
    ? html`<p class="small muted">No consent recorded.</p>`
    : html`<ul class="plain">${consents.map((c) => html`<li><code>${c.purpose}</code>: <strong>${c.state}</strong></li>`)}</ul>`;
}

function attributeTable(attributes: Attributes): SafeHtml {
  const entries = Object.entries(attributes);
  return entries.length === 0
    ? html`<p class="small muted">No attributes (none held, or personalization not granted).</p>`
    : html`<table><thead><tr><th>attribute</th><th>value</th><th>source</th></tr></thead><tbody>${entries.map(
        ([name, v]) =>
          html`<tr><td>${name}</td><td class="wrap">${v ? shown(v.value) : ''}</td><td class="small">${v?.source ?? ''} · ${v?.updatedAt.slice(0, 10) ?? ''}</td></tr>`,
      )}</tbody></table>`;
}

function preferenceList(p: Preferences): SafeHtml {
  const parts = [
    ['Excluded purchases', p.excludedProducts],
    ['Excluded categories', p.excludedCategories],
    ['Sensitive categories allowed', p.sensitiveOptIns],
  ] as const;
  const held = parts.filter(([, list]) => list.length > 0);
  return held.length === 0
    ? html``
    : html`<ul class="plain small">${held.map(([label, list]) => html`<li>${label}: ${list.join(', ')}</li>`)}</ul>`;
}

function personCard(title: string, person: MergePreviewPerson): SafeHtml {
  const ids = Object.entries(person.externalIds);
  return html`<section class="card"><h2>${title}</h2>
<p class="wrap"><strong>${person.email}</strong>${person.pastEmails.length > 0 ? html`<br><span class="small muted">before: ${person.pastEmails.join(', ')}</span>` : ''}</p>
${ids.length > 0 ? html`<p class="small muted wrap">Ids: ${ids.map(([system, id]) => `${system} ${id}`).join(', ')}</p>` : ''}
<p>Orders: <strong>${person.orders}</strong></p>
${consentList(person.consents)}
${attributeTable(person.attributes)}
${preferenceList(person.preferences)}
</section>`;
}

/** The merge page: two addresses, a preview of both people and of the result, then the confirmation. */
export function mergePage({ keep, other, preview, ok, error }: MergePageInput): string {
  const result = preview?.result;
  const body = html`<div class="merge-page"><h1>Merge two people</h1>
<p>When one customer appears in Tactful as two people (two addresses, say a home and a work one), merge them:
the person you keep takes the other's consent history, addresses, ids, orders, sends, attributes and
preferences. A withdrawal of either stays a withdrawal. The merge is audited and cannot be undone.</p>
${ok ? html`<div class="notice ok" role="status">${ok}</div>` : ''}${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="get" action="/admin/merge" class="card">
<div class="grid"><label>Keep this person (their address)<br><input type="email" name="keep" value="${keep ?? ''}" required autocomplete="off"></label>
<label>Merge this person into them (their address)<br><input type="email" name="other" value="${other ?? ''}" required autocomplete="off"></label></div>
<button type="submit">Preview</button></form>
${
  preview && result
    ? html`<div class="grid">${personCard('Kept', preview.keep)}${personCard('Merged into the kept person', preview.other)}</div>
<section class="card" id="merge-result"><h2>After the merge</h2>
<p class="wrap">One person, found by <strong>${preview.keep.email}</strong> and every address and id of both. Orders: <strong>${result.orders}</strong>.</p>
${consentList(result.consents)}
${
  result.profileKept
    ? html`${attributeTable(result.attributes)}
${result.dropped.length > 0 ? html`<p class="small muted">Replaced or not taken (the customer's own word outranks an import; otherwise the newer value wins): ${result.dropped.map((d) => `${d.name} of the ${d.of} person (${d.source})`).join(', ')}.</p>` : ''}
${preferenceList(result.preferences)}`
    : html`<p class="small muted">Personalization is not granted after the merge: no profile (attributes, preferences) is kept.</p>`
}
<form method="post" action="/admin/merge">
<input type="hidden" name="keep" value="${preview.keep.email}"><input type="hidden" name="other" value="${preview.other.email}">
<button type="submit">Merge ${preview.other.email} into ${preview.keep.email}</button></form>
</section>`
    : ''
}</div>`;
  return page({ title: 'Merge people', admin: { current: '/admin/merge' }, body });
}
