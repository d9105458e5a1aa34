import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { TactfulError } from '../errors/tactful-error.js';

/**
 * Signed tokens for links in emails: `<payload base64url>.<HMAC-SHA256 base64url>` under the shop's token
 * key. Only the token id is stored; the token itself lives in the customer's mailbox.
 */
export interface OptInTokenPayload {
  kind: 'opt-in';
  shop: string;
  id: string;
  subject: string;
  purposes: string[];
  /** Expiry, seconds since the epoch. */
  exp: number;
}

export interface UnsubscribeTokenPayload {
  kind: 'unsubscribe';
  shop: string;
  subject: string;
  purpose: string;
}

export interface PreferencesTokenPayload {
  kind: 'preferences';
  shop: string;
  subject: string;
  exp: number;
  /** When the link was issued, seconds since the epoch: export and erasure need a fresh link. */
  iat?: number;
}

export type TokenPayload = OptInTokenPayload | UnsubscribeTokenPayload | PreferencesTokenPayload;

export function signToken(key: Buffer, payload: TokenPayload): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  const mac = createHmac('sha256', key).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** Checks the signature and the kind; refuses anything altered with `CONSENT.TOKEN_FORGED`. */
export function verifyToken<K extends TokenPayload['kind']>(
  key: Buffer,
  token: string,
  kind: K,
): Extract<TokenPayload, { kind: K }> {
  const forged = () =>
    new TactfulError(
      'CONSENT.TOKEN_FORGED',
      'This link is not valid: it was altered or not issued by this shop. Ask for a new one.',
    );
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) throw forged();
  const parts = token.trim().split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw forged();
  const expected = createHmac('sha256', key).update(parts[0]).digest();
  let given: Buffer;
  try {
    given = Buffer.from(parts[1], 'base64url');
  } catch {
    throw forged();
  }
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw forged();
  let payload: TokenPayload;
  try {
    payload = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as TokenPayload;
  } catch {
    throw forged();
  }
  if (payload.kind !== kind) throw forged();
  return payload as Extract<TokenPayload, { kind: K }>;
}

export function newTokenId(): string {
  return randomUUID();
}

/**
 * How long a preference-centre link works. Short, because the page shows what the shop holds about the person
 * and a link travels in emails that get forwarded; an expired link still lets its holder ask for a fresh one,
 * which goes only to the address on file.
 */
export const PREFERENCES_LINK_TTL_HOURS = 24;

/** A link token to `subject`'s preference centre, issued at `now` and valid `ttlHours`. */
export function preferencesToken(
  tokenKey: Buffer,
  shop: string,
  subject: string,
  now: Date,
  ttlHours = PREFERENCES_LINK_TTL_HOURS,
): string {
  const iat = Math.floor(now.getTime() / 1000);
  return signToken(tokenKey, { kind: 'preferences', shop, subject, exp: iat + Math.round(ttlHours * 3600), iat });
}
