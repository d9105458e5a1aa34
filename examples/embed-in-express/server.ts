// An existing Express server (a shop's own site) that mounts Tactful's consent pages, on its own PostgreSQL.
import { pathToFileURL } from 'node:url';
import express from 'express';
import { createTactful, openStore } from '@tactful/core';
import { createApp, readServeConfig, type CreateAppOptions } from '@tactful/app';

export interface ShopServerOptions {
  databaseUrl: string; // postgres://… — your database; Tactful keeps its tables in it
  secret: string; // TACTFUL_SECRET: 64 hex characters, wraps every key Tactful holds
  shop: string; // the shop's domain, e.g. my-shop.example
  publicUrl: string; // where customers reach this server: links in emails point here
  adminToken: string; // opens Tactful's dashboard at /admin
  mailer: NonNullable<CreateAppOptions['mailer']>; // your transactional mail (confirmation, welcome)
  logger?: CreateAppOptions['logger']; // your pino logger; default: request lines on stdout
}

export async function createShopServer(options: ShopServerOptions) {
  // Checked before anything opens: every problem at once, as CONFIG.INVALID.
  const config = readServeConfig({
    TACTFUL_DB: options.databaseUrl,
    TACTFUL_SECRET: options.secret,
    TACTFUL_SHOP: options.shop,
    PUBLIC_URL: options.publicUrl,
    TACTFUL_ADMIN_TOKEN: options.adminToken,
  });
  const store = await openStore({ url: options.databaseUrl, secret: options.secret });
  const tactful = await createTactful({ store, shop: options.shop });

  const app = express();
  // The shop's own routes come first...
  app.get('/', (_req, res) => void res.send('<h1>My shop</h1><a href="/subscribe">Get our newsletter</a>'));
  app.get('/api/health', (_req, res) => void res.json({ ok: true }));
  // ...then Tactful: /subscribe, /confirm, /unsubscribe, /preferences, /admin. Mount it last: it answers 404 for the rest.
  app.use(createApp({ tactful, config, mailer: options.mailer, logger: options.logger }));
  return { app, tactful, close: () => store.close() };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env;
  const port = Number(env.PORT ?? 3000);
  const { app } = await createShopServer({
    databaseUrl: env.DATABASE_URL ?? '',
    secret: env.TACTFUL_SECRET ?? '',
    shop: env.TACTFUL_SHOP ?? 'my-shop.example',
    publicUrl: env.PUBLIC_URL ?? `http://127.0.0.1:${port}`,
    adminToken: env.TACTFUL_ADMIN_TOKEN ?? '',
    mailer: { send: async (mail) => console.log(`mail to ${mail.to}: ${mail.subject}\n${mail.text}`) },
  });
  app.listen(port, () => console.log(`listening on http://127.0.0.1:${port}`));
}
