import { isTactfulError, type Tactful } from '@tactful/core';
import type { Response } from 'express';
import { messagePage } from '../layout.js';
import { readSignedToken, type SignedPayloads } from '../signed-links.js';
import { emailOfSubject } from '../subject-data.js';
import { linkRefusal, refusal } from './refusal.js';

/** The person of a preference link (expired ones too) or an unsubscribe link: only to mail them a fresh link. */
export async function subjectOfLink(tactful: Tactful, token: string): Promise<string> {
  try {
    return (await readSignedToken(tactful, token, 'preferences', { allowExpired: true })).subject;
  } catch (error) {
    if (!isTactfulError(error, 'CONSENT.TOKEN_FORGED')) throw error;
    return (await readSignedToken(tactful, token, 'unsubscribe')).subject;
  }
}

/** The person a preference link names, or null once the answer (refusal, or nothing held) was sent. */
export async function preferencesHolder(
  tactful: Tactful,
  token: string,
  res: Response,
): Promise<{ subjectId: string; email: string; payload: SignedPayloads['preferences'] } | null> {
  let payload: SignedPayloads['preferences'];
  try {
    payload = await readSignedToken(tactful, token, 'preferences');
  } catch (error) {
    if (!linkRefusal(res, error, token) && !refusal(res, error, 'Ask for a new preference link.')) throw error;
    return null;
  }
  const subjectId = payload.subject;
  const email = await emailOfSubject(tactful, subjectId);
  if (!email) {
    res.status(410).send(messagePage('No data held', 'We hold no personal data for this link any more.', 'info'));
    return null;
  }
  return { subjectId, email, payload };
}
