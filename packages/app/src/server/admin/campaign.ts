import express, { type Request, type Router } from 'express';
import {
  exclusionLabels,
  formatMoney,
  isTactfulError,
  TactfulError,
  type CampaignRunResult,
  type ExclusionReason,
  type Tactful,
} from '@tactful/core';
import type { AppContext } from '../context.js';
import { html, raw, type SafeHtml } from '../html.js';
import { statusOf } from '../error-status.js';
import { formText as field } from '../form-fields.js';
import { page } from '../layout.js';

const adminActor = { type: 'admin', id: 'dashboard' } as const;

function resultCard(result: CampaignRunResult): SafeHtml {
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

async function campaignsTable(tactful: Tactful): Promise<SafeHtml> {
  const stats = await tactful.campaign.stats();
  if (stats.length === 0) return html`<p class="empty">No campaign was sent yet.</p>`;
  const { currency } = await tactful.settings.get();
  return html`<table><thead><tr><th>Campaign</th><th>Subject</th><th>Last run</th><th class="num">Sent</th><th class="num">Opens</th><th class="num">Clicks</th><th class="num">Unsubscribes</th><th class="num">Orders</th><th class="num">Revenue</th></tr></thead><tbody>${stats.map(
    (s) =>
      html`<tr><td>${s.name}</td><td>${s.subject}</td><td>${s.lastRunAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td class="num">${s.sends}</td><td class="num">${s.opens}</td><td class="num">${s.clicks}</td><td class="num">${s.unsubscribes}</td><td class="num">${s.attributedOrders}</td><td class="num">${formatMoney(s.revenue, currency)}</td></tr>`,
  )}</tbody></table>`;
}

/**
 * Campaigns: a dry run of the related-product campaign (who would get it, who would not and why, the emails
 * themselves), one customer's email, sending through the connected provider, and what each campaign did.
 */
export function adminCampaign(ctx: AppContext): Router {
  const tactful: Tactful = ctx.tactful;
  const router = express.Router();

  async function render(req: Request, outcome: SafeHtml | string) {
    const name = field(req, 'name') || `campaign-${tactful.now().toISOString().slice(0, 10)}`;
    const subject = field(req, 'subject') || 'Picked for you';
    const email = field(req, 'email');
    const segments = await tactful.segments.list();
    const chosen = field(req, 'segment');
    const settings = await tactful.settings.get();
    const canSend = ctx.provider?.capabilities.campaigns === true;
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
          ? `From ${settings.sender.name} <${settings.sender.email}> through ${ctx.provider!.system}. Each person gets it at most once.`
          : 'No email provider is connected (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID): dry runs only.'
    }</p></form>
<form class="inline card" method="get" action="/admin/campaign"><input type="hidden" name="name" value="${name}"><input type="hidden" name="subject" value="${subject}">
<label>One customer's email<br><input type="email" name="email" value="${email}" required></label><button type="submit">Preview their email</button></form>
${outcome}
<section class="card"><h2>Campaigns sent</h2>${await campaignsTable(tactful)}
${ctx.provider?.capabilities.reports ? html`<form method="post" action="/admin/campaign/reports"><button type="submit" class="secondary">Fetch the latest reports from ${ctx.provider.system}</button></form>` : ''}</section>`;
    return page({ title: 'Campaign', admin: { current: '/admin/campaign' }, body });
  }

  async function segmentOf(req: Request): Promise<unknown> {
    const name = field(req, 'segment');
    if (!name) return undefined;
    const saved = (await tactful.segments.list()).find((s) => s.name === name);
    if (!saved) throw new TactfulError('SEGMENT.NOT_FOUND', `No saved segment "${name}".`);
    return saved.definition;
  }

  const base = (req: Request) => ({
    name: field(req, 'name') || `campaign-${tactful.now().toISOString().slice(0, 10)}`,
    subject: field(req, 'subject') || 'Picked for you',
    publicUrl: ctx.publicUrl,
  });

  router.get('/admin/campaign', async (req, res) => {
    let outcome: SafeHtml | string = '';
    try {
      const email = field(req, 'email');
      if (email) {
        const subjectId = await tactful.audit.subjectIdOf(email);
        if (!subjectId) outcome = html`<div class="notice error" role="alert">No customer with email ${email}.</div>`;
        else {
          const result = await tactful.campaign.run({ ...base(req), dryRun: true, only: [subjectId], previews: 1 });
          const reason = Object.keys(result.excluded)[0] as ExclusionReason | undefined;
          outcome = html`${
            result.eligible === 1
              ? html`<div class="notice ok" role="status">${email} would receive the email now.</div>`
              : result.alreadySent === 1
                ? html`<div class="notice ok" role="status">${email} already received campaign ${result.campaign}.</div>`
                : html`<div class="notice error" role="alert">${email} would not receive it: ${reason ? exclusionLabels[reason] : 'not eligible'}.</div>`
          }${resultCard({ ...result, excluded: {} })}`;
        }
      } else if (field(req, 'dry') === '1') {
        outcome = resultCard(
          await tactful.campaign.run({ ...base(req), segment: await segmentOf(req), dryRun: true, previews: 5 }),
        );
      }
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      outcome = html`<div class="notice error" role="alert">${error.message}</div>`;
    }
    res.send(await render(req, outcome));
  });

  router.post('/admin/campaign/send', async (req, res) => {
    let outcome: SafeHtml;
    let status = 200;
    try {
      const result = await tactful.campaign.run(
        { ...base(req), segment: await segmentOf(req), dryRun: false, previews: 0 },
        { provider: ctx.provider, actor: adminActor },
      );
      outcome = resultCard(result);
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      status = statusOf(error);
      outcome = html`<div class="notice error" role="alert">${error.message}</div>`;
    }
    res.status(status).send(await render(req, outcome));
  });

  router.post('/admin/campaign/reports', async (req, res) => {
    let outcome: SafeHtml;
    if (!ctx.provider) outcome = html`<div class="notice error" role="alert">No email provider is connected.</div>`;
    else {
      try {
        const { refreshed } = await tactful.campaign.refreshReports(ctx.provider);
        outcome = html`<div class="notice ok" role="status">${refreshed} campaign report${refreshed === 1 ? '' : 's'} fetched from ${ctx.provider.system}.</div>`;
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        outcome = html`<div class="notice error" role="alert">${error.message}</div>`;
      }
    }
    res.send(await render(req, outcome));
  });
  return router;
}
