import { randomBytes } from 'node:crypto';
import type { EmailProvider, Tactful } from '@tactful/core';
import {
  createMailchimpProvider,
  mailchimpAccount,
  mailchimpWebhookRoutes,
  type MailchimpAccount,
  type MailchimpProvider,
} from '@tactful/mailchimp';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';

/** Where the app's Mailchimp connection comes from: the admin's Connections page, or the environment (wins). */
export type ConnectionSource = 'admin' | 'environment';

/**
 * The Mailchimp connection the app works with, rebuilt the moment the admin changes it (no restart): the provider
 * campaigns are sent through and the webhook route of the stored secret. A provider handed to the app by its
 * environment (`MAILCHIMP_API_KEY` and `MAILCHIMP_AUDIENCE_ID`, or the demo) wins: the page then shows it as set
 * from the environment and offers no form.
 */
export interface MailchimpConnection {
  readonly source: ConnectionSource | null;
  /** MAILCHIMP_WEBHOOK_SECRET is set (the environment's webhook route). */
  readonly environmentWebhook: boolean;
  /** The provider in use, if any. */
  readonly provider: EmailProvider | undefined;
  /** The provider made from the admin's connection (null when none, or when the environment's wins). */
  readonly adminProvider: MailchimpProvider | null;
  /** Resolves once the stored connection was read at start. */
  readonly ready: Promise<void>;
  /** Rebuilds from the stored connection (after the admin changed it). */
  reload(): Promise<void>;
  /** The account behind a key (ping, audiences), before an audience is chosen. */
  account(apiKey: string): MailchimpAccount;
  /** The webhook URL path of the stored connection's secret (`/mailchimp/webhooks/<secret>`), a fresh one when none. */
  webhookSecret(): Promise<string>;
  /** Mounted before the body parsers: answers the stored connection's webhook URL. */
  readonly webhooks: RequestHandler;
}

export interface MailchimpConnectionOptions {
  tactful: Tactful;
  logger: Logger;
  /** The environment's (or the demo's) provider: wins over the admin's connection. */
  environment?: EmailProvider | undefined;
  /** Only for tests and demos: where the Marketing API answers (a sandbox on loopback HTTP). */
  baseUrl?: string | undefined;
  /** MAILCHIMP_WEBHOOK_SECRET is set: the environment's webhook route serves the audience. */
  environmentWebhook?: boolean | undefined;
}

export function mailchimpConnection(options: MailchimpConnectionOptions): MailchimpConnection {
  const { tactful, logger, environment, baseUrl } = options;
  let adminProvider: MailchimpProvider | null = null;
  let route: RequestHandler | null = null;

  async function reload(): Promise<void> {
    const stored = await tactful.connections.get('mailchimp');
    const secrets = stored ? await tactful.connections.secrets('mailchimp') : null;
    const audienceId = typeof stored?.details.audienceId === 'string' ? stored.details.audienceId : null;
    adminProvider =
      secrets?.apiKey && audienceId
        ? createMailchimpProvider({
            apiKey: secrets.apiKey,
            audienceId,
            requireDoubleOptIn: (await tactful.settings.get()).requireDoubleOptIn,
            ...(baseUrl !== undefined ? { baseUrl } : {}),
          })
        : null;
    route =
      secrets?.webhookSecret && !environment
        ? mailchimpWebhookRoutes(tactful.inbox, {
            shop: tactful.shopId,
            secret: secrets.webhookSecret,
            members: adminProvider ?? undefined,
          })
        : null;
  }

  const ready = reload().catch((error: unknown) => {
    // The code only: the message of a vendor error may carry request details.
    logger.error({ code: (error as { code?: string }).code ?? 'Error' }, 'stored Mailchimp connection not loaded');
  });

  return {
    environmentWebhook: options.environmentWebhook ?? false,
    get source() {
      return environment ? 'environment' : adminProvider ? 'admin' : null;
    },
    get provider() {
      return environment ?? adminProvider ?? undefined;
    },
    get adminProvider() {
      return environment ? null : adminProvider;
    },
    ready,
    reload,
    account: (apiKey) => mailchimpAccount({ apiKey, ...(baseUrl !== undefined ? { baseUrl } : {}) }),
    async webhookSecret() {
      return (await tactful.connections.secrets('mailchimp'))?.webhookSecret ?? randomBytes(32).toString('hex');
    },
    webhooks: (req, res, next) => {
      ready.then(() => (route ? route(req, res, next) : next()), next);
    },
  };
}
