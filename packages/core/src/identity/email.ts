import { z } from 'zod';
import { TactfulError } from '../errors/tactful-error.js';

/** Trims and lower-cases, then checks the address shape (one @, a dot in the domain, no spaces). */
export const emailAddress = z
  .string()
  .trim()
  .toLowerCase()
  .max(254, 'an email address is at most 254 characters')
  .regex(/^[^\s@"<>()[\],;:]+@[^\s@"<>()[\],;:]+\.[^\s@"<>()[\],;:]{2,}$/, 'not a valid email address');

/** The address as Tactful stores and indexes it; anything that is not an address is refused by name. */
export function parseEmail(email: string): string {
  const parsed = emailAddress.safeParse(email);
  if (!parsed.success) throw new TactfulError('CONSENT.INVALID', `"${email}" is not a valid email address.`);
  return parsed.data;
}
