import { type Actor, isTactfulError, type Tactful } from '@tactful/core';
import type { MailchimpAudience } from '@tactful/mailchimp';
import express, { type Response, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import type { AppContext } from '../context.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText as q } from '../form-fields.js';
import { storeSessionStorage } from '../shopify-sessions.js';
import { setupChecklist } from './checklist.js';
import { connectionsPage, type ShopifyView } from './views/connections.js';

const MAILCHIMP = 'mailchimp';

async function withSystem(tactful: Tactful, system: string, on: boolean, actor: Actor): Promise<void> {
  const { connectedSystems } = await tactful.settings.get();
  const next = on ? [...new Set([...connectedSystems, system])] : connectedSystems.filter((s) => s !== system);
  if (next.length !== connectedSystems.length) await tactful.settings.update({ connectedSystems: next }, actor);
}

/**
 * Settings → Connections: Mailchimp connected from the page (the key checked with a ping, sealed under the shop's
 * key, the audience picked from the account's lists, the webhook registered and the merge fields created), and
 * Shopify as installed, with its scopes.
 */
export function connectionRoutes(ctx: AppContext): Router {
  const { tactful, mailchimp } = ctx;
  const router = express.Router();

  async function shopifyView(): Promise<ShopifyView> {
    let granted: string | null = null;
    if (ctx.shopify.secretSet) {
      const sessions = await storeSessionStorage(tactful).findSessionsByShop(tactful.shopId);
      granted = sessions.find((s) => !s.isOnline)?.scope ?? sessions[0]?.scope ?? null;
    }
    return { ...ctx.shopify, granted, cursor: await tactful.sync.cursor('shopify') };
  }

  async function render(res: Response, status: number, notice?: { kind: 'ok' | 'error'; text: string }): Promise<void> {
    const stored = await tactful.connections.get(MAILCHIMP);
    let audiences: MailchimpAudience[] | null = null;
    let audienceError: string | null = null;
    const choosing = stored !== null && mailchimp.source !== 'environment';
    if (choosing && (typeof stored.details.audienceId !== 'string' || res.req.query.change === 'audience')) {
      try {
        const secrets = await tactful.connections.secrets(MAILCHIMP);
        audiences = await mailchimp.account(secrets!.apiKey!).audiences();
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        audienceError = error.message;
      }
    }
    res.status(status).send(
      connectionsPage({
        notice,
        source: mailchimp.source,
        stored,
        audiences,
        audienceError,
        shopify: await shopifyView(),
        checklist: await setupChecklist(ctx),
        webhookUrlBase: `${ctx.publicUrl}/mailchimp/webhooks/`,
      }),
    );
  }

  /** Merge fields and the webhook of the chosen audience; each outcome is stored for the checklist. */
  async function finishSetup(actor: Actor): Promise<string[]> {
    const provider = mailchimp.adminProvider;
    if (!provider) return ['Pick an audience first.'];
    const problems: string[] = [];
    const details: Record<string, string | boolean | null> = {};
    try {
      await provider.ensureCampaignMergeFields();
      details.mergeFieldsReady = true;
      details.mergeFieldsError = null;
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      details.mergeFieldsReady = false;
      details.mergeFieldsError = error.message;
      problems.push(`Merge fields: ${error.message}`);
    }
    const stored = await tactful.connections.get(MAILCHIMP);
    if (typeof stored?.details.webhookId !== 'string') {
      try {
        const secret = (await tactful.connections.secrets(MAILCHIMP))!.webhookSecret!;
        const hook = await provider.registerWebhook(`${ctx.publicUrl}/mailchimp/webhooks/${secret}`);
        details.webhookId = hook.id;
        details.webhookError = null;
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        details.webhookError = error.message;
        problems.push(`Webhook: ${error.message}`);
      }
    }
    await tactful.connections.save(MAILCHIMP, { details }, actor);
    return problems;
  }

  const refuseFromEnvironment = async (res: Response): Promise<boolean> => {
    if (mailchimp.source !== 'environment') return false;
    await render(res, 409, {
      kind: 'error',
      text: 'Mailchimp is set from the environment (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID), which wins over this page: change it there. Nothing was changed.',
    });
    return true;
  };

  router.get('/admin/connections', async (req, res) => {
    const done = q(req, 'done');
    const notices: Record<string, string> = {
      key: 'Mailchimp accepted the key. Now pick the audience your customers are in.',
      replaced: 'Mailchimp accepted the new key; the audience stays the same.',
      connected: 'Mailchimp is connected: campaigns are sent through this audience from now on.',
      setup: 'Checked again.',
      disconnected: 'Mailchimp is disconnected and its key forgotten.',
    };
    await render(res, 200, notices[done] ? { kind: 'ok', text: notices[done] } : undefined);
  });

  router.post('/admin/connections/mailchimp', async (req, res) => {
    if (await refuseFromEnvironment(res)) return;
    const apiKey = bodyText(req, 'apiKey').trim();
    try {
      if (apiKey === '')
        return void (await render(res, 400, {
          kind: 'error',
          text: 'Paste your Mailchimp API key (Mailchimp → Profile → Extras → API keys). Nothing was changed.',
        }));
      // Checked before anything is stored: a wrong key is refused with Mailchimp's own reason.
      const account = mailchimp.account(apiKey);
      await account.ping();
      const previous = await tactful.connections.secrets(MAILCHIMP);
      // A replaced key that still reaches the chosen audience keeps it (and its webhook); else the audience is
      // picked again.
      const stored = await tactful.connections.get(MAILCHIMP);
      const audienceId = stored?.details.audienceId;
      const keeps = typeof audienceId === 'string' && (await account.audiences()).some((a) => a.id === audienceId);
      await tactful.connections.save(
        MAILCHIMP,
        {
          secrets: { apiKey, webhookSecret: previous?.webhookSecret ?? (await mailchimp.webhookSecret()) },
          details: keeps
            ? { server: account.server }
            : {
                server: account.server,
                audienceId: null,
                audienceName: null,
                webhookId: null,
                webhookError: null,
                mergeFieldsReady: null,
                mergeFieldsError: null,
              },
        },
        adminActorOf(res),
      );
      await mailchimp.reload();
      res.redirect(303, `/admin/connections?done=${keeps ? 'replaced' : 'key'}`);
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      const text =
        error.code === 'MAILCHIMP.UNAUTHORIZED'
          ? `Mailchimp refused this key: ${error.message} Nothing was stored.`
          : `${error.message} Nothing was stored.`;
      await render(res, error.code === 'MAILCHIMP.UNAUTHORIZED' ? 400 : statusOf(error), { kind: 'error', text });
    }
  });

  router.post('/admin/connections/mailchimp/audience', async (req, res) => {
    if (await refuseFromEnvironment(res)) return;
    const secrets = await tactful.connections.secrets(MAILCHIMP);
    if (!secrets?.apiKey)
      return void (await render(res, 409, {
        kind: 'error',
        text: 'Connect Mailchimp with an API key first. Nothing was changed.',
      }));
    const audienceId = bodyText(req, 'audienceId').trim();
    try {
      const audience = (await mailchimp.account(secrets.apiKey).audiences()).find((a) => a.id === audienceId);
      if (!audience)
        return void (await render(res, 400, {
          kind: 'error',
          text: `${audienceId === '' ? 'No audience was picked' : `The account has no audience "${audienceId}"`}: pick one of the audiences listed. Nothing was changed.`,
        }));
      const stored = await tactful.connections.get(MAILCHIMP);
      const changed = stored?.details.audienceId !== audience.id;
      await tactful.connections.save(
        MAILCHIMP,
        {
          details: {
            audienceId: audience.id,
            audienceName: audience.name,
            audienceHasAddress: audience.hasPostalAddress,
            audienceDoubleOptIn: audience.doubleOptIn,
            ...(changed ? { webhookId: null, webhookError: null, mergeFieldsReady: null, mergeFieldsError: null } : {}),
          },
        },
        adminActorOf(res),
      );
      await mailchimp.reload();
      await withSystem(tactful, MAILCHIMP, true, adminActorOf(res));
      const problems = await finishSetup(adminActorOf(res));
      if (problems.length > 0)
        return void (await render(res, 200, {
          kind: 'error',
          text: `The audience is chosen, but: ${problems.join(' ')} Fix it and press "Check again".`,
        }));
      res.redirect(303, '/admin/connections?done=connected');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      await render(res, statusOf(error), { kind: 'error', text: `${error.message} Nothing was changed.` });
    }
  });

  router.post('/admin/connections/mailchimp/setup', async (_req, res) => {
    if (await refuseFromEnvironment(res)) return;
    const problems = await finishSetup(adminActorOf(res));
    if (problems.length > 0) return void (await render(res, 200, { kind: 'error', text: problems.join(' ') }));
    res.redirect(303, '/admin/connections?done=setup');
  });

  router.post('/admin/connections/mailchimp/disconnect', async (_req, res) => {
    if (await refuseFromEnvironment(res)) return;
    await tactful.connections.remove(MAILCHIMP, adminActorOf(res));
    await withSystem(tactful, MAILCHIMP, false, adminActorOf(res));
    await mailchimp.reload();
    res.redirect(303, '/admin/connections?done=disconnected');
  });

  return router;
}
