/**
 * Serves a Mailchimp sandbox over loopback HTTP, so an app in another process (a child process killed and
 * restarted by a fault test) talks to the sandbox held by the test process: pass the host's `baseUrl` as
 * `createMailchimpProvider({ baseUrl })`. Faults that drop the connection (`timeout`, `connection_reset`)
 * reach the app as real socket errors.
 */
import { serveOverLoopback } from '@tactful/core/testing/runtime';
import type { MailchimpSandbox } from './sandbox.js';

export interface MailchimpSandboxHost {
  /** The Marketing API root on loopback, e.g. http://127.0.0.1:4010/3.0: the provider's `baseUrl`. */
  readonly baseUrl: string;
  /** Requests served so far, and those answered by dropping the connection. */
  readonly stats: { requests: number; dropped: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0: a free one) and answers every request from `sandbox.fetch`. */
export async function serveMailchimpSandbox(
  sandbox: Pick<MailchimpSandbox, 'fetch' | 'baseUrl'>,
  options: { port?: number } = {},
): Promise<MailchimpSandboxHost> {
  const apiRoot = new URL(sandbox.baseUrl);
  const host = await serveOverLoopback((request) => sandbox.fetch(request), {
    ...options,
    origin: () => apiRoot.origin,
  });
  return {
    baseUrl: `${host.url}${apiRoot.pathname.replace(/\/+$/, '')}`,
    stats: host.stats,
    close: () => host.close(),
  };
}
