import type { Purpose, Tactful } from '@tactful/core';
import { html } from '../../html.js';
import { page, safeUrl } from '../../layout.js';

export interface Settings {
  settings: Awaited<ReturnType<Tactful['settings']['get']>>;
  purposes: readonly Purpose[];
  contact: Awaited<ReturnType<Tactful['contact']['policy']>>;
  ok?: string | undefined;
  error?: string | undefined;
}

export function settingsPage({ settings, purposes, contact, ok, error }: Settings): string {
  const purposeForm = (
    p: { key: string; title: string; description: string; documentUrl: string; clause: string; version: string } | null,
  ) => html`<form method="post" action="/admin/purposes" class="card">
<h2>${p ? p.title : 'New purpose'}</h2>
${p ? html`<input type="hidden" name="key" value="${p.key}"><p class="small muted">Key: <code>${p.key}</code>. Changing the version keeps consent given under earlier versions provable.</p>` : html`<label>Key (a-z, 0-9, _)<br><input type="text" name="key" required></label>`}
<label>Title<br><input type="text" name="title" value="${p?.title ?? ''}" required></label>
<label>Question shown to customers<br><input type="text" name="description" value="${p?.description ?? ''}" style="width:100%"></label>
<label>Terms document URL<br><input type="url" name="documentUrl" value="${p?.documentUrl ?? ''}" required style="width:100%"></label>
<div class="grid"><label>Clause<br><input type="text" name="clause" value="${p?.clause ?? ''}" required></label><label>Version<br><input type="text" name="version" value="${p?.version ?? ''}" required></label></div>
${p ? html`<p class="small"><a href="${safeUrl(p.documentUrl)}" rel="noopener noreferrer" target="_blank">Open the clause</a></p>` : ''}
<button type="submit">${p ? 'Save purpose' : 'Add purpose'}</button></form>`;
  return page({
    title: 'Settings',
    admin: { current: '/admin/settings' },
    body: html`<h1>Settings</h1>
${ok ? html`<div class="notice ok" role="status">${ok}</div>` : ''}${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/admin/settings" class="card" id="consent"><h2>Consent</h2>
<label class="check"><input type="checkbox" name="requireDoubleOptIn"${settings.requireDoubleOptIn ? html` checked` : ''}><span>Require double opt-in (a confirmation email) before anyone is mailed</span></label>
<label>Confirmation links stay valid for (hours)<br><input type="number" name="optInTokenTtlHours" min="1" max="720" value="${settings.optInTokenTtlHours}"></label>
<p class="small muted">Connected systems: ${settings.connectedSystems.join(', ') || 'none'} (<a href="/admin/connections">Connections</a>).</p>
<button type="submit">Save</button></form>
<form method="post" action="/admin/sender" class="card" id="sender"><h2>Sender identity</h2>
<p class="small muted">Every campaign email names its sender and carries a postal address (CAN-SPAM, ePrivacy). With Mailchimp, the address shown is the audience's own contact address: keep both the same.</p>
<div class="grid"><label>Name emails are from<br><input type="text" name="senderName" value="${settings.sender?.name ?? ''}" required maxlength="100"></label>
<label>Reply address<br><input type="email" name="senderEmail" value="${settings.sender?.email ?? ''}" required></label></div>
<label>Postal address<br><input type="text" name="senderAddress" value="${settings.sender?.postalAddress ?? ''}" required style="width:100%"></label>
<button type="submit">Save</button></form>
<form method="post" action="/admin/brand" class="card" id="brand-form"><h2>Shop brand</h2>
<p class="small muted">What your customers see on the preference centre, the confirmation, unsubscribe and privacy pages: your shop's name, logo and colour. Tactful appears there only in a small “powered by” line.</p>
<div class="grid"><label>Shop name<br><input type="text" name="brandName" value="${settings.brand?.name ?? settings.sender?.name ?? ''}" required maxlength="100"></label>
<label>Accent colour (#rrggbb, empty for the default)<br><input type="text" name="accentColor" value="${settings.brand?.accentColor ?? ''}" placeholder="#1a7f5a" maxlength="7"></label></div>
<label>Logo URL (https://…, empty for none)<br><input type="url" name="logoUrl" value="${settings.brand?.logoUrl ?? ''}" placeholder="https://cdn.example.com/logo.png"></label>
<button type="submit">Save</button></form>
<form method="post" action="/admin/sensitive" class="card"><h2>Sensitive categories</h2>
<p class="small muted">Purchases in these catalogue categories (health, intimate items, ...) are never the basis or the stated reason of a recommendation, unless the customer allowed exactly that category in their preference centre.</p>
<label>Categories (one per line or comma-separated)<br><textarea name="categories" rows="3" style="width:100%">${settings.sensitiveCategories.join('\n')}</textarea></label>
<button type="submit">Save</button></form>
<form method="post" action="/admin/contact-policy" class="card"><h2>Frequency caps and quiet hours</h2>
<label>Caps (emails per days, all apply)<br><input type="text" name="caps" value="${contact.caps.map((c) => `${c.max}/${c.days}`).join(', ')}"></label>
<div class="grid"><label>Quiet hours from<br><input type="text" name="quietStart" placeholder="21:00" value="${contact.quietHours?.start ?? ''}"></label>
<label>to<br><input type="text" name="quietEnd" placeholder="08:00" value="${contact.quietHours?.end ?? ''}"></label></div>
<label>Time zone when the customer's is unknown<br><input type="text" name="defaultTimeZone" value="${contact.defaultTimeZone}"></label>
<label>Do not feature the same product to the same person again within (days; empty for no limit)<br><input type="number" name="productResendDays" min="1" value="${contact.productResendDays ?? ''}"></label>
<button type="submit">Save</button></form>
<h2>Purposes and their clauses</h2>
${purposes.map((p) => purposeForm(p))}
${purposeForm(null)}`,
  });
}
