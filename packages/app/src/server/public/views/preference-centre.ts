import {
  consentMethodLabel,
  PREFERENCES_LINK_TTL_HOURS,
  type PreferencesView,
  type ProfileAttributes,
  type Purpose,
  type PurposeConsentView,
  type RecommendationReason,
  type Tactful,
} from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { brandedPages, page } from '../../layout.js';
import { PRIVACY_LINK_MAX_AGE_MINUTES } from '../../signed-links.js';
import type { SubjectOrder, SubjectRecord } from '../../subject-data.js';
import { attributeLabels, clauseLink, describeReason, sendLinkForm, stateBadge } from './parts.js';

export function linkRequestPage(error?: string): string {
  return page({
    title: 'Your preferences',
    narrow: true,
    body: html`<h1>Your preferences</h1>${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/preferences/link" class="card"><p>We will email you a private link to see what we hold about you and change your choices.</p>
<label>Your email address<br><input type="email" name="email" required autocomplete="email"></label><p><button type="submit">Email me my link</button></p></form>`,
  });
}

/** What a customer may correct in the preference centre (interests are chosen from the catalogue's categories). */
export const editableAttributes = [
  'firstName',
  'lastName',
  'gender',
  'birthDate',
  'country',
  'region',
  'city',
  'jobTitle',
] as const;

const inputTypes: Partial<Record<(typeof editableAttributes)[number], string>> = { birthDate: 'date' };

function detailsForm(token: string, attributes: ProfileAttributes, shaping: PreferencesView): SafeHtml {
  const text = (name: string) => {
    const v = attributes[name as keyof ProfileAttributes]?.value;
    return typeof v === 'string' ? v : '';
  };
  return html`<form method="post" action="/preferences/profile" class="card" id="details-form"><input type="hidden" name="token" value="${token}">
<p class="small muted">What you enter here replaces what we imported or worked out: it is marked as coming from you, and your name is corrected in the shop's other systems too. Leave a field empty to remove it.</p>
<div class="grid">${editableAttributes.map(
    (name) =>
      html`<label>${attributeLabels[name] ?? name}<br><input name="${name}" type="${inputTypes[name] ?? 'text'}" value="${text(name)}"${name === 'country' ? html` maxlength="2" placeholder="BE"` : ''}></label>`,
  )}</div>
<fieldset><legend>What you like (we use it when we know little about you)</legend><input type="hidden" name="interests-shown" value="1">
${shaping.categories.map(
  (c) =>
    html`<label class="check"><input type="checkbox" name="interest" value="${c.category}"${c.declaredInterest ? html` checked` : ''}><span>${c.category}</span></label>`,
)}</fieldset>
<p><button type="submit">Save my details</button></p></form>`;
}

function excludeButton(
  token: string,
  target: { product: string } | { category: string },
  undo: boolean,
  label: string,
  sensitive = false,
): SafeHtml {
  return html`<form method="post" action="/preferences/exclude" class="inline"><input type="hidden" name="token" value="${token}">
${'product' in target ? html`<input type="hidden" name="product" value="${target.product}">` : html`<input type="hidden" name="category" value="${target.category}">`}
${undo ? html`<input type="hidden" name="undo" value="1">` : ''}${sensitive ? html`<input type="hidden" name="sensitive" value="1">` : ''}
<button type="submit" class="secondary">${label}</button></form>`;
}

