import { createHash, randomBytes } from 'node:crypto';
import express, { type Router } from 'express';
import { messagePage } from './layout.js';

/**
 * One-time sign-in links for the admin: the demo prints one link that opens the dashboard already signed
 * in, instead of a token to copy. A link works once and for a short time; opening it exchanges it for the
 * admin session cookie (the same cookie the login form sets). Only a hash of each link is kept in memory,
 * so nothing that could sign in is stored, and a restart forgets them all.
 */
export interface SignInLinks {
  /** A new link token, valid once until `ttlMs` from now. */
  issue(): { token: string; expiresAt: Date };
  /** True once for a live token issued here; false when unknown, used or expired. */
  redeem(token: string): boolean;
}

export const SIGN_IN_PATH = '/admin/sign-in';

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('base64url');

export function createSignInLinks(options: { ttlMs?: number; now?: () => Date } = {}): SignInLinks {
  const ttl = options.ttlMs ?? 10 * 60_000;
  const now = options.now ?? (() => new Date());
  const live = new Map<string, number>();
  return {
    issue() {
      const token = randomBytes(32).toString('base64url');
      const expires = now().getTime() + ttl;
      for (const [key, until] of live) if (until <= now().getTime()) live.delete(key);
      live.set(hash(token), expires);
      return { token, expiresAt: new Date(expires) };
    },
    redeem(token) {
      const key = hash(token);
      const until = live.get(key);
      // Used or not: a token is gone after its first use, so a second open (or a copy) signs no one in.
      live.delete(key);
      return until !== undefined && until > now().getTime();
    },
  };
}

/** The link's route: a live token sets the session cookie and opens the dashboard; anything else says why not. */
export function signInLinkRoutes(
  links: SignInLinks,
  signIn: (req: express.Request, res: express.Response) => Promise<boolean>,
): Router {
  const router = express.Router();
  router.get(SIGN_IN_PATH, async (req, res) => {
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    if (token !== '' && links.redeem(token) && (await signIn(req, res))) {
      res.redirect(303, '/admin');
      return;
    }
    res
      .status(410)
      .send(
        messagePage(
          'This sign-in link no longer works',
          'A sign-in link opens the dashboard once, within minutes of being printed. Press Enter in the terminal running the demo for a new link.',
          'error',
        ),
      );
  });
  return router;
}
