import type { Purpose } from '@tactful/core';
import { html } from '../../html.js';
import { page } from '../../layout.js';
import { clauseLink } from './parts.js';

/** What a confirmation link asks for, behind a button: mail scanners that open links change nothing. */
export function confirmPage(token: string, purposes: readonly string[], titles: Map<string, Purpose>): string {
  return page({
    title: 'Confirm your subscription',
    narrow: true,
    body: html`<h1>Confirm your subscription</h1>
<div class="card"><p>You asked for:</p><ul>${purposes.map((p) => html`<li><strong>${titles.get(p)?.title ?? p}</strong>${titles.get(p) ? html` — ${clauseLink(titles.get(p)!)}` : ''}</li>`)}</ul>
<form method="post" action="/confirm"><input type="hidden" name="token" value="${token}"><button type="submit">Yes, confirm</button></form></div>`,
  });
}

/** The unsubscribe link's page: one button that posts List-Unsubscribe=One-Click (RFC 8058). */
export function unsubscribePage(token: string, purposeTitle: string): string {
  return page({
    title: 'Unsubscribe',
    narrow: true,
    body: html`<h1>Unsubscribe</h1><div class="card"><p>Stop <strong>${purposeTitle}</strong>?</p>
<form method="post" action="/unsubscribe?token=${encodeURIComponent(token)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" class="danger">Unsubscribe</button></form></div>`,
  });
}
