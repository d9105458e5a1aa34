import express, { type Router } from 'express';
import type { AdminAuth } from '../admin-auth.js';
import type { AppContext } from '../context.js';
import { auditRoutes } from './audit.js';
import { connectionRoutes } from './connections.js';
import { adminCampaign } from './campaign.js';
import { adminCustomers } from './customers.js';
import { dashboardRoutes } from './dashboard.js';
import { adminDataRequests } from './data-requests.js';
import { adminFlows } from './flows.js';
import { loginRoutes } from './login.js';
import { mergeRoutes } from './merge.js';
import { recommendationRoutes } from './recommendations.js';
import { adminSegments } from './segments.js';
import { settingsRoutes } from './settings.js';
import { loginPage } from './views/login.js';

/** The shop owner's pages under /admin: sign-in first, then every page behind the session, never cached. */
export function adminPages(ctx: AppContext, auth: AdminAuth): Router {
  const { tactful } = ctx;
  const router = express.Router();

  router.use(loginRoutes(auth));
  router.use(
    '/admin',
    auth.require((next) => loginPage(next)),
  );
  router.use('/admin', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.use(dashboardRoutes(ctx));
  router.use(auditRoutes(tactful));
  router.use(adminCustomers(ctx));
  router.use(adminSegments(tactful));
  router.use(adminDataRequests(tactful));
  router.use(mergeRoutes(tactful));
  router.use(adminCampaign(ctx));
  router.use(adminFlows(ctx));
  router.use(recommendationRoutes(tactful));
  router.use(settingsRoutes(tactful));
  router.use(connectionRoutes(ctx));
  return router;
}
