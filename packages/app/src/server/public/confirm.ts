import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import { field } from '../form-fields.js';
import { html } from '../html.js';
import { messagePage } from '../layout.js';
import { readSignedToken } from '../signed-links.js';
import { emailOfSubject } from '../subject-data.js';
import { evidenceOf } from './evidence.js';
import { preferencesLink, sendWelcome } from './mails.js';
import { purposeTitles } from './purposes.js';
import { refusal } from './refusal.js';
import { confirmPage } from './views/links.js';
import { demoInboxHint } from './views/parts.js';

/** The double opt-in link: GET shows what it confirms, POST confirms it. */
export function confirmRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

  // The confirmation link only shows a button: mail scanners that open links change nothing.
  router.get('/confirm', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    try {
      const payload = await readSignedToken(tactful, token, 'opt-in');
      res.send(confirmPage(token, payload.purposes, await purposeTitles(tactful)));
    } catch (error) {
      if (!refusal(res, error, 'Subscribe again to get a new confirmation link.')) throw error;
    }
  });

  router.post('/confirm', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    try {
      const { subjectId, purposes } = await tactful.consent.confirmOptIn(token, evidenceOf(req));
      const titles = await purposeTitles(tactful);
      const email = await emailOfSubject(tactful, subjectId);
      if (email) await sendWelcome(ctx, email, subjectId, purposes);
      res.send(
        messagePage(
          'Subscription confirmed',
          `Thank you: ${purposes.map((p) => titles.get(p)?.title ?? p).join(' and ')} confirmed.`,
          'ok',
          html`<p><a class="button" href="${await preferencesLink(ctx, subjectId)}">See what we hold and why</a></p>${demoInboxHint(ctx.demo)}`,
        ),
      );
    } catch (error) {
      if (!refusal(res, error, 'Subscribe again to get a new confirmation link.')) throw error;
    }
  });

  return router;
}
