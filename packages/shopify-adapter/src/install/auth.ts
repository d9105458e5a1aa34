/**
 * Install and sessions through @shopify/shopify-api (the only module that touches it): OAuth
 * authorization-code grant (auth.begin / auth.callback) for a classic install, token exchange for the
 * embedded admin (App Bridge session token → offline access token), sessions kept in a
 * ShopifySessionStorage.
 */
import '@shopify/shopify-api/adapters/node';
import { ApiVersion, RequestedTokenType, shopifyApi, type Session } from '@shopify/shopify-api';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { parseOrThrow, TactfulError } from '@tactful/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { ShopifySessionStorage } from './session-storage.js';

// The node adapter captured the global fetch at import: look it up at call time instead, so a fetch
// installed later (msw in tests, an instrumented fetch in production) is the one used.
setAbstractFetchFunc((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));

export const shopifyAuthOptionsSchema = z.object({
  /** Client id of the app (Partner dashboard → App → Client credentials). */
  apiKey: z.string().trim().min(1, "the app's client id (SHOPIFY_API_KEY) is required"),
  /** Client secret of the app. */
  apiSecret: z.string().trim().min(1, "the app's client secret (SHOPIFY_API_SECRET) is required"),
  /** Access scopes, e.g. read_customers,write_customers,read_orders,read_products. */
  scopes: z.union([z.string(), z.array(z.string())]).transform((s) =>
    typeof s === 'string'
      ? s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)
      : s,
  ),
  /** The app's public URL (`https://tactful.example.com`), as configured as the App URL. */
  appUrl: z.url({ message: "the app's public https URL (SHOPIFY_APP_URL) is required" }),
  /** Path of the OAuth callback as mounted (must be an allowed redirection URL of the app). */
  callbackPath: z.string().startsWith('/').default('/shopify/auth/callback'),
  embedded: z.boolean().default(true),
  sessionStorage: z.custom<ShopifySessionStorage>(
    (v) => typeof v === 'object' && v !== null && typeof (v as ShopifySessionStorage).storeSession === 'function',
    'a ShopifySessionStorage is required',
  ),
});

export type ShopifyAuthOptions = z.input<typeof shopifyAuthOptionsSchema>;

export interface ShopifyAuth {
  /** Redirects the merchant to Shopify's grant screen. */
  begin(shop: string, req: Request, res: Response): Promise<void>;
  /** Completes the grant, stores the offline session and returns it. */
  callback(req: Request, res: Response): Promise<Session>;
  /** Exchanges an App Bridge session token for an offline access token and stores the session. */
  tokenExchange(shop: string, sessionToken: string): Promise<Session>;
  /** The stored offline session of a shop (its access token), if installed. */
  offlineSession(shop: string): Promise<Session | undefined>;
  /** Verifies an App Bridge session token (signature, expiry, audience) and returns the shop it is for. */
  verifySessionToken(token: string): Promise<{ shop: string; userId: string }>;
  /**
   * Express middleware for the embedded admin's requests: reads the session token (`Authorization: Bearer`,
   * or `id_token` on the first page load), makes sure the shop has an offline session (token exchange when
   * not), and sets `res.locals.shopify = { shop, session }`. Answers 401 with
   * `X-Shopify-Retry-Invalid-Session-Request: 1` when the token is missing or invalid, so App Bridge retries.
   */
  embeddedSession(): RequestHandler;
  embeddedAppUrl(shop: string, host: string): string;
}

export function createShopifyAuth(input: ShopifyAuthOptions): ShopifyAuth {
  const options = parseOrThrow(shopifyAuthOptionsSchema, input, 'CONFIG.INVALID', 'Shopify auth options');
  const url = new URL(options.appUrl);
  const api = shopifyApi({
    apiKey: options.apiKey,
    apiSecretKey: options.apiSecret,
    scopes: options.scopes,
    hostName: url.host,
    hostScheme: url.protocol === 'http:' ? 'http' : 'https',
    apiVersion: ApiVersion.October25,
    isEmbeddedApp: options.embedded,
    logger: { level: 0 as never, log: () => undefined },
  });
  const storage = options.sessionStorage;
  const auth: ShopifyAuth = {
    async begin(shop, req, res) {
      const sanitized = api.utils.sanitizeShop(shop, false);
      if (!sanitized) throw new TactfulError('SHOPIFY.INVALID_SHOP', `"${shop}" is not a Shopify shop domain.`);
      await api.auth.begin({
        shop: sanitized,
        callbackPath: options.callbackPath,
        isOnline: false,
        rawRequest: req,
        rawResponse: res,
      });
    },
    async callback(req, res) {
      try {
        const { session } = await api.auth.callback({ rawRequest: req, rawResponse: res });
        await storage.storeSession(session);
        return session;
      } catch (cause) {
        throw new TactfulError('SHOPIFY.OAUTH_FAILED', `The OAuth callback failed: ${(cause as Error).message}`, {
          cause,
        });
      }
    },
    async tokenExchange(shop, sessionToken) {
      const sanitized = api.utils.sanitizeShop(shop, false);
      if (!sanitized) throw new TactfulError('SHOPIFY.INVALID_SHOP', `"${shop}" is not a Shopify shop domain.`);
      try {
        const { session } = await api.auth.tokenExchange({
          shop: sanitized,
          sessionToken,
          requestedTokenType: RequestedTokenType.OfflineAccessToken,
        });
        await storage.storeSession(session);
        return session;
      } catch (cause) {
        throw new TactfulError(
          'SHOPIFY.TOKEN_EXCHANGE_FAILED',
          `Shopify did not exchange the session token: ${(cause as Error).message}`,
          { cause },
        );
      }
    },
    async offlineSession(shop) {
      return storage.loadSession(api.session.getOfflineId(shop));
    },
    async verifySessionToken(token) {
      try {
        const payload = await api.session.decodeSessionToken(token);
        const shop = new URL(payload.dest).host;
        return { shop, userId: String(payload.sub) };
      } catch (cause) {
        throw new TactfulError(
          'SHOPIFY.SESSION_TOKEN_INVALID',
          'The session token is invalid or expired: reload the app from the Shopify admin.',
          { cause, status: 401 },
        );
      }
    },
    embeddedSession() {
      return async (req: Request, res: Response, next: NextFunction) => {
        const header = req.get('authorization') ?? '';
        const token = header.startsWith('Bearer ')
          ? header.slice(7).trim()
          : typeof req.query.id_token === 'string'
            ? req.query.id_token
            : '';
        const refuse = (message: string) => {
          res.status(401).set('X-Shopify-Retry-Invalid-Session-Request', '1').type('text/plain').send(message);
        };
        if (!token) return refuse('No session token: open the app from the Shopify admin.');
        let shop: string;
        try {
          ({ shop } = await auth.verifySessionToken(token));
        } catch (error) {
          return refuse((error as Error).message);
        }
        try {
          const session = (await auth.offlineSession(shop)) ?? (await auth.tokenExchange(shop, token));
          res.locals.shopify = { shop, session };
          next();
        } catch (error) {
          next(error);
        }
      };
    },
    embeddedAppUrl(shop, host) {
      if (options.embedded && host)
        return `https://${Buffer.from(host, 'base64').toString('utf8')}/apps/${options.apiKey}`;
      return `https://${shop}/admin/apps/${options.apiKey}`;
    },
  };
  return auth;
}
