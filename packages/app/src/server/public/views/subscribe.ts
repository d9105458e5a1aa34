import type { Purpose } from '@tactful/core';
import { html } from '../../html.js';
import { page } from '../../layout.js';
import { clauseLink } from './parts.js';

export function subscribeForm(
  purposes: readonly Purpose[],
  values: { email?: string | undefined; chosen?: readonly string[] | undefined; error?: string | undefined } = {},
): string {
  return page({
    title: 'Subscribe',
    narrow: true,
    body: html`<h1>Stay in touch</h1>
${values.error ? html`<div class="notice error" role="alert">${values.error}</div>` : ''}
<form method="post" action="/subscribe" class="card">
  <label>Your email address<br><input type="email" name="email" required autocomplete="email" value="${values.email ?? ''}"></label>
  <p class="muted small">Choose what you agree to. Each choice is separate, and you can change it at any time.</p>
  ${purposes.map(
    (
      p,
    ) => html`<label class="check"><input type="checkbox" name="purpose" value="${p.key}"${values.chosen?.includes(p.key) ? html` checked` : ''}>
    <span><strong>${p.title}</strong><br>${p.description}<br><span class="small">Terms: ${clauseLink(p)}</span></span></label>`,
  )}
  <p><button type="submit">Subscribe</button></p>
</form>
<p class="small"><a href="/preferences">Already subscribed? Manage your preferences</a></p>`,
  });
}
