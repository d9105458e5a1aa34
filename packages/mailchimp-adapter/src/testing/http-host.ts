/**
 * Serves a Mailchimp sandbox over loopback HTTP, so an app in another process (a child process killed and
 * restarted by a fault test) talks to the sandbox held by the test process: pass the host's `baseUrl` as
 * `createMailchimpProvider({ baseUrl })`. Faults that drop the connection (`timeout`, `connection_reset`)
 * reach the app as real socket errors.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { MailchimpSandbox } from './sandbox.js';

export interface MailchimpSandboxHost {
  /** The Marketing API root on loopback, e.g. http://127.0.0.1:4010/3.0: the provider's `baseUrl`. */
  readonly baseUrl: string;
  /** Requests served so far, and those answered by dropping the connection. */
  readonly stats: { requests: number; dropped: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (port 0: a free one) and answers every request from `sandbox.fetch`. */
export async function serveMailchimpSandbox(sandbox: Pick<MailchimpSandbox, 'fetch' | 'baseUrl'>, options: { port?: number } = {}): Promise<MailchimpSandboxHost> {
  const stats = { requests: 0, dropped: 0 };
  const apiRoot = new URL(sandbox.baseUrl);
  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || name === 'host' || name === 'connection' || name === 'content-length') continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const method = req.method ?? 'GET';
        const body = method === 'GET' || method === 'HEAD' || chunks.length === 0 ? undefined : Buffer.concat(chunks);
        let response: Response;
        try {
          response = await sandbox.fetch(new Request(`${apiRoot.origin}${req.url ?? '/'}`, { method, headers, ...(body ? { body } : {}) }));
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
    baseUrl: `http://127.0.0.1:${port}${apiRoot.pathname.replace(/\/+$/, '')}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
