import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/**
 * Admin access, standalone: `Authorization: Bearer <TACTFUL_ADMIN_TOKEN>` (scripts), or the login form,
 * which sets an httpOnly, SameSite=Strict session cookie signed with a key derived from the token (so
 * changing the token signs everyone out). Every comparison is constant-time.
 *
 * Embedding in the Shopify admin goes through `verifyEmbedded`: a hook that receives the request and says
 * whether it carries a valid App Bridge session token (the Shopify adapter provides the check). Inside the
 * admin's iframe every navigation and form carries a fresh token as `id_token` (the embedded script,
 * /assets/embedded.js, asks App Bridge for one on each click and submit): the server reads it from the
 * Authorization header, the query of a GET, or the body of a POSTed form, with the same checks.
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

/** Where a session token came from: a header (scripts, App Bridge's fetch) or the document navigation itself. */
export type SessionTokenSource = 'header' | 'query' | 'form';

/**
 * The session token of an embedded admin request, and where it travelled: `Authorization: Bearer <JWT>`,
 * `?id_token=` on a GET (Shopify's first page load, and every navigation our embedded script makes), or an
 * `id_token` field of a POSTed form (urlencoded; the embedded script adds it as a hidden input).
 */
export function sessionTokenFrom(req: Request): { token: string; source: SessionTokenSource } | undefined {
  const header = req.get('authorization');
  if (header?.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    return JWT_SHAPE.test(token) ? { token, source: 'header' } : undefined;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const query = req.query.id_token;
    return typeof query === 'string' && JWT_SHAPE.test(query) ? { token: query, source: 'query' } : undefined;
  }
  if (req.method === 'POST' && req.is('application/x-www-form-urlencoded')) {
    const field = (req.body as Record<string, unknown> | undefined)?.id_token;
    return typeof field === 'string' && JWT_SHAPE.test(field) ? { token: field, source: 'form' } : undefined;
  }
  return undefined;
}

/** The session token of an embedded admin request (see `sessionTokenFrom`). */
export function sessionTokenOf(req: Request): string | undefined {
  return sessionTokenFrom(req)?.token;
}

/** A same-origin admin path (`/admin`, `/admin/...`), the only place a session token may be carried to. */
function isAdminPath(location: string): boolean {
  return /^\/admin(?:[/?#]|$)/.test(location);
}

/** `location` with `id_token` set (replacing any earlier one), keeping the rest of the query and the hash. */
export function withIdToken(location: string, token: string): string {
  const url = new URL(location, 'http://app.invalid');
  url.searchParams.set('id_token', token);
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * `verifyEmbedded` for the Shopify admin: the request's session token must verify (HS256 under the app's
 * client secret, aud = the app's client id, exp/nbf; the Shopify adapter checks it through
 * @shopify/shopify-api) and be issued for `shop`, the one shop this app serves. A token for another shop
 * that installed the same app is refused.
 */
export function shopifyEmbeddedVerifier(
  auth: { verifySessionToken(token: string): Promise<{ shop: string }> },
  shop: string,
): (req: Request) => Promise<boolean> {
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

  /** How the request is signed in: the admin token, the session cookie, a Shopify session token, or not at all. */
  async function authenticated(req: Request): Promise<'token' | 'cookie' | 'embedded' | false> {
    const header = req.get('authorization');
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      if (sameSecret(token, options.adminToken)) return 'token';
      // Not the admin token: an App Bridge session token (a JWT) when the app is embedded.
      return options.verifyEmbedded !== undefined && JWT_SHAPE.test(token) && (await options.verifyEmbedded(req))
        ? 'embedded'
        : false;
    }
    if (sessionValid(readCookie(req, ADMIN_COOKIE))) return 'cookie';
    if (options.verifyEmbedded && (await options.verifyEmbedded(req))) return 'embedded';
    return false;
  }

  /**
   * A request the embedded admin signed with a session token in the page load or the form (no cookie works
   * in the iframe): a redirect to another admin page carries the token on, so the page after "Save" opens
   * too. The token has just been verified and lives about a minute; it only ever goes to this app's own
   * /admin paths, never elsewhere.
   */
  function carryToken(req: Request, res: Response): void {
    const found = sessionTokenFrom(req);
    if (!found || found.source === 'header') return;
    const location = res.location.bind(res);
    res.location = (url: string) => location(isAdminPath(url) ? withIdToken(url, found.token) : url);
  }

  return {
    /** Lets authenticated requests through; others get 401 (a login page for browsers, JSON otherwise). */
    require(loginPage: (next: string) => string) {
      return async (req: Request, res: Response, next: NextFunction) => {
        const how = await authenticated(req);
        if (how === 'embedded') carryToken(req, res);
        // Whoever signed the request, a form's id_token goes no further than here.
        if (req.body && typeof req.body === 'object' && 'id_token' in req.body)
          delete (req.body as Record<string, unknown>).id_token;
        if (how) return next();
        res.set('Cache-Control', 'no-store');
        if (req.method === 'GET' && req.accepts(['html', 'json']) === 'html') {
          // The page to come back to after signing in, without the (refused) session token.
          const back = new URL(req.originalUrl, 'http://app.invalid');
          back.searchParams.delete('id_token');
          res.status(401).send(loginPage(`${back.pathname}${back.search}`));
          return;
        }
        res.status(401).set('WWW-Authenticate', 'Bearer realm="tactful-admin"').json({
          error: 'AUTH.REQUIRED',
          message: 'Sign in at /admin/login or send Authorization: Bearer <TACTFUL_ADMIN_TOKEN>.',
        });
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
      res.clearCookie(ADMIN_COOKIE, {
        httpOnly: true,
        sameSite: 'strict',
        secure: options.secureCookie ?? false,
        path: '/',
      });
    },
  };
}
export type AdminAuth = ReturnType<typeof createAdminAuth>;
