import {
  type CampaignRunResult,
  type ExclusionReason,
  exclusionLabels,
  formatMoney,
  type Tactful,
} from '@tactful/core';
import { html, raw, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';

export function resultCard(result: CampaignRunResult): SafeHtml {
  const rows: Array<[string, number]> = [
    [result.dryRun ? 'Would get it now' : 'Sent now', result.dryRun ? result.eligible : result.sent],
  ];
  if (result.alreadySent) rows.push(['Already got it in an earlier run', result.alreadySent]);
  if (result.resumedWaves) rows.push(['Interrupted sends finished', result.resumedWaves]);
  if (result.failed.length) rows.push(['Refused by the provider', result.failed.length]);
  for (const [reason, n] of Object.entries(result.excluded) as Array<[ExclusionReason, number]>)
    rows.push([`Not sent: ${exclusionLabels[reason]}`, n]);
  return html`<section class="card" aria-label="campaign result"><h2>${result.dryRun ? 'Dry run' : 'Sent'}: ${result.campaign}</h2>
${result.warnings.map((w) => html`<div class="notice error" role="alert">${w}</div>`)}
<table><thead><tr><th>People</th><th class="num">Count</th></tr></thead><tbody>${rows.map(([label, n]) => html`<tr><td>${label}</td><td class="num">${n}</td></tr>`)}</tbody></table>
${result.failed.length ? html`<details><summary>Refused by the provider</summary><ul>${result.failed.map((f) => html`<li>${f.email}: ${f.code} — ${f.message}</li>`)}</ul></details>` : ''}
</section>${result.previews.map((p) => html`<section class="card email"><h3>To ${p.email}</h3>${raw(p.html)}</section>`)}`;
}

type CampaignStats = Awaited<ReturnType<Tactful['campaign']['stats']>>;

function campaignsTable(stats: CampaignStats, currency: string): SafeHtml {
  if (stats.length === 0) return html`<p class="empty">No campaign was sent yet.</p>`;
  return html`<table><thead><tr><th>Campaign</th><th>Subject</th><th>Last run</th><th class="num">Sent</th><th class="num">Opens</th><th class="num">Clicks</th><th class="num">Unsubscribes</th><th class="num">Orders</th><th class="num">Revenue</th></tr></thead><tbody>${stats.map(
    (s) =>
      html`<tr><td>${s.name}</td><td>${s.subject}</td><td>${s.lastRunAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td class="num">${s.sends}</td><td class="num">${s.opens}</td><td class="num">${s.clicks}</td><td class="num">${s.unsubscribes}</td><td class="num">${s.attributedOrders}</td><td class="num">${formatMoney(s.revenue, currency)}</td></tr>`,
  )}</tbody></table>`;
}

export interface CampaignForm {
  name: string;
  subject: string;
  email: string;
  segments: ReadonlyArray<{ name: string }>;
  /** The saved segment chosen, or empty for everyone eligible. */
  chosen: string;
  sender: Awaited<ReturnType<Tactful['settings']['get']>>['sender'];
  /** The connected provider, when it can send campaigns; `reports` when it can fetch their reports. */
  provider: { system: string; canSend: boolean; reports: boolean } | undefined;
  stats: CampaignStats;
  currency: string;
  /** The result of what was just asked (a dry run, a preview, a send), or nothing. */
  outcome: SafeHtml | string;
}

export function campaignPage(c: CampaignForm): string {
  const { name, subject, email, segments, chosen, outcome } = c;
  const settings = { sender: c.sender };
  const canSend = c.provider?.canSend === true;
  const body = html`<h1>Campaign</h1>
<form class="card" method="get" action="/admin/campaign"><h2>Related-product campaign</h2>
<div class="grid"><label>Name (a re-run with the same name sends only to people who did not get it yet)<br><input type="text" name="name" value="${name}" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,79}"></label>
<label>Subject line<br><input type="text" name="subject" value="${subject}" required maxlength="150"></label>
<label>Segment<br><select name="segment"><option value="">everyone eligible</option>${segments.map((s) => html`<option value="${s.name}"${s.name === chosen ? html` selected` : ''}>${s.name}</option>`)}</select></label></div>
<button type="submit" name="dry" value="1">Dry run</button>
<button type="submit" formmethod="post" formaction="/admin/campaign/send" class="secondary"${canSend && settings.sender ? '' : html` disabled`}>Send now</button>
<p class="small muted">${
    !settings.sender
      ? 'Sending needs the sender identity (name, reply address, postal address): set it in Settings.'
      : canSend
        ? `From ${settings.sender.name} <${settings.sender.email}> through ${c.provider!.system}. Each person gets it at most once.`
        : 'No email provider is connected: dry runs only. Connect Mailchimp on the Connections page.'
  }</p></form>
<form class="inline card" method="get" action="/admin/campaign"><input type="hidden" name="name" value="${name}"><input type="hidden" name="subject" value="${subject}">
<label>One customer's email<br><input type="email" name="email" value="${email}" required></label><button type="submit">Preview their email</button></form>
${outcome}
<section class="card"><h2>Campaigns sent</h2>${campaignsTable(c.stats, c.currency)}
${c.provider?.reports ? html`<form method="post" action="/admin/campaign/reports"><button type="submit" class="secondary">Fetch the latest reports from ${c.provider.system}</button></form>` : ''}</section>`;
  return page({ title: 'Campaign', admin: { current: '/admin/campaign' }, body });
}
