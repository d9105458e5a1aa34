import { isTactfulError, type Tactful } from '@tactful/core';
import express, { type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText } from '../form-fields.js';
import { mergePage } from './views/merge.js';

/**
 * Merging two people who are one: the owner names both by address, sees both and the result (the preview is
 * audited as a view of both), and confirms; the merge runs through `tactful.profiles.merge`, audited. A refusal
 * (the same person, an unknown, erased or suppressed address) is the page again with the reason, nothing changed.
 */
export function mergeRoutes(tactful: Tactful): Router {
  const router = express.Router();

  router.get('/admin/merge', async (req, res) => {
    const keep = queryText(req, 'keep').trim();
    const other = queryText(req, 'other').trim();
    const ok = queryText(req, 'merged') ? `Merged. ${queryText(req, 'merged')} is now one person.` : undefined;
    // One address named (the customer page's "merge" link): the form, filled in, waits for the other.
    if (!keep || !other) return void res.send(mergePage({ ok, keep, other }));
    try {
      const preview = await tactful.profiles.previewMerge(keep, other, adminActorOf(res));
      res.send(mergePage({ keep, other, preview }));
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(statusOf(error)).send(mergePage({ keep, other, error: `${error.message} Nothing was changed.` }));
    }
  });

  router.post('/admin/merge', async (req, res) => {
    const keep = bodyText(req, 'keep').trim();
    const other = bodyText(req, 'other').trim();
    try {
      await tactful.profiles.merge(keep, other, adminActorOf(res));
      res.redirect(303, `/admin/merge?merged=${encodeURIComponent(keep)}`);
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(statusOf(error)).send(mergePage({ keep, other, error: `${error.message} Nothing was changed.` }));
    }
  });

  return router;
}
