/**
 * Serves a Shopify sandbox over loopback HTTP, so an app in another process (a child process killed and
 * restarted by a fault test) talks to the sandbox held by the test process. The app's adapter gets
 * `shopifySandboxFetch(url)` as its `fetch`: it sends each `https://<shop>/...` or bulk-result request to the
 * host, naming the original origin in a header. Faults that drop the connection (`timeout`,
 * `connection_reset`) reach the app as real socket errors.
 */
import { serveOverLoopback, type LoopbackHost } from '@tactful/core/testing/runtime';
import type { ShopifySandbox } from './sandbox.js';

const ORIGIN_HEADER = 'x-tactful-sandbox-origin';

export type SandboxHttpHost = LoopbackHost;

/** Listens on 127.0.0.1 (port 0: a free one) and answers every request from `sandbox.fetch`. */
export function serveShopifySandbox(
  sandbox: Pick<ShopifySandbox, 'fetch'>,
  options: { port?: number } = {},
): Promise<SandboxHttpHost> {
  return serveOverLoopback((request) => sandbox.fetch(request), {
    ...options,
    dropHeaders: [ORIGIN_HEADER],
    origin: (req) => {
      const origin = req.headers[ORIGIN_HEADER];
      return typeof origin === 'string' && /^https:\/\/[a-z0-9.-]+$/i.test(origin)
        ? origin
        : { refuse: `the ${ORIGIN_HEADER} header must name the https origin the request was for` };
    },
  });
}

/**
 * A fetch for `createShopifyPlatform({ fetch })` that sends every request to the sandbox host at `hostUrl`,
 * giving up on one that gets no answer within `timeoutMs` (default 10 s), as a network error the adapter retries.
 */
export function shopifySandboxFetch(hostUrl: string, options: { timeoutMs?: number } = {}): typeof fetch {
  const base = hostUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const request = input instanceof Request && init === undefined ? input : new Request(input, init);
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set(ORIGIN_HEADER, url.origin);
    const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
    const signal = init?.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    return globalThis.fetch(`${base}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      ...(body ? { body } : {}),
      signal,
    });
  }) as typeof fetch;
}