function notThisSection(token: string, shaping: PreferencesView): SafeHtml {
  const bought = new Set(shaping.purchases.map((p) => p.category).filter((c): c is string => c !== null));
  const categories = shaping.categories.filter((c) => bought.has(c.category) || c.excluded || c.declaredInterest);
  return html`<p class="small muted">Bought something as a gift, or would rather we did not use a kind of product? Say so: it is then never used to choose what we show or send you, nor named as a reason. You can undo it here at any time.</p>
<table id="not-this-products"><thead><tr><th>Your purchase</th><th>Category</th><th>Used for recommendations</th><th></th></tr></thead><tbody>
${shaping.purchases.map((p) => {
  const category = shaping.categories.find((c) => c.category === p.category);
  const state = p.excluded
    ? 'no (you excluded it)'
    : category?.excluded
      ? 'no (you excluded its category)'
      : category?.sensitive && !category.optedIn
        ? 'no (sensitive category)'
        : 'yes';
  return html`<tr data-product="${p.productId}"><td>${p.title}</td><td>${p.category ?? '—'}</td><td>${state}</td><td>${excludeButton(token, { product: p.productId }, p.excluded, p.excluded ? 'Use it again' : 'Not this')}</td></tr>`;
})}</tbody></table>
<table id="not-this-categories"><thead><tr><th>Category</th><th>Used for recommendations</th><th></th></tr></thead><tbody>
${categories.map(
  (
    c,
  ) => html`<tr data-category="${c.category}"><td>${c.category}${c.sensitive ? html` <span class="small muted">(sensitive)</span>` : ''}</td>
<td>${c.excluded ? 'no (you excluded it)' : c.sensitive && !c.optedIn ? 'no (sensitive: only with your permission)' : 'yes'}</td>
<td>${excludeButton(token, { category: c.category }, c.excluded, c.excluded ? 'Use it again' : 'Not this category')}
${c.sensitive && !c.excluded ? excludeButton(token, { category: c.category }, c.optedIn, c.optedIn ? 'Stop using it' : 'You may use it', true) : ''}</td></tr>`,
)}</tbody></table>`;
}

function purposeRow(p: PurposeConsentView, purpose: Purpose | undefined): SafeHtml {
  const on = p.state === 'granted' || p.state === 'pending';
  return html`<tr><td><label class="check"><input type="checkbox" name="purpose" value="${p.purpose}"${on ? html` checked` : ''}>
<span><strong>${purpose?.title ?? p.purpose}</strong><br><span class="small muted">${purpose?.description ?? ''}</span></span></label></td>
<td>${stateBadge(p.state)}${p.state === 'granted' ? html` <span class="small muted">${p.level === 'confirmed' ? 'confirmed by email' : p.level}</span>` : ''}</td>
<td class="small">${p.since ? p.since.toISOString().slice(0, 10) : '—'}${p.source ? html`<br><span class="muted">${p.source.system}, ${consentMethodLabel(p.source)}</span>` : ''}</td>
<td class="small">${clauseLink(p)}</td></tr>`;
}

type Recommendations = Awaited<ReturnType<Tactful['recommend']['forCustomer']>>['recommendations'];

/** Everything the preference centre shows, gathered by its route (preferences.ts). */
export interface PreferenceCentre {
  shopId: string;
  token: string;
  /** The seconds since the epoch when the link stops working. */
  expiresAt: number;
  /** The link is recent enough to download or delete the data with. */
  fresh: boolean;
  saved: 'saved' | 'confirm' | null;
  email: string;
  record: SubjectRecord;
  purposes: Map<string, Purpose>;
  consent: Awaited<ReturnType<Tactful['consent']['show']>>;
  history: Awaited<ReturnType<Tactful['consent']['history']>>;
  orders: readonly SubjectOrder[];
  profile: Awaited<ReturnType<Tactful['profiles']['show']>>['profile'];
  shaping: PreferencesView;
  recommendations:
    | { kind: 'not-allowed' }
    | { kind: 'refused'; message: string }
    | { kind: 'list'; list: Recommendations; titles: Map<string, string> };
}

function recommendationsSection(r: PreferenceCentre['recommendations']): SafeHtml {
  if (r.kind === 'not-allowed')
    return html`<p class="empty">You have not allowed personal recommendations, so we build none for you.</p>`;
  if (r.kind === 'refused') return html`<p class="empty">No recommendations: ${r.message}</p>`;
  return r.list.length === 0
    ? html`<p class="empty">Nothing to recommend yet.</p>`
    : html`<ol>${r.list.map((x) => html`<li><strong>${x.product.title}</strong><ul>${x.reasons.map((reason: RecommendationReason) => html`<li class="small">${describeReason(reason, r.titles)}</li>`)}</ul></li>`)}</ol>`;
}

