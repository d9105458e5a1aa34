import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  server: Server;
  /** http://host:port of the listening socket. */
  url: string;
  port: number;
  /** Stops accepting, ends idle keep-alive connections, and resolves when every socket is closed. */
  close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one) and resolves once listening. */
export function startServer(app: Express, options: { host: string; port: number }): Promise<RunningServer> {
  const server = createServer(app);
  // Longer than any client's or load balancer's idle timeout (undici 4 s, ALB 60 s): the client, not the
  // server, ends an idle connection, so a request never races a server-side close (ECONNRESET).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve({
        server,
        url: `http://${host}:${address.port}`,
        port: address.port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error ? fail(error) : done()));
            server.closeIdleConnections();
            setTimeout(() => server.closeAllConnections(), 5_000).unref();
          }),
      });
    });
  });
}
