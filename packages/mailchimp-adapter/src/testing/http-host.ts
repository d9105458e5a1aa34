/**
 * Serves a Mailchimp sandbox over loopback HTTP, so an app in another process (a child process killed and
 * restarted by a fault test) talks to the sandbox held by the test process: pass the host's `baseUrl` as
 * `createMailchimpProvider({ baseUrl })`. Faults that drop the connection (`timeout`, `connection_reset`)
 * reach the app as real socket errors.
 *
 * With `pages: true` the host also serves the sandbox's list-manage pages (unsubscribe, profile) at its own root
 * and points the sandbox's emails there, so a browser (the demo inbox) can follow an email's Unsubscribe link
 * offline: `http://127.0.0.1:<port>/unsubscribe?…`, while the API stays under `/3.0`.
 */
import { serveOverLoopback } from '@tactful/core/testing/runtime';
import type { MailchimpSandbox } from './sandbox.js';

export interface MailchimpSandboxHost {
  /** The Marketing API root on loopback, e.g. http://127.0.0.1:4010/3.0: the provider's `baseUrl`. */
  readonly baseUrl: string;
  /** With `pages: true`: where the list-manage pages are served (the host's root, e.g. http://127.0.0.1:4010). */
  readonly pagesUrl: string | null;
  /** Requests served so far, and those answered by dropping the connection. */
  readonly stats: { requests: number; dropped: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0: a free one) and answers every request from `sandbox.fetch`. */
export async function serveMailchimpSandbox(
  sandbox: Pick<MailchimpSandbox, 'fetch' | 'baseUrl'> & Partial<Pick<MailchimpSandbox, 'servePagesAt'>>,
  options: { port?: number; pages?: boolean } = {},
): Promise<MailchimpSandboxHost> {
  if (options.pages && !sandbox.servePagesAt)
    throw new Error('serveMailchimpSandbox: pages need the sandbox itself (its servePagesAt), not a fetch wrapper');
  const apiRoot = new URL(sandbox.baseUrl);
  const apiPath = apiRoot.pathname.replace(/\/+$/, '');
  let self = '';
  const host = await serveOverLoopback((request) => sandbox.fetch(request), {
    ...(options.port !== undefined ? { port: options.port } : {}),
    // The API keeps its own origin; with pages, anything else is a list-manage page on this host.
    origin: (req) =>
      !options.pages || req.url === apiPath || req.url?.startsWith(`${apiPath}/`) ? apiRoot.origin : self,
  });
  self = host.url;
  if (options.pages) sandbox.servePagesAt?.(host.url);
  return {
    baseUrl: `${host.url}${apiPath}`,
    pagesUrl: options.pages ? host.url : null,
    stats: host.stats,
    close: () => host.close(),
  };
}
