import { type Actor, isTactfulError, type StepPreview, type Tactful } from '@tactful/core';
import express, { type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import type { AppContext } from '../context.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText as q } from '../form-fields.js';
import { flowsPage } from './views/flows.js';

const FLOW = 'post-purchase';

/** The flow's settings patch from the form; numbers that do not parse go through as NaN, which core names. */
function patchOf(field: (name: string) => string): Record<string, unknown> {
  const number = (name: string) => (field(name).trim() === '' ? Number.NaN : Number(field(name)));
  const id = (name: string) => field(name).trim() || null;
  return {
    enabled: field('enabled') === 'on',
    delayDays: number('delayDays'),
    window: { start: field('windowStart').trim(), end: field('windowEnd').trim() },
    holdoutShare: number('holdoutPercent') / 100,
    journeyId: id('journeyId'),
    stepId: id('stepId'),
    maxProducts: number('maxProducts'),
    subject: field('subject'),
  };
}

/** The Flows page: settings (audited), the next steps due and why, the funnel and the holdout comparison. */
export function adminFlows(ctx: AppContext): Router {
  const tactful: Tactful = ctx.tactful;
  const router = express.Router();

  async function render(actor: Actor, ok?: string, error?: string): Promise<string> {
    const flow = await tactful.flows.show(FLOW);
    const provider = ctx.provider;
    let preview: StepPreview[] = [];
    let previewNote: string | undefined;
    if (provider) preview = await tactful.flows.preview(FLOW, { provider, publicUrl: ctx.publicUrl, actor });
    else previewNote = 'No email provider is connected (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID): nothing is sent.';
    const journeys = provider?.capabilities.journeys === true;
    const delivery = flow.journeyId
      ? journeys
        ? `Mailchimp journey ${flow.journeyId}, step ${flow.stepId}`
        : `journey ${flow.journeyId} set, but the provider runs no journeys: daily campaign waves`
      : 'daily campaign waves';
    return flowsPage({
      flow,
      report: await tactful.flows.report(FLOW),
      preview,
      previewNote,
      delivery,
      currency: (await tactful.settings.get()).currency,
      ok,
      error,
    });
  }

  router.get('/admin/flows', async (req, res) => {
    res.send(await render(adminActorOf(res), q(req, 'saved') === '1' ? 'Saved.' : undefined));
  });

  router.post('/admin/flows', async (req, res) => {
    try {
      await tactful.flows.set(
        FLOW,
        patchOf((name) => bodyText(req, name)),
        adminActorOf(res),
      );
      res.redirect(303, '/admin/flows?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res
        .status(statusOf(error))
        .send(await render(adminActorOf(res), undefined, `${error.message} Nothing was changed.`));
    }
  });

  return router;
}
