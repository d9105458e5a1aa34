import type { Tactful } from '@tactful/core';
import type { Logger } from 'pino';
import type { Mailer } from './mail.js';

/**
 * Data-subject rights, when the engine has them (`tactful.privacy`, added by the privacy module). The
 * preference centre offers "download my data" and "delete my data" only when both are present.
 */
export interface PrivacyRights {
  exportSubject(email: string): Promise<unknown>;
  eraseSubject(email: string): Promise<unknown>;
}

export function privacyOf(tactful: Tactful): PrivacyRights | null {
  const candidate = (tactful as unknown as { privacy?: Partial<PrivacyRights> }).privacy;
  if (candidate && typeof candidate.exportSubject === 'function' && typeof candidate.eraseSubject === 'function') {
    return candidate as PrivacyRights;
  }
  return null;
}

/** What every route module gets. */
export interface AppContext {
  tactful: Tactful;
  publicUrl: string;
  demo: boolean;
  mailer: Mailer;
  logger: Logger;
}

export function absoluteUrl(ctx: AppContext, path: string, query: Record<string, string> = {}): string {
  const url = new URL(path, `${ctx.publicUrl}/`);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url.href;
}
