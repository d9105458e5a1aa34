import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Actor } from '@tactful/core';

/**
 * Admin access, standalone: `Authorization: Bearer <TACTFUL_ADMIN_TOKEN>` (scripts), or the login form,
 * which starts a server-side session (kept by the core; logout ends it) and sets an httpOnly, SameSite=Strict
 * cookie holding its id, signed with a key derived from the token (so changing the token signs everyone out,
 * and a forged cookie costs no store lookup). Every comparison is constant-time.
 *
 * Failed authentication — a wrong admin token, a cookie that is not ours, a session token that does not
 * verify — is counted per client on every admin route: past `failures.max` in `failures.windowMs` the client
 * gets 429 on every admin request, the right token included (a guess that works must look like one that does
 * not), until the window has passed. Requests that carry no credentials at all are not counted.
 *
 * Embedding in the Shopify admin goes through `verifyEmbedded`: a hook that receives the request and says
 * whether it carries a valid App Bridge session token (the Shopify adapter provides the check). Inside the
 * admin's iframe every navigation and form carries a fresh token as `id_token` (the embedded script,
 * /assets/embedded.js, asks App Bridge for one on each click and submit): the server reads it from the
 * Authorization header, the query of a GET, or the body of a POSTed form, with the same checks.
 */
/** Where admin sessions live (the core's `tactful.adminSessions`). */
export interface AdminSessionStore {
  create(ttlHours: number): Promise<string>;
  valid(id: string): Promise<boolean>;
  end(id: string): Promise<void>;
}

export interface AdminAuthOptions {
  adminToken: string;
  sessions: AdminSessionStore;
  /** Failed authentications allowed per client in a window; default 20 in 15 minutes. */
  failures?: { max: number; windowMs: number };
  /** Session cookie lifetime; default 12 hours. */
  sessionHours?: number;
  /** Mark the cookie Secure (on when the public URL is https). */
  secureCookie?: boolean;
  /**
   * Embedded admin: whether the request carries a valid Shopify session token; with the staff member it was
   * issued to (`userId`, the token's `sub`) when the check knows it, so the audit log says who acted.
   */
  verifyEmbedded?: ((req: Request) => Promise<EmbeddedUser | boolean>) | undefined;
  now?: () => Date;
}

export const ADMIN_COOKIE = 'tactful_admin';

/** Who a verified Shopify session token was issued to (a staff member of the shop). */
export interface EmbeddedUser {
  userId?: string;
}

/**
 * The actor of an admin request signed with the admin token or its session cookie: the token is the shop's one
 * secret, so who holds it is not known.
 */
export const DASHBOARD_ACTOR: Actor = { type: 'admin', id: 'dashboard' };

/**
 * Who the audit log names for an admin request (set by `require`): the Shopify staff member of an embedded
 * request (`shopify-user:<id>`), else the dashboard.
 */
export function adminActorOf(res: Response): Actor {
  return (res.locals.adminActor as Actor | undefined) ?? DASHBOARD_ACTOR;
}

