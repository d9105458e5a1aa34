import express, { type Request, type Response, type Router } from 'express';
import type { AppContext } from '../context.js';
import { field } from '../form-fields.js';
import { messagePage } from '../layout.js';
import { freshForPrivacy, PRIVACY_LINK_MAX_AGE_MINUTES } from '../signed-links.js';
import { customerPreferences } from './evidence.js';
import { preferencesHolder } from './links.js';
import { sendLinkForm } from './views/parts.js';

/** Data-subject rights through the core's privacy module: access (a JSON download) and erasure. */
export function privacyRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

  const privacyAction = (action: 'export' | 'erase') => async (req: Request, res: Response) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(tactful, token, res);
    if (!holder) return;
    const { email } = holder;
    if (!freshForPrivacy(holder.payload, tactful.now())) {
      res
        .status(403)
        .send(
          messagePage(
            'We need a fresh link first',
            `To ${action === 'export' ? 'download' : 'delete'} your data, use a link we emailed you in the last ` +
              `${PRIVACY_LINK_MAX_AGE_MINUTES} minutes: links travel in emails that get forwarded. Nothing was changed.`,
            'error',
            sendLinkForm(token, 'We send the fresh link to the address on file.'),
          ),
        );
      return;
    }
    if (action === 'export') {
      const data = await tactful.privacy.export(email, customerPreferences);
      res
        .set('Content-Disposition', 'attachment; filename="my-data.json"')
        .set('Cache-Control', 'no-store')
        .type('application/json')
        .send(JSON.stringify(data, null, 2));
      return;
    }
    if (field(req.body, 'confirm') !== 'yes') {
      res
        .status(400)
        .send(
          messagePage(
            'Please confirm',
            'Tick the box to confirm that you want your data deleted. Nothing was changed.',
            'error',
          ),
        );
      return;
    }
    await tactful.privacy.erase(email, { reason: 'customer request (preference centre)' }, customerPreferences);
    res.send(
      messagePage(
        'Your data is deleted',
        'We deleted the personal data we held about you. We keep only a keyed fingerprint of your address so that no later import adds you back, and the proof of your past choices without your address.',
        'ok',
      ),
    );
  };
  router.post('/preferences/export', privacyAction('export'));
  router.post('/preferences/erase', privacyAction('erase'));

  return router;
}
