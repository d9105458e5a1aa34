import { z } from 'zod';

/** An IANA time zone name (Europe/Paris), checked against the zones this Node.js knows. */
export const ianaTimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone such as Europe/Paris');
