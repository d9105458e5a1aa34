import { TactfulError, isTactfulError, type Tactful } from '@tactful/core';

/**
 * The signed links of the public pages, through the core's signer (`tactful.links`): the app reads opt-in
 * and unsubscribe tokens only to show a page before the customer acts (so a mail scanner's GET changes
 * nothing), and issues the `preferences` kind for the preference centre. Errors carry status 400 for the
 * error page.
 */
export interface SignedPayloads {
  'opt-in': { kind: 'opt-in'; shop: string; id: string; subject: string; purposes: string[]; exp: number };
  unsubscribe: { kind: 'unsubscribe'; shop: string; subject: string; purpose: string };
  preferences: { kind: 'preferences'; shop: string; subject: string; exp: number; iat?: number };
}

/**
 * Downloading or erasing one's data from a link needs a link issued this recently: a forwarded or leaked
 * preference link, even one still valid, cannot take the whole record or destroy it. A fresh link goes to the
 * address on file only.
 */
export const PRIVACY_LINK_MAX_AGE_MINUTES = 15;

/** The payload of a token of `kind` signed by this shop; CONSENT.TOKEN_FORGED / CONSENT.TOKEN_EXPIRED otherwise. */
export async function readSignedToken<K extends keyof SignedPayloads>(
  tactful: Tactful,
  token: unknown,
  kind: K,
  options: { allowExpired?: boolean } = {},
): Promise<SignedPayloads[K]> {
  try {
    return (await tactful.links.read(token, kind, options)) as unknown as SignedPayloads[K];
  } catch (error) {
    if (isTactfulError(error)) throw new TactfulError(error.code, error.message, { status: 400, cause: error });
    throw error;
  }
}

/** A preference-centre token for the subject, issued now (short-lived: see PREFERENCES_LINK_TTL_HOURS). */
export function signPreferencesToken(tactful: Tactful, subjectId: string): Promise<string> {
  return tactful.links.preferences(subjectId);
}

/** True when the preference link was issued within PRIVACY_LINK_MAX_AGE_MINUTES of `now`. */
export function freshForPrivacy(payload: SignedPayloads['preferences'], now: Date): boolean {
  if (payload.iat === undefined) return false;
  const age = now.getTime() - payload.iat * 1000;
  return age >= -60_000 && age <= PRIVACY_LINK_MAX_AGE_MINUTES * 60_000;
}
