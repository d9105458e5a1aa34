import { createHash } from 'node:crypto';

/** Lower-cases and trims an address the way Mailchimp does before hashing it. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Mailchimp's member id in URLs: the MD5 hex digest of the lower-cased address. */
export function subscriberHash(email: string): string {
  return createHash('md5').update(normaliseEmail(email)).digest('hex');
}
