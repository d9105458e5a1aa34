import type { ConnectionView } from '@tactful/core';
import type { MailchimpAudience } from '@tactful/mailchimp';
import { html, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';
import type { ChecklistItem } from '../checklist.js';
import type { ConnectionSource } from '../../mailchimp-connection.js';

export interface ShopifyView {
  apiKeySet: boolean;
  secretSet: boolean;
  /** The scopes the app asks for (SHOPIFY_SCOPES). */
  scopes: string | undefined;
  /** The scopes the shop granted at install (the stored offline session), if installed. */
  granted: string | null;
  /** When the last successful pull from Shopify started. */
  cursor: Date | null;
}

export interface Connections {
  notice?: { kind: 'ok' | 'error'; text: string } | undefined;
  source: ConnectionSource | null;
  stored: ConnectionView | null;
  /** The account's audiences while one is being picked; null otherwise. */
  audiences: MailchimpAudience[] | null;
  audienceError: string | null;
  shopify: ShopifyView;
  checklist: ChecklistItem[];
  webhookUrlBase: string;
}

/** The checklist of what is missing before the first send, each item with a link to fix it. */
export function checklistSection(items: readonly ChecklistItem[], heading = 'Before the first send'): SafeHtml {
  const missing = items.filter((i) => !i.done).length;
  return html`<section class="card checklist" aria-labelledby="checklist-title"><h2 id="checklist-title">${heading}</h2>
<p class="small ${missing === 0 ? 'ok' : 'muted'}" data-checklist-missing="${missing}">${missing === 0 ? 'Everything is ready for the first send.' : `${missing} of ${items.length} still to do.`}</p>
<ul class="checklist-items">${items.map(
    (i) =>
      html`<li data-check="${i.key}" data-done="${i.done ? 'yes' : 'no'}"><span class="check-mark" aria-hidden="true">${i.done ? '✓' : '○'}</span> <strong>${i.label}</strong><span class="visually-hidden">${i.done ? ' (done)' : ' (to do)'}</span>: <span class="small">${i.detail}</span>${i.done ? '' : html` <a href="${i.href}">Fix it</a>`}</li>`,
  )}</ul></section>`;
}

function detailText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function mailchimpCard(c: Connections): SafeHtml {
  if (c.source === 'environment')
    return html`<section class="card" id="mailchimp"><h2>Mailchimp</h2>
<p><strong>Set from the environment</strong> (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID). The environment wins over this page: to change the key or the audience, change those variables and restart.</p></section>`;
  const stored = c.stored;
  if (!stored)
    return html`<section class="card" id="mailchimp"><h2>Mailchimp</h2>
<p>Campaigns are sent through your Mailchimp audience. Paste an API key: Tactful checks it with Mailchimp before it keeps it, encrypted; it is never shown again.</p>
<form method="post" action="/admin/connections/mailchimp" class="stack"><label>API key<br><input type="password" name="apiKey" autocomplete="off" spellcheck="false" required placeholder="0123…-us21" class="wide"></label>
<p class="small muted">In Mailchimp: Profile → Extras → API keys → Create A Key. It ends in your data centre, e.g. -us21.</p>
<button type="submit">Check and connect</button></form></section>`;
  const audienceId = detailText(stored.details.audienceId);
  const picker = c.audiences
    ? c.audiences.length === 0
      ? html`<p class="notice error" role="alert">The account has no audience: create one in Mailchimp (Audience → Create audience), then reload this page.</p>`
      : html`<form method="post" action="/admin/connections/mailchimp/audience" class="stack"><fieldset><legend>Pick the audience your customers are in</legend>${c.audiences.map(
          (a) =>
            html`<label class="check"><input type="radio" name="audienceId" value="${a.id}"${a.id === audienceId ? html` checked` : ''} required><span><strong>${a.name}</strong> · ${a.members} subscribed${a.hasPostalAddress ? '' : ' · no postal address yet'}${a.doubleOptIn ? ' · double opt-in' : ''}</span></label>`,
        )}</fieldset><button type="submit">Use this audience</button></form>`
    : c.audienceError
      ? html`<p class="notice error" role="alert">The audiences could not be read: ${c.audienceError}</p>`
      : '';
  const webhookError = detailText(stored.details.webhookError);
  const mergeError = detailText(stored.details.mergeFieldsError);
  return html`<section class="card" id="mailchimp"><h2>Mailchimp</h2>
<dl class="facts"><dt>API key</dt><dd>ending in <code>${stored.hints.apiKey ?? ''}</code> (stored encrypted; never shown again)</dd>
<dt>Data centre</dt><dd>${detailText(stored.details.server)}</dd>
<dt>Audience</dt><dd>${audienceId ? html`${detailText(stored.details.audienceName)} <span class="small muted">(${audienceId})</span> · <a href="/admin/connections?change=audience">change</a>` : 'not chosen yet'}</dd>
<dt>Webhook</dt><dd>${typeof stored.details.webhookId === 'string' ? html`registered <span class="small muted">(${c.webhookUrlBase}…${stored.hints.webhookSecret ?? ''})</span>` : webhookError ? html`<span class="error-text">refused: ${webhookError}</span>` : 'not registered yet'}</dd>
<dt>Merge fields</dt><dd>${stored.details.mergeFieldsReady === true ? 'on the audience' : mergeError ? html`<span class="error-text">${mergeError}</span>` : 'not created yet'}</dd></dl>
${picker}
${audienceId && (typeof stored.details.webhookId !== 'string' || stored.details.mergeFieldsReady !== true) ? html`<form method="post" action="/admin/connections/mailchimp/setup" class="inline"><button type="submit" class="secondary">Check again</button></form>` : ''}
<form method="post" action="/admin/connections/mailchimp" class="stack"><details><summary>Replace the API key</summary><label>New API key<br><input type="password" name="apiKey" autocomplete="off" spellcheck="false" class="wide"></label><button type="submit" class="secondary">Check and replace</button></details></form>
<form method="post" action="/admin/connections/mailchimp/disconnect" class="inline"><button type="submit" class="secondary">Disconnect Mailchimp</button></form></section>`;
}

function shopifyCard(s: ShopifyView): SafeHtml {
  const scopes = (list: string) =>
    html`<ul class="tags">${list
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .map((x) => html`<li><code>${x}</code></li>`)}</ul>`;
  return html`<section class="card" id="shopify"><h2>Shopify</h2>${
    s.apiKeySet || s.secretSet
      ? html`<dl class="facts"><dt>App credentials</dt><dd>set from the environment (${[s.apiKeySet ? 'SHOPIFY_API_KEY' : '', s.secretSet ? 'SHOPIFY_API_SECRET' : ''].filter(Boolean).join(', ')})</dd>
<dt>Installed</dt><dd>${s.granted !== null ? 'yes' : 'not yet: install the app from the Shopify admin'}</dd>
${s.granted !== null ? html`<dt>Scopes granted</dt><dd>${scopes(s.granted)}</dd>` : ''}
${s.scopes ? html`<dt>Scopes asked for</dt><dd>${scopes(s.scopes)} <span class="small muted">(SHOPIFY_SCOPES)</span></dd>` : ''}
<dt>Last sync</dt><dd>${s.cursor ? s.cursor.toISOString().replace('T', ' ').slice(0, 16) : 'never'}</dd></dl>`
      : html`<p>Shopify is not configured. A Shopify app is connected by installing it: set SHOPIFY_API_KEY, SHOPIFY_API_SECRET and SHOPIFY_SCOPES in the environment (Shopify gives them when you create the app), restart, and install the app from the Shopify admin. Its credentials are the app's, not the shop's, so they stay in the environment.</p>`
  }</section>`;
}

export function connectionsPage(c: Connections): string {
  return page({
    title: 'Connections',
    admin: { current: '/admin/connections' },
    body: html`<h1>Connections</h1>
${c.notice ? html`<div class="notice ${c.notice.kind}" role="${c.notice.kind === 'error' ? 'alert' : 'status'}">${c.notice.text}</div>` : ''}
${checklistSection(c.checklist)}
${mailchimpCard(c)}
${shopifyCard(c.shopify)}`,
  });
}
