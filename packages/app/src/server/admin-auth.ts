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
    if (header?.startsWith('Bearer ')) return sameSecret(header.slice(7).trim(), options.adminToken);
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
