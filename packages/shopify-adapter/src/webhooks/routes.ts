/**
 * `shopifyRoutes(sink, options)`: the Express router the app mounts for Shopify — webhooks (every topic
 * and the three compliance topics on one URL) and, when an auth helper is given, the OAuth install.
 *
 * A webhook is verified (HMAC of the raw body, constant time) before anything parses it, answered 401
 * when that fails, turned into an InboundEvent and handed to the sink, which stores it durably and
 * de-duplicates on X-Shopify-Webhook-Id. The route answers as soon as the sink has it: the work (and any
 * call to Mailchimp) happens later, from the inbox, so no delivery waits.
 */
import { createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { isTactfulError } from '@tactful/core';
import type { InboundSink } from '@tactful/core';
import type { ShopifyAuth } from '../install/auth.js';
import type { ShopifySessionStorage } from '../install/session-storage.js';
import { verifyShopifyHmac } from './hmac.js';
import { parseShopifyWebhook } from './parse.js';

export interface ShopifyRoutesOptions {
  /** The app's client secret (the API secret key); a list while rotating. */
  apiSecret: string | readonly string[];
  /**
   * The shops this app serves: their domains, or a check (e.g. the configured shop, or one with a stored
   * session). The secret is app-wide, so a body signed for any shop that installed the app verifies: a
   * webhook or an install for a shop not served here is refused (403) and nothing is stored.
   */
  shops: readonly string[] | ((shop: string) => boolean | Promise<boolean>);
  /** The consent purpose Shopify's email marketing consent maps to. */
  purpose?: string;
  /** Path of the webhook endpoint inside the router. */
  webhookPath?: string;
  /** Sessions of uninstalled shops are removed from here on app/uninstalled. */
  sessionStorage?: ShopifySessionStorage;
  /** Mounts GET /auth and GET /auth/callback when given. */
  auth?: ShopifyAuth;
  /** Called for bulk_operations/finish (e.g. `platform.notifyBulkFinished`). */
  onBulkOperationFinish?: (shop: string, operationId: string, status: string) => void;
  /** Called after the install completes, with the shop and its offline session. */
  onInstalled?: (shop: string, req: Request, res: Response) => void | Promise<void>;
  /** Largest body accepted (Shopify bodies are well below 1 MB). */
  bodyLimit?: string;
  /** The clock that stamps deliveries (tests pass the engine's). */
  now?: () => Date;
}

/**
 * The digest a replay is recognised by: Shopify signs only the body, so the same body under a new webhook id
 * (or another topic header) must not count twice. `shop/redact` bodies are the same every time Shopify sends
 * one for a shop (its id and domain), so they are left to the engine's own rule: a shop is erased only after
 * an uninstall.
 */
export function shopifyContentHash(topic: string, raw: Buffer): string | undefined {
  if (topic === 'shop/redact') return undefined;
  return createHash('sha256').update(topic).update('\u0000').update(raw).digest('hex');
}

const shopPattern = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export function shopifyRoutes(sink: InboundSink, options: ShopifyRoutesOptions): Router {
  const router = express.Router();
  const purpose = options.purpose ?? 'email_marketing';
  const path = options.webhookPath ?? '/webhooks';
  const now = options.now ?? (() => new Date());
  const listed = typeof options.shops === 'function' ? null : new Set(options.shops.map((x) => x.toLowerCase()));
  const served = async (shop: string): Promise<boolean> =>
    listed ? listed.has(shop) : await (options.shops as (shop: string) => boolean | Promise<boolean>)(shop);
  const notServed = (res: Response, shop: string) =>
    res
      .status(403)
      .type('text/plain')
      .send(`This app does not serve ${shop}: nothing was stored. Configure the shop (TACTFUL_SHOP) to serve it.`);

  router.post(
    path,
    express.raw({ type: () => true, limit: options.bodyLimit ?? '2mb' }),
    async (req: Request, res: Response) => {
      if (!Buffer.isBuffer(req.body) && req.body !== undefined && Object.keys(req.body as object).length > 0) {
        // A body parser ran before this router: the raw bytes the HMAC covers are gone.
        res
          .status(500)
          .type('text/plain')
          .send('Mount shopifyRoutes before express.json()/urlencoded(): webhooks need the raw body.');
        return;
      }
      const raw: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!verifyShopifyHmac(raw, req.get('x-shopify-hmac-sha256'), options.apiSecret)) {
        res.status(401).type('text/plain').send('HMAC validation failed');
        return;
      }
      const topic = req.get('x-shopify-topic')?.trim().toLowerCase();
      const shop = req.get('x-shopify-shop-domain')?.trim().toLowerCase();
      const webhookId = req.get('x-shopify-webhook-id')?.trim();
      if (!topic || !shop || !webhookId || !shopPattern.test(shop)) {
        res
          .status(400)
          .type('text/plain')
          .send('Missing or invalid X-Shopify-Topic, X-Shopify-Shop-Domain or X-Shopify-Webhook-Id');
        return;
      }
      if (!(await served(shop))) {
        notServed(res, shop);
        return;
      }
      const receivedAt = now();
      const triggered = req.get('x-shopify-triggered-at');
      const triggeredAt = triggered && !Number.isNaN(Date.parse(triggered)) ? new Date(triggered) : undefined;
      try {
        if (topic === 'bulk_operations/finish') {
          const body = JSON.parse(raw.toString('utf8')) as { admin_graphql_api_id?: unknown; status?: unknown };
          const id = body?.admin_graphql_api_id;
          if (typeof id !== 'string' || !id.startsWith('gid://shopify/BulkOperation/')) {
            res.status(400).type('text/plain').send('The bulk_operations/finish webhook body names no bulk operation.');
            return;
          }
          options.onBulkOperationFinish?.(shop, id, String(body.status ?? ''));
          res.status(200).send('ok');
          return;
        }
        const event = parseShopifyWebhook(topic, raw, { purpose, shop, webhookId, triggeredAt, receivedAt });
        if (!event) {
          res.status(200).send('ignored');
          return;
        }
        const outcome = await sink.receive(shop, event, {
          system: 'shopify',
          deliveryId: webhookId,
          receivedAt,
          topic,
          contentHash: shopifyContentHash(topic, raw),
        });
        // A replayed uninstall (a duplicate) does not sign the shop out; shop/redact is the engine's to judge.
        if (event.kind === 'uninstalled' && outcome === 'accepted')
          await options.sessionStorage?.deleteSessionsByShop(shop);
        res.status(200).send(outcome);
      } catch (error) {
        if (isTactfulError(error) && error.code === 'SHOPIFY.WEBHOOK_INVALID') {
          res.status(400).type('text/plain').send(error.message);
          return;
        }
        if (error instanceof SyntaxError) {
          res.status(400).type('text/plain').send('Body is not JSON');
          return;
        }
        // Not stored: Shopify retries the delivery (up to 8 times over 4 hours).
        res.status(500).type('text/plain').send('Could not store the webhook; Shopify will retry');
      }
    },
  );

  if (options.auth) {
    const auth = options.auth;
    router.get('/auth', async (req: Request, res: Response) => {
      const shop = String(req.query.shop ?? '')
        .trim()
        .toLowerCase();
      if (!shopPattern.test(shop)) {
        res.status(400).type('text/plain').send('Add ?shop=your-shop.myshopify.com to install the app.');
        return;
      }
      if (!(await served(shop))) {
        notServed(res, shop);
        return;
      }
      await auth.begin(shop, req, res);
    });
    router.get('/auth/callback', async (req: Request, res: Response) => {
      const shop = String(req.query.shop ?? '')
        .trim()
        .toLowerCase();
      if (!shopPattern.test(shop) || !(await served(shop))) {
        notServed(res, shop || 'this shop');
        return;
      }
      try {
        const session = await auth.callback(req, res);
        // An install after an uninstall: the shop's pending erasure no longer applies.
        await sink.receive(
          session.shop,
          { kind: 'installed' },
          {
            system: 'shopify',
            deliveryId: `install:${session.id}:${now().getTime()}`,
            receivedAt: now(),
            topic: 'app/installed',
          },
        );
        if (options.onInstalled) await options.onInstalled(session.shop, req, res);
        if (!res.headersSent) res.redirect(auth.embeddedAppUrl(session.shop, String(req.query.host ?? '')));
      } catch (error) {
        if (!res.headersSent)
          res
            .status(400)
            .type('text/plain')
            .send(`The install did not complete: ${(error as Error).message}. Start it again from the Shopify admin.`);
      }
    });
  }
  return router;
}
