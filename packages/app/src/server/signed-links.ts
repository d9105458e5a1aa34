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
  preferences: { kind: 'preferences'; shop: string; subject: string; exp: number };
}

export const PREFERENCES_LINK_TTL_DAYS = 30;

/** The payload of a token of `kind` signed by this shop; CONSENT.TOKEN_FORGED / CONSENT.TOKEN_EXPIRED otherwise. */
export async function readSignedToken<K extends keyof SignedPayloads>(
  tactful: Tactful,
  token: unknown,
  kind: K,
): Promise<SignedPayloads[K]> {
  try {
    return (await tactful.links.read(token, kind)) as unknown as SignedPayloads[K];
  } catch (error) {
    if (isTactfulError(error)) throw new TactfulError(error.code, error.message, { status: 400, cause: error });
    throw error;
  }
}

export function signPreferencesToken(
  tactful: Tactful,
  subjectId: string,
  ttlDays = PREFERENCES_LINK_TTL_DAYS,
): Promise<string> {
  return tactful.links.preferences(subjectId, ttlDays);
}
