import express, { type Request, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { exclusionLabels, isTactfulError, TactfulError, type ExclusionReason, type Tactful } from '@tactful/core';
import type { AppContext } from '../context.js';
import { html, type SafeHtml } from '../html.js';
import { statusOf } from '../error-status.js';
import { formText as field } from '../form-fields.js';
import { campaignPage, resultCard } from './views/campaign.js';

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
    const stats = await tactful.campaign.stats();
    const provider = ctx.provider && {
      system: ctx.provider.system,
      canSend: ctx.provider.capabilities.campaigns === true,
      reports: ctx.provider.capabilities.reports === true,
    };
    return campaignPage({
      name,
      subject,
      email,
      segments,
      chosen,
      sender: settings.sender,
      provider,
      stats,
      currency: settings.currency,
      outcome,
    });
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
        { provider: ctx.provider, actor: adminActorOf(res) },
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
