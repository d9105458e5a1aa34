import type { RecommendationReason } from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { safeUrl } from '../../layout.js';

export function stateBadge(state: string): SafeHtml {
  return html`<span class="state state-${['granted', 'pending', 'withdrawn'].includes(state) ? state : 'none'}">${state}</span>`;
}

export function clauseLink(p: { documentUrl: string; clause: string; version: string }): SafeHtml {
  return html`<a href="${safeUrl(p.documentUrl)}" rel="noopener noreferrer" target="_blank">${p.clause}</a> <span class="muted small">(version ${p.version})</span>`;
}

export function demoInboxHint(demo: boolean): SafeHtml | string {
  return demo
    ? html`<p class="small muted">Demo mode: emails are not sent; read them in the <a href="/demo/mail">demo inbox</a>.</p>`
    : '';
}

/** A button that mails a fresh preference link to the address on file of the token's person. */
export function sendLinkForm(token: string, note: string): SafeHtml {
  return html`${note ? html`<p>${note}</p>` : ''}<form method="post" action="/preferences/send-link"><input type="hidden" name="token" value="${token}"><button type="submit" class="secondary">Email me a link to my preferences</button></form>`;
}

export function describeReason(reason: RecommendationReason, titles: Map<string, string>): SafeHtml {
  switch (reason.kind) {
    case 'bought-with':
      return html`because you bought <strong>${titles.get(reason.because) ?? reason.because}</strong>: customers who bought it also bought this in ${reason.stats.count} orders
        (${(reason.stats.confidence * 100).toFixed(0)}% of them; ${reason.stats.lift.toFixed(1)}× more often than chance)`;
    case 'popular-in-category':
      return html`popular in <strong>${reason.category}</strong>, a category you bought from (${reason.count} orders)`;
    case 'declared-interest':
      return html`because you told us you like <strong>${reason.category}</strong>: one of its most popular products (${reason.count} orders)`;
    case 'popular':
      return html`one of the shop's most popular products (${reason.count} orders)`;
    case 'pinned':
      return html`recommended by the shop`;
  }
}

/** How a profile attribute is named to people (the preference centre and the owner's customer page). */
export const attributeLabels: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  gender: 'Gender',
  birthDate: 'Birth date',
  country: 'Country',
  region: 'Region',
  city: 'City',
  jobTitle: 'Job title',
  timeZone: 'Time zone',
  phone: 'Phone',
  interests: 'Interests',
};
