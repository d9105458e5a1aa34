import { createHmac, timingSafeEqual } from 'node:crypto';
import { TactfulError, type Tactful } from '@tactful/core';

/**
 * Reads and writes the core's signed-link format (`<payload base64url>.<HMAC-SHA256 base64url>` under the
 * shop's token key). The core consumes opt-in and unsubscribe tokens itself; the app reads them only to show
 * a page before the customer acts (so a mail scanner's GET changes nothing), and issues the `preferences`
 * kind for the preference centre. The core does not export its signer, so the format is written here
 * against the same key.
 */
export interface SignedPayloads {
  'opt-in': { kind: 'opt-in'; shop: string; id: string; subject: string; purposes: string[]; exp: number };
  unsubscribe: { kind: 'unsubscribe'; shop: string; subject: string; purpose: string };
  preferences: { kind: 'preferences'; shop: string; subject: string; exp: number };
}

export const PREFERENCES_LINK_TTL_DAYS = 30;

async function tokenKey(tactful: Tactful): Promise<Buffer> {
  return (await tactful.keys.shop(tactful.store.db, tactful.shopId)).tokenKey;
}

const forged = () => new TactfulError('CONSENT.TOKEN_FORGED', 'This link is not valid: it was altered, cut short or not issued by this shop.', { status: 400 });

/** The payload of a token of `kind` signed by this shop; CONSENT.TOKEN_FORGED / CONSENT.TOKEN_EXPIRED otherwise. */
export async function readSignedToken<K extends keyof SignedPayloads>(tactful: Tactful, token: unknown, kind: K): Promise<SignedPayloads[K]> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) throw forged();
  const [body, mac, extra] = token.trim().split('.');
  if (!body || !mac || extra !== undefined) throw forged();
  const expected = createHmac('sha256', await tokenKey(tactful)).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw forged();
  let payload: SignedPayloads[K];
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as SignedPayloads[K];
  } catch {
    throw forged();
  }
  if (typeof payload !== 'object' || payload === null || payload.kind !== kind || payload.shop !== tactful.shopId || typeof payload.subject !== 'string') throw forged();
  if ('exp' in payload && (typeof payload.exp !== 'number' || payload.exp * 1000 < tactful.now().getTime())) {
    throw new TactfulError('CONSENT.TOKEN_EXPIRED', 'This link has expired.', { status: 400 });
  }
  return payload;
}

export async function signPreferencesToken(tactful: Tactful, subjectId: string, ttlDays = PREFERENCES_LINK_TTL_DAYS): Promise<string> {
  const payload: SignedPayloads['preferences'] = { kind: 'preferences', shop: tactful.shopId, subject: subjectId, exp: Math.floor(tactful.now().getTime() / 1000) + ttlDays * 86400 };
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${createHmac('sha256', await tokenKey(tactful)).update(body).digest('base64url')}`;
}
