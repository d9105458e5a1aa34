import express, { type Router } from 'express';
import type { AdminAuth } from '../admin-auth.js';
import { bodyText, queryText as q } from '../form-fields.js';
import { loginPage } from './views/login.js';

/** Signing in with the admin token and signing out: the only admin pages open without a session. */
export function loginRoutes(auth: AdminAuth): Router {
  const router = express.Router();
  router.get('/admin/login', (req, res) => {
    res.send(loginPage(q(req, 'next') || '/admin'));
  });
  router.post('/admin/login', async (req, res) => {
    const token = bodyText(req, 'token');
    const asked = bodyText(req, 'next');
    const next = asked.startsWith('/admin') && !asked.startsWith('//') ? asked : '/admin';
    if (!(await auth.login(req, res, token))) {
      res.status(401).send(loginPage(next, 'That token is not right. Nothing was changed.'));
      return;
    }
    res.redirect(303, next);
  });
  router.post('/admin/logout', async (req, res) => {
    await auth.logout(req, res);
    res.redirect(303, '/admin/login');
  });
  return router;
}
