import type { Tactful } from '@tactful/core';
import express, { type Router } from 'express';
import { dashboardData } from '../dashboard-data.js';
import { queryText as q } from '../form-fields.js';
import { dashboardPage } from './views/dashboard.js';

/** The dashboard: audience, consent funnel, campaigns and revenue over a chosen period. */
export function dashboardRoutes(tactful: Tactful): Router {
  const router = express.Router();
  router.get('/admin', async (req, res) => {
    const days = Math.min(365, Math.max(7, Number(q(req, 'days')) || 30));
    const data = await dashboardData(tactful, days);
    const outbox = await tactful.outbox.counts();
    const { currency } = await tactful.settings.get();
    res.send(dashboardPage({ days, data, outbox, currency }));
  });
  return router;
}
