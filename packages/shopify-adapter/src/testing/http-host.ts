/**
 * Serves a Shopify sandbox over loopback HTTP, so an app in another process (a child process killed and
 * restarted by a fault test) talks to the sandbox held by the test process. The app's adapter gets
 * `shopifySandboxFetch(url)` as its `fetch`: it sends each `https://<shop>/...` or bulk-result request to the
 * host, naming the original origin in a header. Faults that drop the connection (`timeout`,
 * `connection_reset`) reach the app as real socket errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { ShopifySandbox } from './sandbox.js';

const ORIGIN_HEADER = 'x-tactful-sandbox-origin';

export interface SandboxHttpHost {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** Requests served so far, and those answered by dropping the connection. */
  readonly stats: { requests: number; dropped: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0: a free one) and answers every request from `sandbox.fetch`. */
export async function serveShopifySandbox(sandbox: Pick<ShopifySandbox, 'fetch'>, options: { port?: number } = {}): Promise<SandboxHttpHost> {
  const stats = { requests: 0, dropped: 0 };
  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const origin = req.headers[ORIGIN_HEADER];
        if (typeof origin !== 'string' || !/^https:\/\/[a-z0-9.-]+$/i.test(origin)) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`the ${ORIGIN_HEADER} header must name the https origin the request was for`);
          return;
        }
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || name === 'host' || name === ORIGIN_HEADER || name === 'connection' || name === 'content-length') continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const method = req.method ?? 'GET';
        const body = method === 'GET' || method === 'HEAD' ? undefined : Buffer.concat(chunks);
        let response: Response;
        try {
          response = await sandbox.fetch(new Request(`${origin}${req.url ?? '/'}`, { method, headers, ...(body ? { body } : {}) }));
        } catch (error) {
          if ((error as Error).message.startsWith('fetch failed')) {
            stats.dropped += 1;
            req.socket.destroy();
            return;
          }
          res.writeHead(502, { 'content-type': 'text/plain' }).end((error as Error).message);
          return;
        }
        const out: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          if (name !== 'content-length' && name !== 'transfer-encoding') out[name] = value;
        });
        res.writeHead(response.status, out);
        if (!response.body) {
          res.end();
          return;
        }
        const stream = Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
        stream.on('error', () => req.socket.destroy());
        stream.pipe(res);
      })();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
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
    const signal = init?.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    return globalThis.fetch(`${base}${url.pathname}${url.search}`, { method: request.method, headers, ...(body ? { body } : {}), signal });
  }) as typeof fetch;
}
