import { createTactful, openStore, TactfulError, type SyncReport, type Tactful } from '@tactful/core';
import type { ShopifyPlatform } from '@tactful/shopify';
import type { MailchimpProvider } from '@tactful/mailchimp';
import type { Command } from 'commander';
import { CliExit, EXIT } from '../cli/io.js';
import { table } from '../cli/parse.js';
import { withProgress } from '../cli/progress.js';
import type { CliContext, CommandModule } from '../cli/program.js';
import { readSyncConfig, type SyncConfig } from '../server/config.js';

/**
 * `tactful sync`: pulls what changed in Shopify and Mailchimp since the last successful sync and delivers the
 * outbox to them, through the engine (`tactful.sync.run`, see core's sync/run.ts); this command only builds the
 * adapters from the configuration and prints the report.
 */

export type { SyncReport, SystemSyncReport } from '@tactful/core';

export interface SyncAdapters {
  shopify?: ShopifyPlatform | undefined;
  mailchimp?: MailchimpProvider | undefined;
}

/** The adapters of the systems asked for, built from the configuration (and the stored install session). */
async function buildAdapters(
  tactful: Tactful,
  config: SyncConfig,
  systems: { shopify: boolean; mailchimp: boolean },
): Promise<SyncAdapters> {
  const problems: string[] = [];
  let shopify: ShopifyPlatform | undefined;
  let mailchimp: MailchimpProvider | undefined;
  if (systems.shopify) {
    // The adapters load when a sync runs, not at every start of the CLI.
    const [{ createShopifyPlatform }, { storeSessionStorage }] = await Promise.all([
      import('@tactful/shopify'),
      import('../server/shopify-sessions.js'),
    ]);
    let accessToken = config.SHOPIFY_ACCESS_TOKEN;
    if (accessToken === undefined) {
      const sessions = await storeSessionStorage(tactful).findSessionsByShop(tactful.shopId);
      accessToken = sessions.find((s) => !s.isOnline && s.accessToken)?.accessToken;
    }
    if (accessToken === undefined) {
      problems.push(
        `SHOPIFY_ACCESS_TOKEN: is required: ${tactful.shopId} has no stored install session (install the app through tactful serve, or set the Admin API token)`,
      );
    } else {
      shopify = createShopifyPlatform({ shop: tactful.shopId, accessToken });
    }
  }
  if (systems.mailchimp) {
    const settings = await tactful.settings.get();
    // The environment wins; else the connection made on the admin's Connections page.
    const stored = config.MAILCHIMP_API_KEY === undefined ? await tactful.connections.get('mailchimp') : null;
    const apiKey =
      config.MAILCHIMP_API_KEY ?? (stored ? (await tactful.connections.secrets('mailchimp'))?.apiKey : undefined);
    const audienceId =
      config.MAILCHIMP_API_KEY !== undefined
        ? config.MAILCHIMP_AUDIENCE_ID
        : typeof stored?.details.audienceId === 'string'
          ? stored.details.audienceId
          : undefined;
    if (apiKey === undefined || audienceId === undefined)
      problems.push(
        "MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID: are required to sync Mailchimp, unless Mailchimp is connected on the admin's Connections page (Settings → Connections)",
      );
    else {
      const { createMailchimpProvider } = await import('@tactful/mailchimp');
      mailchimp = createMailchimpProvider({ apiKey, audienceId, requireDoubleOptIn: settings.requireDoubleOptIn });
    }
  }
  if (problems.length > 0)
    throw new TactfulError(
      'CONFIG.INVALID',
      `The configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
      { details: problems },
    );
  return { shopify, mailchimp };
}

function summaryTable(report: SyncReport): string {
  return table(
    ['system', 'since', 'people', 'new', 'orders', 'changed', 'delivered', 'refused', 'waiting', 'status'],
    report.systems.map((s) => [
      s.system,
      s.since ?? '(first sync)',
      String(s.people),
      String(s.newFacts),
      s.role === 'platform' ? String(s.orders) : '-',
      s.role === 'platform' ? String(s.ordersChanged) : '-',
      String(s.delivered),
      String(s.refused),
      String(s.waiting),
      s.error ? `failed: ${s.error}` : s.waiting > 0 ? 'retry later' : 'ok',
    ]),
  );
}

export const syncCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('sync')
    .description(
      'pull what changed in Shopify and Mailchimp since the last sync, then deliver pending changes to them (both when no flag is given)',
    )
    .option('--shopify', 'sync Shopify: customers with their consent, and orders')
    .option('--mailchimp', 'sync Mailchimp: audience members changed in Mailchimp')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Environment (the same as tactful serve):
  TACTFUL_DB, TACTFUL_SHOP, TACTFUL_SECRET   the store and the shop (or --db, --shop)
  SHOPIFY_ACCESS_TOKEN                       the Admin API token; default: the session stored at install
  MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID   the Mailchimp account (key with its -usNN suffix) and audience

Exit codes: 0 everything pulled and delivered; 1 a system failed or deliveries wait for a retry (run again);
2 invalid flags or configuration (nothing was changed).`,
    )
    .action(async (flags: { shopify?: boolean; mailchimp?: boolean; json?: boolean }) => {
      const both = !flags.shopify && !flags.mailchimp;
      const systems = { shopify: both || Boolean(flags.shopify), mailchimp: both || Boolean(flags.mailchimp) };
      const { db, shop } = ctx.globals();
      // Every problem of the configuration is reported at once (CONFIG.INVALID, exit 2), before the store is opened.
      // Without MAILCHIMP_API_KEY the admin's stored connection is looked up once the store is open.
      const config = readSyncConfig(
        { ...ctx.io.env, TACTFUL_DB: db, TACTFUL_SHOP: shop },
        { ...systems, mailchimp: systems.mailchimp && Boolean(ctx.io.env.MAILCHIMP_API_KEY?.trim()) },
      );
      const store = await openStore({ url: config.TACTFUL_DB, secret: config.TACTFUL_SECRET });
      let report: SyncReport;
      try {
        const tactful = await createTactful({ store, shop: config.TACTFUL_SHOP });
        const adapters = await buildAdapters(tactful, config, systems);
        report = await tactful.sync.run(
          {
            platforms: adapters.shopify ? [adapters.shopify] : [],
            providers: adapters.mailchimp ? [adapters.mailchimp] : [],
          },
          {
            progress: (label, total, work, options) =>
              withProgress(ctx.io, label, total, work, { ...options, quiet: flags.json }),
          },
        );
      } finally {
        await store.close();
      }
      if (flags.json) ctx.json(report);
      else {
        ctx.line(`sync of ${report.shop}`);
        ctx.line(summaryTable(report));
        ctx.line(
          `inbox: ${report.inbox.processed} processed, ${report.inbox.refused} refused, ${report.inbox.failed} failed`,
        );
      }
      if (!report.ok)
        throw new CliExit(
          EXIT.refused,
          'the sync did not finish everything: see the summary; run tactful sync again to retry.',
        );
    });
};
