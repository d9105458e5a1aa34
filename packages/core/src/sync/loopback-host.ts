/**
 * Serves an in-process fetch handler (a vendor sandbox) over loopback HTTP, so an app in another process
 * (a child process a fault test kills and restarts) talks to the sandbox the test process holds. A handler
 * that fails like the network ("fetch failed": a dropped connection, a timeout fault) reaches the client as
 * a real socket error; a response body is streamed as it is produced.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';

export interface LoopbackHost {
  /** http://127.0.0.1:port */
  readonly url: string;
  /** Requests served so far, and those answered by dropping the connection. */
  readonly stats: { requests: number; dropped: number };
  close(): Promise<void>;
}

export interface LoopbackHostOptions {
  /** Default 0: a free port. */
  port?: number;
  /** The origin the request was meant for (`https://…`), or a message for a 400 when it cannot be told. */
  origin: (req: IncomingMessage) => string | { refuse: string };
  /** Request headers not passed on (besides host, connection and content-length). */
  dropHeaders?: readonly string[];
}

/** Listens on 127.0.0.1 and answers every request from `handle`. */
export async function serveOverLoopback(
  handle: (request: Request) => Promise<Response>,
  options: LoopbackHostOptions,
): Promise<LoopbackHost> {
  const stats = { requests: 0, dropped: 0 };
  const dropped = new Set(['host', 'connection', 'content-length', ...(options.dropHeaders ?? [])]);
  const server = http.createServer((req, res) => {
    stats.requests += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void (async () => {
        const origin = options.origin(req);
        if (typeof origin !== 'string') {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(origin.refuse);
          return;
        }
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (value === undefined || dropped.has(name)) continue;
          headers.set(name, Array.isArray(value) ? value.join(', ') : value);
        }
        const method = req.method ?? 'GET';
        const body = method === 'GET' || method === 'HEAD' || chunks.length === 0 ? undefined : Buffer.concat(chunks);
        let response: Response;
        try {
          response = await handle(
            new Request(`${origin}${req.url ?? '/'}`, { method, headers, ...(body ? { body } : {}) }),
          );
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
