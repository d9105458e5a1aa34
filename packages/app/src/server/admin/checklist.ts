import type { AppContext } from '../context.js';

/** One thing to settle before the first send, and where to settle it. */
export interface ChecklistItem {
  key: 'provider' | 'audience' | 'sender' | 'postal-address' | 'double-opt-in' | 'webhook' | 'merge-fields';
  label: string;
  done: boolean;
  /** What is set, or what is missing and why it matters. */
  detail: string;
  href: string;
}

/**
 * What is missing before the first send: the email provider and its audience, the sender identity, the postal
 * address, a double opt-in choice that the audience's own form agrees with, the webhook and the merge fields.
 * Read from the settings and the stored connection (no call to Mailchimp: the page stays fast).
 */
export async function setupChecklist(ctx: AppContext): Promise<ChecklistItem[]> {
  const { tactful, mailchimp } = ctx;
  const settings = await tactful.settings.get();
  const stored = await tactful.connections.get('mailchimp');
  const fromEnvironment = mailchimp.source === 'environment';
  const details = stored?.details ?? {};
  const connections = '/admin/connections';
  const items: ChecklistItem[] = [
    {
      key: 'provider',
      label: 'Email provider connected',
      done: ctx.provider !== undefined || (stored !== null && !fromEnvironment),
      detail: fromEnvironment
        ? 'Mailchimp, set from the environment (MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID).'
        : stored
          ? `Mailchimp, API key ending in ${stored.hints.apiKey ?? '…'}.`
          : 'Connect Mailchimp with an API key: campaigns are sent through it.',
      href: connections,
    },
    {
      key: 'audience',
      label: 'Audience chosen',
      done: fromEnvironment || typeof details.audienceId === 'string',
      detail: fromEnvironment
        ? 'Set from the environment (MAILCHIMP_AUDIENCE_ID).'
        : typeof details.audienceName === 'string'
          ? `"${details.audienceName}".`
          : 'Pick the Mailchimp audience your customers are in.',
      href: connections,
    },
    {
      key: 'sender',
      label: 'Sender identity',
      done: settings.sender !== undefined,
      detail: settings.sender
        ? `${settings.sender.name} <${settings.sender.email}>.`
        : 'The name emails are from and the reply address.',
      href: '/admin/settings#sender',
    },
    {
      key: 'postal-address',
      label: 'Postal address',
      done: settings.sender?.postalAddress !== undefined && details.audienceHasAddress !== false,
      detail:
        details.audienceHasAddress === false
          ? 'The Mailchimp audience has no contact address: Mailchimp sends no campaign without one (Audience → Settings → Audience name and defaults).'
          : settings.sender?.postalAddress
            ? 'Every email carries it (CAN-SPAM, ePrivacy).'
            : 'Every marketing email must carry one (CAN-SPAM, ePrivacy).',
      href: details.audienceHasAddress === false ? connections : '/admin/settings#sender',
    },
    {
      key: 'double-opt-in',
      label: 'Double opt-in choice',
      done: !(settings.requireDoubleOptIn && details.audienceDoubleOptIn === false),
      detail:
        settings.requireDoubleOptIn && details.audienceDoubleOptIn === false
          ? "Tactful requires double opt-in but the audience's own sign-up form does not: turn it on in Mailchimp, or turn it off here."
          : `Double opt-in is ${settings.requireDoubleOptIn ? 'required' : 'not required'} before anyone is mailed.`,
      href: '/admin/settings#consent',
    },
    {
      key: 'webhook',
      label: 'Webhook registered',
      done: fromEnvironment ? mailchimp.environmentWebhook : typeof details.webhookId === 'string',
      detail: fromEnvironment
        ? mailchimp.environmentWebhook
          ? 'Set from the environment (MAILCHIMP_WEBHOOK_SECRET).'
          : 'Set MAILCHIMP_WEBHOOK_SECRET: without the webhook, unsubscribes made in Mailchimp reach Tactful only at the next sync.'
        : typeof details.webhookError === 'string'
          ? `Mailchimp refused it: ${details.webhookError}`
          : typeof details.webhookId === 'string'
            ? 'Unsubscribes and address changes made in Mailchimp reach Tactful at once.'
            : 'Registered when the audience is chosen: unsubscribes made in Mailchimp then reach Tactful at once.',
      href: connections,
    },
    {
      key: 'merge-fields',
      label: 'Merge fields',
      done: fromEnvironment || details.mergeFieldsReady === true,
      detail: fromEnvironment
        ? 'Ensured before each send.'
        : details.mergeFieldsReady === true
          ? 'The audience has the fields campaigns fill in (reason, consent line, preference link).'
          : typeof details.mergeFieldsError === 'string'
            ? `Not created: ${details.mergeFieldsError}`
            : 'Created on the audience when it is chosen.',
      href: connections,
    },
  ];
  return items;
}
