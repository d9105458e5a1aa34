import { createTactful, openStore } from '@tactful/core';
import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../cli/program.js';
import { providerFromEnv } from './campaign.js';
import { readServeConfig } from '../server/config.js';
import { untilSignal } from '../cli/signals.js';

export const serveCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('serve')
    .description(
      'run the web app: consent pages, webhooks, health and the admin dashboard (configured by environment variables)',
    )
    .addHelpText(
      'after',
      `
Environment:
  TACTFUL_ADMIN_TOKEN      required: opens the admin dashboard (at least 24 characters)
  PORT, HOST               where to listen (default 3000 on 127.0.0.1)
  PUBLIC_URL               the URL customers reach the app at (links in emails); default http://HOST:PORT
  TACTFUL_DB, TACTFUL_SHOP the database (folder, memory:// or postgres://) and the shop (or --db, --shop)
  TACTFUL_SECRET           the master secret (64 hex characters); required with PostgreSQL
  TACTFUL_DEMO=1           keep emails in a demo inbox at /demo/mail instead of sending them
  TACTFUL_SMTP_URL         smtp://user:pass@host:587 or smtps://…:465: sends the app's own emails (confirmation, welcome)
  TACTFUL_MAIL_FROM        their From: shop@example.com or "Shop name <shop@example.com>" (required with TACTFUL_SMTP_URL)
  TACTFUL_RATE_LIMIT       requests per minute per client on public pages (default 60)
  TACTFUL_TRUST_PROXY      number of proxies in front of the app (default 0)
  SHOPIFY_API_SECRET       mounts /shopify/webhooks; with SHOPIFY_API_KEY and SHOPIFY_SCOPES also /shopify/auth
  MAILCHIMP_WEBHOOK_SECRET mounts /mailchimp/webhooks/<secret> (at least 32 characters)
  MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID  campaigns are sent from the admin through this audience`,
    )
    .action(async () => {
      // The web app (express, pino, the adapters' routes) loads when it runs, not at every start of the CLI.
      const [{ default: pino }, { createApp }, { startServer }, { startWorkers }] = await Promise.all([
        import('pino'),
        import('../server/app.js'),
        import('../server/start.js'),
        import('../server/workers.js'),
      ]);
      const { db, shop } = ctx.globals();
      // Every problem of the configuration is reported at once (CONFIG.INVALID, exit 2).
      const config = readServeConfig({ ...ctx.io.env, TACTFUL_DB: db, TACTFUL_SHOP: shop });
      const logger = pino({ level: ctx.io.env.LOG_LEVEL ?? 'info' }, { write: (line: string) => ctx.io.stdout(line) });
      const store = await openStore({ url: config.TACTFUL_DB, secret: config.TACTFUL_SECRET });
      try {
        const tactful = await createTactful({ store, shop: config.TACTFUL_SHOP });
        // Campaigns are sent through Mailchimp when it is configured (the same variables as tactful sync).
        const provider = ctx.io.env.MAILCHIMP_API_KEY ? await providerFromEnv(ctx, tactful) : undefined;
        const app = createApp({ tactful, config, logger, provider });
        const running = await startServer(app, { host: config.HOST, port: config.PORT });
        // The flows' due steps go out from here too, without anyone pressing a button (see docs/flows.md).
        const workers = startWorkers(
          tactful,
          logger,
          provider ? { flows: { provider, publicUrl: config.PUBLIC_URL } } : {},
        );
        logger.info(
          {
            url: running.url,
            publicUrl: config.PUBLIC_URL,
            shop: tactful.shopId,
            store: store.kind,
            demo: config.TACTFUL_DEMO,
          },
          'tactful listening',
        );
        ctx.io.stderr(
          `Tactful for ${tactful.shopId} listening on ${running.url} (public URL ${config.PUBLIC_URL}). Admin: ${config.PUBLIC_URL}/admin.${config.TACTFUL_DEMO ? ` Demo inbox: ${config.PUBLIC_URL}/demo/mail.` : ''} Ctrl-C stops.\n`,
        );
        const signal = await untilSignal();
        logger.info({ signal }, 'stopping');
        await running.close();
        await workers.stop();
      } finally {
        await store.close();
      }
    });
};
