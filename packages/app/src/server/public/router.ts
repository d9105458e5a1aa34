import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import { confirmRoutes } from './confirm.js';
import { preferenceRoutes } from './preferences.js';
import { privacyRoutes } from './privacy.js';
import { subscribeRoutes } from './subscribe.js';
import { unsubscribeRoutes } from './unsubscribe.js';

/** The pages a shop's customers see: no sign-in, each acts only through a signed link or a fresh form. */
export function publicPages(ctx: AppContext): Router {
  const router = express.Router();
  router.get('/', (_req, res) => res.redirect(303, '/subscribe'));
  router.use(subscribeRoutes(ctx));
  router.use(confirmRoutes(ctx));
  router.use(unsubscribeRoutes(ctx));
  router.use(preferenceRoutes(ctx));
  router.use(privacyRoutes(ctx));
  return router;
}
