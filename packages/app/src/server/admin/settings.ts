import { isTactfulError, type Tactful, TactfulError } from '@tactful/core';
import express, { type Response, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText as q } from '../form-fields.js';
import { settingsPage } from './views/settings.js';

async function renderSettings(tactful: Tactful, ok?: string, error?: string): Promise<string> {
  const settings = await tactful.settings.get();
  const purposes = await tactful.purposes.list();
  const contact = await tactful.contact.policy();
  return settingsPage({ settings, purposes, contact, ok, error });
}

/** The shop's settings: consent, sender, sensitive categories, contact policy and purposes; each form saves alone. */
export function settingsRoutes(tactful: Tactful): Router {
  const router = express.Router();

  /** Runs one form's save: back to the page saying so, or the page again with the refusal and nothing changed. */
  const save = async (res: Response, work: () => Promise<unknown>) => {
    try {
      await work();
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res
        .status(statusOf(error))
        .send(await renderSettings(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  };

  router.get('/admin/settings', async (req, res) => {
    res.send(await renderSettings(tactful, q(req, 'saved') === '1' ? 'Saved.' : undefined));
  });

  router.post('/admin/settings', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ttl = Number(body.optInTokenTtlHours);
    await save(res, async () => {
      await tactful.settings.update(
        { requireDoubleOptIn: body.requireDoubleOptIn === 'on', optInTokenTtlHours: Number.isFinite(ttl) ? ttl : -1 },
        adminActorOf(res),
      );
    });
  });

  router.post('/admin/sensitive', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const list = (typeof body.categories === 'string' ? body.categories : '')
      .split(/[\n,]/)
      .map((c) => c.trim())
      .filter(Boolean);
    await save(res, async () => {
      await tactful.settings.update({ sensitiveCategories: list }, adminActorOf(res));
    });
  });

  router.post('/admin/sender', async (req, res) => {
    const text = (k: string) => bodyText(req, k);
    await save(res, async () => {
      await tactful.settings.update(
        { sender: { name: text('senderName'), email: text('senderEmail'), postalAddress: text('senderAddress') } },
        adminActorOf(res),
      );
    });
  });

  router.post('/admin/brand', async (req, res) => {
    const text = (k: string) => bodyText(req, k).trim();
    await save(res, async () => {
      await tactful.settings.update(
        {
          brand: {
            name: text('brandName'),
            logoUrl: text('logoUrl') === '' ? null : text('logoUrl'),
            accentColor: text('accentColor') === '' ? null : text('accentColor'),
          },
        },
        adminActorOf(res),
      );
    });
  });

  router.post('/admin/contact-policy', async (req, res) => {
    const text = (k: string) => bodyText(req, k).trim();
    const problems: string[] = [];
    const caps = text('caps')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => {
        const m = /^(\d+)\s*(?:\/|per)\s*(\d+(?:\.\d+)?)\s*(?:d|days?)?$/i.exec(c);
        if (!m) problems.push(`"${c}" is not a cap: write e.g. 1/3 (one email per 3 days)`);
        return m ? { max: Number(m[1]), days: Number(m[2]) } : null;
      })
      .filter((c): c is { max: number; days: number } => c !== null);
    const quietStart = text('quietStart');
    const quietEnd = text('quietEnd');
    const resend = text('productResendDays');
    await save(res, async () => {
      if (problems.length > 0) throw new TactfulError('CONFIG.INVALID', problems.join('; '));
      await tactful.contact.setPolicy({
        caps,
        quietHours: quietStart === '' && quietEnd === '' ? null : { start: quietStart, end: quietEnd },
        defaultTimeZone: text('defaultTimeZone') || 'UTC',
        productResendDays: resend === '' ? null : Number(resend),
      });
    });
  });

  router.post('/admin/purposes', async (req, res) => {
    const text = (k: string) => bodyText(req, k);
    await save(res, async () => {
      await tactful.purposes.define(
        {
          key: text('key'),
          title: text('title'),
          description: text('description'),
          documentUrl: text('documentUrl'),
          clause: text('clause'),
          version: text('version'),
        },
        adminActorOf(res),
      );
    });
  });

  return router;
}
