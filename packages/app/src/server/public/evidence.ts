import { isIP } from 'node:net';
import type { ConsentEvidence } from '@tactful/core';
import type { Request } from 'express';

/** Who acts on the public pages: the person, through the subscribe form or through their preference centre. */
export const customerForm = { type: 'customer' as const, id: 'subscribe-form' };
export const customerPreferences = { type: 'customer' as const, id: 'preference-centre' };

/** First-party evidence of a request: the client's IP (normalised) and user agent. Stored encrypted by the core. */
export function evidenceOf(req: Request): ConsentEvidence {
  const evidence: ConsentEvidence = {};
  const ip = (req.ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(ip)) evidence.ip = ip;
  const ua = req.get('user-agent');
  if (ua) evidence.userAgent = ua.slice(0, 1024);
  return evidence;
}
