import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import { field } from '../form-fields.js';
import { messagePage } from '../layout.js';
import { readSignedToken } from '../signed-links.js';
import { evidenceOf } from './evidence.js';
import { purposeTitles } from './purposes.js';
import { refusal } from './refusal.js';
import { unsubscribePage } from './views/links.js';
import { sendLinkForm } from './views/parts.js';

/** RFC 8058: GET shows a button; POST with List-Unsubscribe=One-Click (from the button or the mail client) unsubscribes. */
export function unsubscribeRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

  router.get('/unsubscribe', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    try {
      const payload = await readSignedToken(tactful, token, 'unsubscribe');
      const purpose = (await purposeTitles(tactful)).get(payload.purpose);
      res.send(unsubscribePage(token, purpose?.title ?? payload.purpose));
    } catch (error) {
      if (!refusal(res, error, 'Use the link of a more recent email, or the preference centre.')) throw error;
    }
  });

  router.post('/unsubscribe', express.text({ type: 'multipart/form-data', limit: '16kb' }), async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : (field(req.body, 'token') ?? '');
    const oneClick =
      typeof req.body === 'string'
        ? /name="List-Unsubscribe"\r?\n\r?\nOne-Click\r?\n/i.test(req.body)
        : field(req.body, 'List-Unsubscribe') === 'One-Click';
    if (!oneClick) {
      res
        .status(400)
        .send(
          messagePage(
            'Unsubscribe request incomplete',
            'This request does not carry List-Unsubscribe=One-Click (RFC 8058). Nothing was changed: open the link and press the button.',
            'error',
          ),
        );
      return;
    }
    try {
      const outcome = await tactful.consent.unsubscribe(token, evidenceOf(req));
      const purpose = (await purposeTitles(tactful)).get(outcome.purpose);
      res.send(
        messagePage(
          'You are unsubscribed',
          outcome.alreadyWithdrawn
            ? `You were already unsubscribed from ${purpose?.title ?? outcome.purpose}.`
            : `Done: no more ${purpose?.title ?? outcome.purpose}.`,
          'ok',
          sendLinkForm(
            token,
            'Want to change your other choices? ' +
              'We can email a link to your preferences to the address this email was sent to.',
          ),
        ),
      );
    } catch (error) {
      if (!refusal(res, error, 'Use the link of a more recent email, or the preference centre.')) throw error;
    }
  });

  return router;
}
