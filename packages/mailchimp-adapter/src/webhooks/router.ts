import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Router } from 'express';
import type { EmailProvider, InboundEvent, InboundSink } from '@tactful/core';
import { TactfulError, isRetryable, isTactfulError } from '@tactful/core';
import { confirmWithMailchimp } from './confirm.js';
import { parseMailchimpWebhook } from './parse.js';

export interface MailchimpWebhookTenant {
  /** The shop these webhooks belong to. */
  shop: string;
  /** The long random token in the webhook URL (at least 32 characters). */
  secret: string;
  /**
   * The shop's audience, read before a webhook may grant consent or change an address (the provider, e.g.
   * `createMailchimpProvider(...)`). Mailchimp signs nothing, so without it `subscribe` and `upemail` are
   * acknowledged and not stored; withdrawals and the rest are stored as sent.
   */
  members?: Pick<EmailProvider, 'getMember'> | undefined;
}

export interface MailchimpWebhookRouteOptions {
  /** Several shops, each with its own secret. */
  tenants?: MailchimpWebhookTenant[];
  /** One shop: its id, secret and audience (same as `tenants: [{ shop, secret, members }]`). */
  shop?: string;
  secret?: string;
  members?: Pick<EmailProvider, 'getMember'> | undefined;
  statusPurpose?: string;
  /** The audience has double opt-in on: a self-made subscribe is a confirmed opt-in. */
  doubleOptIn?: boolean;
  /** Largest body accepted (default 100 kB). */
  limit?: string;
  now?: () => Date;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `GET|POST /mailchimp/webhooks/:secret`. The secret is compared in constant time against every
 * tenant; anything else is a 404. GET answers Mailchimp's URL check with 200. POST parses the
 * form-encoded body, hands the event to `sink.receive` (delivery id: SHA-256 of the raw body, since
 * Mailchimp sends none) and answers 200 — also for a duplicate. A body that is not a webhook gets 400
 * and reaches nobody. The secret in the URL is all that authenticates a delivery, so a `subscribe` or
 * `upemail` counts only as Mailchimp's API confirms it (`members`): otherwise it answers 200
 * `unconfirmed` and stores nothing.
 */
export function mailchimpWebhookRoutes(sink: InboundSink, options: MailchimpWebhookRouteOptions): Router {
  const configured = [
    ...(options.tenants ?? []),
    ...(options.secret !== undefined || options.shop !== undefined
      ? [{ shop: options.shop ?? '', secret: options.secret ?? '', members: options.members }]
      : []),
  ];
  if (configured.length === 0)
    throw new TactfulError(
      'CONFIG.INVALID',
      'mailchimpWebhookRoutes needs { shop, secret } or tenants: [{ shop, secret }].',
    );
  for (const t of configured) {
    if (!t.shop)
      throw new TactfulError('CONFIG.INVALID', 'Each Mailchimp webhook secret needs the shop it belongs to.');
    if (t.secret.length < 32)
      throw new TactfulError(
        'CONFIG.INVALID',
        `The webhook secret for shop ${t.shop} is shorter than 32 characters; use a long random token (e.g. crypto.randomBytes(32).toString('hex')).`,
      );
  }
  const tenants = configured.map((t) => ({ shop: t.shop, digest: digest(t.secret), members: t.members }));
  const now = options.now ?? (() => new Date());

  function tenantFor(secret: string | undefined): (typeof tenants)[number] | null {
    const presented = digest(secret ?? '');
    let found: (typeof tenants)[number] | null = null;
    // Visit every tenant so the time taken does not reveal which prefix matched.
    for (const t of tenants) if (timingSafeEqual(presented, t.digest) && found === null) found = t;
    return found;
  }

  const router = express.Router();
  router.get('/mailchimp/webhooks/:secret', (req, res) => {
    if (tenantFor(req.params.secret) === null) return void res.status(404).end();
    res.status(200).type('text/plain').send('ok');
  });
  router.post(
    '/mailchimp/webhooks/:secret',
    express.text({ type: () => true, limit: options.limit ?? '100kb' }),
    async (req, res, next) => {
      const tenant = tenantFor(req.params.secret);
      if (tenant === null) return void res.status(404).end();
      const shop = tenant.shop;
      const raw = typeof req.body === 'string' ? req.body : '';
      let parsed;
      try {
        parsed = parseMailchimpWebhook(raw, { statusPurpose: options.statusPurpose, doubleOptIn: options.doubleOptIn });
      } catch (error) {
        if (isTactfulError(error, 'MAILCHIMP.WEBHOOK_INVALID'))
          return void res.status(400).json({ error: error.code, message: error.message });
        return next(error);
      }
      let event: InboundEvent | null;
      try {
        event = tenant.members
          ? await confirmWithMailchimp(parsed, tenant.members, { doubleOptIn: options.doubleOptIn })
          : parsed.webhook.type === 'subscribe' || parsed.webhook.type === 'upemail'
            ? null
            : parsed.event;
      } catch (error) {
        // Mailchimp could not be asked: answer 503 so it delivers the webhook again later.
        if (isRetryable(error))
          return void res.status(503).json({ error: 'MAILCHIMP.UNAVAILABLE', message: 'Try again later.' });
        return next(error);
      }
      if (event === null) {
        // Not what Mailchimp's own record says (or nothing to ask it with): acknowledged, nothing stored.
        return void res.status(200).json({ ok: true, outcome: 'unconfirmed' });
      }
      try {
        const outcome = await sink.receive(shop, event, {
          system: 'mailchimp',
          deliveryId: createHash('sha256').update(raw).digest('hex'),
          receivedAt: now(),
          topic: parsed.webhook.type,
        });
        res.status(200).json({ ok: true, outcome });
      } catch (error) {
        // Not stored: answer 500 so Mailchimp retries the delivery.
        next(error);
      }
    },
  );
  return router;
}
