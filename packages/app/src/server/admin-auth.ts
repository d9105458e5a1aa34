import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * Admin access, standalone: `Authorization: Bearer <TACTFUL_ADMIN_TOKEN>` (scripts), or the login form,
 * which sets an httpOnly, SameSite=Strict session cookie signed with a key derived from the token (so
 * changing the token signs everyone out). Every comparison is constant-time.
 *
 * Embedding in the Shopify admin goes through `verifyEmbedded`: a hook that receives the request and says
 * whether it carries a valid App Bridge session token (the Shopify adapter provides the check).
 */
export interface AdminAuthOptions {
  adminToken: string;
  /** Session cookie lifetime; default 12 hours. */
  sessionHours?: number;
  /** Mark the cookie Secure (on when the public URL is https). */
  secureCookie?: boolean;
  /** Embedded admin: resolves true when the request carries a valid Shopify session token. */
  verifyEmbedded?: ((req: Request) => Promise<boolean>) | undefined;
  now?: () => Date;
}

export const ADMIN_COOKIE = 'tactful_admin';

/** Three base64url parts: the shape of a JWT (App Bridge session tokens are HS256 JWTs). */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The session token of an embedded admin request: `Authorization: Bearer <JWT>`, or `id_token` on a page load. */
export function sessionTokenOf(req: Request): string | undefined {
  const header = req.get('authorization');
  if (header?.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    return JWT_SHAPE.test(token) ? token : undefined;
  }
  // Shopify opens the app's first page with ?id_token=<JWT> (the same session token) before App Bridge runs.
  const query = req.method === 'GET' ? req.query.id_token : undefined;
  return typeof query === 'string' && JWT_SHAPE.test(query) ? query : undefined;
}

/**
 * `verifyEmbedded` for the Shopify admin: the request's session token must verify (HS256 under the app's
 * client secret, aud = the app's client id, exp/nbf; the Shopify adapter checks it through
 * @shopify/shopify-api) and be issued for `shop`, the one shop this app serves. A token for another shop
 * that installed the same app is refused.
 */
export function shopifyEmbeddedVerifier(auth: { verifySessionToken(token: string): Promise<{ shop: string }> }, shop: string): (req: Request) => Promise<boolean> {
  const expected = shop.trim().toLowerCase();
  return async (req) => {
    const token = sessionTokenOf(req);
    if (!token) return false;
    try {
      const verified = await auth.verifySessionToken(token);
      return verified.shop.toLowerCase() === expected;
    } catch {
      return false;
    }
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function sameSecret(given: string, expected: string): boolean {
  // Hash both sides first: equal lengths for timingSafeEqual, and no length leak.
  return timingSafeEqual(digest(given), digest(expected));
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function createAdminAuth(options: AdminAuthOptions) {
  const key = createHmac('sha256', options.adminToken).update('tactful/admin-session/v1').digest();
  const hours = options.sessionHours ?? 12;
  const now = options.now ?? (() => new Date());
  const sign = (expires: number) => createHmac('sha256', key).update(String(expires)).digest('base64url');

  function sessionValid(value: string | undefined): boolean {
    if (!value) return false;
    const [expires, mac] = value.split('.');
    if (!expires || !mac || !/^\d+$/.test(expires)) return false;
    if (!sameSecret(mac, sign(Number(expires)))) return false;
    return Number(expires) > now().getTime();
  }

  async function authenticated(req: Request): Promise<boolean> {
    const header = req.get('authorization');
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      if (sameSecret(token, options.adminToken)) return true;
      // Not the admin token: an App Bridge session token (a JWT) when the app is embedded.
      return options.verifyEmbedded !== undefined && JWT_SHAPE.test(token) ? options.verifyEmbedded(req) : false;
    }
    if (sessionValid(readCookie(req, ADMIN_COOKIE))) return true;
    if (options.verifyEmbedded) return options.verifyEmbedded(req);
    return false;
  }

  return {
    /** Lets authenticated requests through; others get 401 (a login page for browsers, JSON otherwise). */
    require(loginPage: (next: string) => string) {
      return async (req: Request, res: Response, next: NextFunction) => {
        if (await authenticated(req)) return next();
        res.set('Cache-Control', 'no-store');
        if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') {
          res.status(401).send(loginPage(req.originalUrl));
          return;
        }
        res.status(401).set('WWW-Authenticate', 'Bearer realm="tactful-admin"').json({ error: 'AUTH.REQUIRED', message: 'Sign in at /admin/login or send Authorization: Bearer <TACTFUL_ADMIN_TOKEN>.' });
      };
    },
    /** Checks a token typed into the login form; sets the session cookie when it matches. */
    login(res: Response, token: string): boolean {
      if (!sameSecret(token, options.adminToken)) return false;
      const expires = now().getTime() + hours * 3600_000;
      res.cookie(ADMIN_COOKIE, `${expires}.${sign(expires)}`, {
        httpOnly: true,
        sameSite: 'strict',
        secure: options.secureCookie ?? false,
        path: '/',
        maxAge: hours * 3600_000,
      });
      return true;
    },
    logout(res: Response): void {
      res.clearCookie(ADMIN_COOKIE, { httpOnly: true, sameSite: 'strict', secure: options.secureCookie ?? false, path: '/' });
    },
  };
}
export type AdminAuth = ReturnType<typeof createAdminAuth>;
