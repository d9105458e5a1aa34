import type { EmailProvider, Tactful } from '@tactful/core';
import type { Logger } from 'pino';
import type { Mailer } from './mail.js';
import type { MailchimpConnection } from './mailchimp-connection.js';

/** What every route module gets. */
export interface AppContext {
  tactful: Tactful;
  publicUrl: string;
  demo: boolean;
  mailer: Mailer;
  logger: Logger;
  /**
   * The connected email provider (campaign sends, reports), when one is configured: the environment's, else the
   * one connected from the admin (read anew on every access: connecting takes effect without a restart).
   */
  readonly provider?: EmailProvider | undefined;
  /** The Mailchimp connection and where it comes from (the Connections page). */
  mailchimp: MailchimpConnection;
  /** Shopify as the environment configures it (the Connections page shows it). */
  shopify: { apiKeySet: boolean; secretSet: boolean; scopes: string | undefined };
}

export function absoluteUrl(ctx: AppContext, path: string, query: Record<string, string> = {}): string {
  const url = new URL(path, `${ctx.publicUrl}/`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.href;
}