function embeddedActor(user: EmbeddedUser | true): Actor {
  return user !== true && user.userId ? { type: 'admin', id: `shopify-user:${user.userId}` } : DASHBOARD_ACTOR;
}

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
  auth: { verifySessionToken(token: string): Promise<{ shop: string; userId?: string }> },
  shop: string,
): (req: Request) => Promise<EmbeddedUser | false> {
  const expected = shop.trim().toLowerCase();
  return async (req) => {
    const token = sessionTokenOf(req);
    if (!token) return false;
    try {
      const verified = await auth.verifySessionToken(token);
      return verified.shop.toLowerCase() === expected && { userId: verified.userId };
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

/** The cookie's value; a value that is not valid percent-encoding is returned as sent (it then fails to verify). */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Whether the request carries anything meant to sign in (a failure then counts against the client). */
function presentsCredentials(req: Request): boolean {
  return (
    req.get('authorization') !== undefined ||
    readCookie(req, ADMIN_COOKIE) !== undefined ||
    sessionTokenFrom(req) !== undefined
  );
}

/**
 * A state-changing request sent by a page of another site (cross-site request forgery): `Sec-Fetch-Site`
 * other than same-origin / none (typed by the user), or, from a browser that does not send it, an `Origin`
 * that is neither the public URL's nor the address the request was sent to. `Sec-Fetch-Site` decides when
 * present: our pages' `Referrer-Policy: no-referrer` makes Chromium send `Origin: null` on their own form
 * posts. Scripts send neither header and pass; the embedded admin lives in an iframe of this origin, so its
 * forms are same-origin.
 */
export function foreignOrigin(req: Request, publicUrl: string): string | undefined {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none' ? undefined : `Sec-Fetch-Site: ${site}`;
  const origin = req.get('origin');
  if (origin === undefined) return undefined;
  const own = new Set([new URL(publicUrl).origin, `${req.protocol}://${req.get('host') ?? ''}`]);
  return own.has(origin) ? undefined : `Origin: ${origin}`;
}

export function createAdminAuth(options: AdminAuthOptions) {
  const key = createHmac('sha256', options.adminToken).update('tactful/admin-session/v2').digest();
  const hours = options.sessionHours ?? 12;
  const now = options.now ?? (() => new Date());
  const limit = options.failures ?? { max: 20, windowMs: 15 * 60_000 };
  const sign = (id: string) => createHmac('sha256', key).update(id).digest('base64url');
  /** Failed authentications per client (its IP as Express sees it through TACTFUL_TRUST_PROXY), in time order. */
  const failures = new Map<string, number[]>();

  /** The session id of a cookie we signed, or undefined. */
  function sessionIdOf(value: string | undefined): string | undefined {
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    const id = value.slice(0, dot);
    if (dot <= 0 || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    return sameSecret(value.slice(dot + 1), sign(id)) ? id : undefined;
  }

  async function sessionValid(value: string | undefined): Promise<boolean> {
    const id = sessionIdOf(value);
    return id !== undefined && (await options.sessions.valid(id));
  }

  const clientOf = (req: Request) => req.ip ?? 'unknown';
  function recent(client: string): number[] {
    const at = now().getTime();
    const kept = (failures.get(client) ?? []).filter((t) => at - t < limit.windowMs);
    if (kept.length === 0) failures.delete(client);
    else failures.set(client, kept);
    return kept;
  }
  function recordFailure(req: Request): void {
    const client = clientOf(req);
    const kept = recent(client);
    kept.push(now().getTime());
    failures.set(client, kept.slice(-limit.max));
    // Bounded: a flood from many addresses cannot grow this without end (the oldest clients go first).
    if (failures.size > 10_000) failures.delete(failures.keys().next().value as string);
  }
  /** Seconds until the client may try again, or 0 when it is not locked out. */
  function lockedFor(req: Request): number {
    const kept = recent(clientOf(req));
    if (kept.length < limit.max) return 0;
    return Math.max(1, Math.ceil((kept[kept.length - limit.max]! + limit.windowMs - now().getTime()) / 1000));
  }

  /**
   * How the request is signed in (the admin token, the session cookie, a Shopify session token) and who acts,
   * or false.
   */
  async function authenticated(req: Request): Promise<{ how: 'token' | 'cookie' | 'embedded'; actor: Actor } | false> {
    const embedded = async () => {
      const user = options.verifyEmbedded ? await options.verifyEmbedded(req) : false;
      return user ? ({ how: 'embedded', actor: embeddedActor(user) } as const) : false;
    };
    const header = req.get('authorization');
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      if (sameSecret(token, options.adminToken)) return { how: 'token', actor: DASHBOARD_ACTOR };
      // Not the admin token: an App Bridge session token (a JWT) when the app is embedded.
      return JWT_SHAPE.test(token) ? embedded() : false;
    }
    if (await sessionValid(readCookie(req, ADMIN_COOKIE))) return { how: 'cookie', actor: DASHBOARD_ACTOR };
    return embedded();
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
    /**
     * For every admin route, before anything else: 429 while the client is locked out after failed
     * authentication, and 403 for a state-changing request sent from another site.
     */
    guard(publicUrl: string, refusalPage: (title: string, message: string) => string) {
      return (req: Request, res: Response, next: NextFunction) => {
        const wait = lockedFor(req);
        if (wait > 0) {
          res.status(429).set('Retry-After', String(wait)).set('Cache-Control', 'no-store');
          const minutes = Math.ceil(wait / 60);
          const message =
            'Too many failed sign-in attempts from your network: ' +
            `wait ${minutes} minute${minutes > 1 ? 's' : ''} and try again.`;
          if (req.accepts(['html', 'json']) === 'html')
            res.send(refusalPage('Too many attempts', `${message} Nothing was changed.`));
          else res.json({ error: 'AUTH.RATE_LIMITED', message });
          return;
        }
        const foreign = ['GET', 'HEAD', 'OPTIONS'].includes(req.method) ? undefined : foreignOrigin(req, publicUrl);
        if (foreign) {
          const message =
            `This request came from another site (${foreign}): ` +
            'the admin acts only on forms of its own pages. Nothing was changed.';
          res.status(403).set('Cache-Control', 'no-store');
          if (req.accepts(['html', 'json']) === 'html') res.send(refusalPage('Refused', message));
          else res.json({ error: 'AUTH.FOREIGN_ORIGIN', message });
          return;
        }
        next();
      };
    },
    /** Lets authenticated requests through; others get 401 (a login page for browsers, JSON otherwise). */
    require(loginPage: (next: string) => string) {
      return async (req: Request, res: Response, next: NextFunction) => {
        const signed = await authenticated(req);
        if (!signed && presentsCredentials(req)) recordFailure(req);
        if (signed && signed.how === 'embedded') carryToken(req, res);
        // Whoever signed the request, a form's id_token goes no further than here.
        if (req.body && typeof req.body === 'object' && 'id_token' in req.body)
          delete (req.body as Record<string, unknown>).id_token;
        if (signed) {
          res.locals.adminActor = signed.actor;
          return next();
        }
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
    /** Checks a token typed into the login form; starts a session and sets its cookie when it matches. */
    async login(req: Request, res: Response, token: string): Promise<boolean> {
      if (!sameSecret(token, options.adminToken)) {
        recordFailure(req);
        return false;
      }
      const id = await options.sessions.create(hours);
      res.cookie(ADMIN_COOKIE, `${id}.${sign(id)}`, {
        httpOnly: true,
        sameSite: 'strict',
        secure: options.secureCookie ?? false,
        path: '/',
        maxAge: hours * 3600_000,
      });
      return true;
    },
    /** Ends the request's session in the store (the cookie is then worthless everywhere) and clears it. */
    async logout(req: Request, res: Response): Promise<void> {
      const id = sessionIdOf(readCookie(req, ADMIN_COOKIE));
      if (id !== undefined) await options.sessions.end(id);
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
