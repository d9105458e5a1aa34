import type { EmailProvider, InboundEvent } from '@tactful/core';
import type { ParsedWebhook } from './parse.js';

/**
 * Mailchimp signs nothing: anyone who learns the webhook URL can post a `subscribe` for anybody, claiming
 * an opt-in IP. So a webhook that would grant consent or move a person to another address counts only as
 * far as Mailchimp's own record of the member confirms it, read from the API: the grant carries Mailchimp's
 * opt-in time and evidence (`timestamp_opt`, `ip_opt`), never the body's.
 *
 * Returns the event to store, or null when Mailchimp does not confirm it (nothing is stored).
 */
export async function confirmWithMailchimp(
  parsed: ParsedWebhook,
  members: Pick<EmailProvider, 'getMember'>,
  options: { doubleOptIn?: boolean | undefined },
): Promise<InboundEvent | null> {
  const { webhook, event } = parsed;
  if (webhook.type === 'subscribe' && event.kind === 'consent') {
    const member = await members.getMember(webhook.data.email);
    if (member?.status !== 'subscribed') return null;
    const occurredAt = member.optIn?.at ?? member.consent.occurredAt;
    const selfMade = Boolean(member.optIn?.ip);
    return {
      kind: 'consent',
      externalId: webhook.data.id,
      consent: {
        ...event.consent,
        // On a double opt-in audience, a self-made subscribe is the confirmation click itself.
        level: member.consent.level === 'confirmed' || (selfMade && options.doubleOptIn) ? 'confirmed' : 'unknown',
        occurredAt,
        sourceEventId: `subscribe:${webhook.data.id ?? webhook.data.email}:${occurredAt.toISOString()}`,
        method: selfMade ? (options.doubleOptIn ? 'double_opt_in_confirmation' : 'form') : 'admin',
      },
    };
  }
  if (webhook.type === 'upemail') {
    // The address really changed in Mailchimp: the new one is a member, the old one no longer is.
    const [now, before] = await Promise.all([
      members.getMember(webhook.data.new_email),
      members.getMember(webhook.data.old_email),
    ]);
    return now && !before ? event : null;
  }
  return event;
}
