import type { EmailProvider, Tactful } from '@tactful/core';
import type { Logger } from 'pino';
import type { Mailer } from './mail.js';

/** What every route module gets. */
export interface AppContext {
  tactful: Tactful;
  publicUrl: string;
  demo: boolean;
  mailer: Mailer;
  logger: Logger;
  /** The connected email provider (campaign sends, reports), when one is configured. */
  provider?: EmailProvider | undefined;
}

export function absoluteUrl(ctx: AppContext, path: string, query: Record<string, string> = {}): string {
  const url = new URL(path, `${ctx.publicUrl}/`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.href;
}
