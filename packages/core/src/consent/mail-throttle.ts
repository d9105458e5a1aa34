/**
 * How often the public forms may make the shop email one address. Anyone can type anyone's address into the
 * subscribe form or the preference-link form; the limit per client IP does not protect a mailbox from many
 * clients, so each recipient has its own: two emails in 10 minutes (a confirmation, then a preference link
 * asked for right after), five a day. The earlier link keeps working meanwhile (a confirmation link for 48
 * hours), so a person who asks again loses nothing.
 *
 * Kept in the store (the kv table, under a keyed fingerprint of the address, never the address itself) so every
 * instance of the app shares it; each entry holds only the send times still inside the longest window.
 */
import { and, eq } from 'drizzle-orm';
import { kv } from '../store/schema.js';
import type { ShopContext } from '../shop/context.js';
import { parseEmail } from '../identity/email.js';

export interface MailWindow {
  ms: number;
  max: number;
}

export const RECIPIENT_MAIL_LIMITS: readonly MailWindow[] = [
  { ms: 10 * 60_000, max: 2 },
  { ms: 24 * 3600_000, max: 5 },
];

export type MailAllowance = { allowed: true } | { allowed: false; retryAt: Date };

const prefix = 'mail-throttle:';

/**
 * Takes one email to `email` from its allowance if there is one left (and records it); otherwise says when
 * the next one may go. Nothing is recorded when refused.
 */
export async function takeRecipientMail(
  ctx: ShopContext,
  email: string,
  limits: readonly MailWindow[] = RECIPIENT_MAIL_LIMITS,
): Promise<MailAllowance> {
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const key = `${prefix}${ctx.keys.emailIndex(shopKeys, parseEmail(email)).toString('hex')}`;
  const now = ctx.now();
  const longest = limits.reduce((max, l) => Math.max(max, l.ms), 0);
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select({ value: kv.value })
      .from(kv)
      .where(and(eq(kv.shopId, ctx.shopId), eq(kv.key, key)))
      .for('update');
    const sent = (row ? (JSON.parse(row.value) as number[]) : []).filter((t) => now.getTime() - t < longest);
    let retryAt = 0;
    for (const limit of limits) {
      const inside = sent.filter((t) => now.getTime() - t < limit.ms).sort((a, b) => a - b);
      if (inside.length >= limit.max) retryAt = Math.max(retryAt, inside[inside.length - limit.max]! + limit.ms);
    }
    if (retryAt > 0) return { allowed: false, retryAt: new Date(retryAt) };
    const value = JSON.stringify([...sent, now.getTime()]);
    await tx
      .insert(kv)
      .values({ shopId: ctx.shopId, key, value, updatedAt: now })
      .onConflictDoUpdate({ target: [kv.shopId, kv.key], set: { value, updatedAt: now } });
    return { allowed: true };
  });
}
