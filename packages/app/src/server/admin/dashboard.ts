import type { AppContext } from '../context.js';
import express, { type Router } from 'express';
import { dashboardData } from '../dashboard-data.js';
import { queryText as q } from '../form-fields.js';
import { setupChecklist } from './checklist.js';
import { dashboardPage } from './views/dashboard.js';

/** The dashboard: audience, consent funnel, campaigns and revenue over a chosen period. */
export function dashboardRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();
  router.get('/admin', async (req, res) => {
    const days = Math.min(365, Math.max(7, Number(q(req, 'days')) || 30));
    const data = await dashboardData(tactful, days);
    const outbox = await tactful.outbox.counts();
    const { currency } = await tactful.settings.get();
    const checklist = await setupChecklist(ctx);
    res.send(dashboardPage({ days, data, outbox, currency, checklist }));
  });
  return router;
}