/** The preference centre: the person's choices, what is held about them and why, and their rights. */
export function preferenceCentrePage(c: PreferenceCentre): string {
  const { token, email, record, purposes, history, orders, profile, shaping, saved, fresh } = c;
  const view = c.consent;
  const personalization = view.purposes.find((p) => p.purpose === 'personalization');
  const recommendations = recommendationsSection(c.recommendations);
  const evidenceRows = history.events.filter((e) => e.evidence.ip || e.evidence.userAgent);
  const attributeRows = Object.entries(profile?.attributes ?? {}).flatMap(([name, attribute]) =>
    attribute ? [{ name, ...attribute }] : [],
  );
  return page({
    title: 'Your preferences',
    body: html`<h1>Your preferences</h1>
${saved ? html`<div class="notice ok" role="status">Your choices are saved.${saved === 'confirm' ? ' We sent you an email to confirm what you turned on: it starts when you click the link.' : ''}</div>` : ''}
<p>For <strong>${email}</strong> at ${brandedPages.getStore()?.name ?? c.shopId}. This private link is valid for ${PREFERENCES_LINK_TTL_HOURS} hours, until ${new Date(c.expiresAt * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC.</p>
<h2>Your choices</h2>
<form method="post" action="/preferences"><input type="hidden" name="token" value="${token}">
<table><thead><tr><th>Purpose</th><th>State</th><th>Since, from</th><th>Terms</th></tr></thead><tbody>
${view.purposes.map((p) => purposeRow(p, purposes.get(p.purpose)))}</tbody></table>
<p class="small muted">Turning a purpose on sends you a confirmation email first. Turning it off takes effect at once.</p>
<p><button type="submit">Save my choices</button></p></form>

<h2>What we hold and why</h2>
<table><thead><tr><th>Data</th><th>Value</th><th>Where it comes from</th><th>Why we keep it</th></tr></thead><tbody>
<tr><td>Email address</td><td>${email}</td><td>${record.registeredBy ? `${record.registeredBy.source}, ${record.registeredBy.method.replace(/_/g, ' ')}` : '—'}, ${record.createdAt.toISOString().slice(0, 10)}</td><td>To know who made each choice, and to email you what you agreed to.</td></tr>
${Object.entries(record.externalIds).map(([system, id]) => html`<tr><td>Customer id in ${system}</td><td class="mono">${id}</td><td>${system}</td><td>To keep your choices the same in every system the shop uses.</td></tr>`)}
${attributeRows.map(
  (a) =>
    html`<tr><td>${attributeLabels[a.name] ?? a.name}</td><td>${Array.isArray(a.value) ? a.value.join(', ') : a.value}</td><td>${a.source}, ${a.updatedAt.slice(0, 10)}</td><td>To personalise what we show you (you allow personal recommendations).</td></tr>`,
)}
${profile?.rfm ? html`<tr><td>Customer group</td><td>${profile.rfm.label}</td><td>computed from your orders (recency ${profile.rfm.recency}, frequency ${profile.rfm.frequency}, spend ${profile.rfm.monetary} on a 1-5 scale)</td><td>To choose which offers suit you; deleted if you withdraw personal recommendations.</td></tr>` : ''}
${profile && profile.categories.length > 0 ? html`<tr><td>Interests</td><td>${profile.categories.map((c) => c.category).join(', ')}</td><td>the categories of what you bought</td><td>To recommend products you may like.</td></tr>` : ''}
${
  shaping.preferences.excludedProducts.length > 0
    ? html`<tr><td>Purchases you excluded</td><td>${
        shaping.purchases
          .filter((p) => p.excluded)
          .map((p) => p.title)
          .join(', ') || shaping.preferences.excludedProducts.join(', ')
      }</td><td>you, here</td><td>Never used to choose what we show or send you; kept so we remember.</td></tr>`
    : ''
}
${shaping.preferences.excludedCategories.length > 0 ? html`<tr><td>Categories you excluded</td><td>${shaping.preferences.excludedCategories.join(', ')}</td><td>you, here</td><td>Never used to choose what we show or send you; kept so we remember.</td></tr>` : ''}
${shaping.preferences.sensitiveOptIns.length > 0 ? html`<tr><td>Sensitive categories you allowed</td><td>${shaping.preferences.sensitiveOptIns.join(', ')}</td><td>you, here</td><td>Only with your permission do we use purchases in these categories.</td></tr>` : ''}
${profile === null ? html`<tr><td>Profile</td><td class="empty">none</td><td>—</td><td>You have not allowed personal recommendations, so we keep no profile beyond your address and your choices.</td></tr>` : ''}
<tr><td>Record of your choices</td><td>${history.events.length} event${history.events.length === 1 ? '' : 's'}</td><td>the forms, links and systems listed above</td><td>The law asks us to prove each consent: we keep this record even after you withdraw.</td></tr>
${evidenceRows.map(
  (e) =>
    html`<tr><td>Evidence of a choice</td><td class="small">${e.evidence.ip ? `IP ${e.evidence.ip}` : ''}${e.evidence.userAgent ? html`<br>${e.evidence.userAgent}` : ''}</td><td>${consentMethodLabel({ method: e.source.method, formId: e.evidence.formId })}, ${e.occurredAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td>Proof of your ${purposes.get(e.purpose)?.title ?? e.purpose} choice (${e.state}).</td></tr>`,
)}
</tbody></table>

<h2 id="details">Correct your details</h2>
${profile ? detailsForm(token, profile.attributes, shaping) : html`<p class="empty">You have not allowed personal recommendations, so we keep no details about you beyond your address and your choices.</p>`}

<h2 id="not-this">Not this</h2>
${profile ? notThisSection(token, shaping) : html`<p class="empty">Nothing about you is used for recommendations.</p>`}

<h2>Your orders</h2>
${
  orders.length === 0
    ? html`<p class="empty">We hold no orders for you.</p>`
    : html`<p class="small muted">Kept for the sales contract. ${personalization?.state === 'granted' ? 'Because you allow personal recommendations, they also choose what we show you.' : 'They are not used for recommendations, since you have not allowed personalisation.'}</p>
<table><thead><tr><th>Order</th><th>Date</th><th>Products</th><th class="num">Total</th><th>Used for recommendations</th></tr></thead><tbody>
${orders.map(
  (
    o,
  ) => html`<tr><td>${o.name ?? o.orderId}</td><td>${o.createdAt.toISOString().slice(0, 10)}</td><td>${o.lines.map((l, i) => html`${i > 0 ? ', ' : ''}${l.title}${l.quantity > 1 ? ` × ${l.quantity}` : ''}`)}</td>
<td class="num">${o.totalPrice ?? ''} ${o.currency ?? ''}</td><td>${o.counted && personalization?.state === 'granted' ? 'yes' : o.counted ? 'no (no consent)' : 'no (cancelled or refunded)'}</td></tr>`,
)}</tbody></table>`
}

<h2>Why we recommend what we recommend</h2>
${recommendations}

${
  !fresh
    ? html`<h2>Your data</h2><div class="card"><p>To download or delete your data we first email you a fresh link (it allows this for ${PRIVACY_LINK_MAX_AGE_MINUTES} minutes), so that a forwarded email cannot.</p>${sendLinkForm(token, '')}</div>`
    : html`<h2>Your data</h2><div class="card"><form method="post" action="/preferences/export"><input type="hidden" name="token" value="${token}"><button class="secondary" type="submit">Download my data</button></form>
<form method="post" action="/preferences/erase" style="margin-top:1rem"><input type="hidden" name="token" value="${token}">
<label class="check"><input type="checkbox" name="confirm" value="yes" required><span>I understand this deletes my data and cannot be undone.</span></label>
<button class="danger" type="submit">Delete my data</button></form></div>`
}`,
  });
}
