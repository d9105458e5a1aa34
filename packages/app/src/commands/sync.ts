import { createTactful, isTactfulError, openStore, TactfulError, type OrderRecord, type Tactful } from '@tactful/core';
import { createShopifyPlatform, type ShopifyPlatform } from '@tactful/shopify';
import { createMailchimpProvider, reconcileMailchimpAudience, type MailchimpProvider } from '@tactful/mailchimp';
import type { Command } from 'commander';
import { CliExit, EXIT } from '../cli/io.js';
import { table } from '../cli/parse.js';
import { withProgress, type Progress, type ProgressOptions } from '../cli/progress.js';
import type { CliContext, CommandModule } from '../cli/program.js';
import { readSyncConfig, type SyncConfig } from '../server/config.js';
import { storeSessionStorage } from '../server/shopify-sessions.js';

/**
 * `tactful sync`: pulls what changed in Shopify and Mailchimp since the last successful sync, runs it through
 * the same inbound path as webhooks (so the consent fold, echo detection and sticky withdrawal apply
 * unchanged), then delivers the outbox to the systems synced.
 *
 * The cursor of each system is the time its last successful pull *started*, kept in the store's `kv` table
 * (`sync.cursor.<system>`). The next pull asks for changes since the cursor minus a few minutes (clock skew
 * between us and the vendor); what is read twice is recognised (delivery ids, consent source ids, order
 * versions) and changes nothing.
 */

export type SyncSystem = 'shopify' | 'mailchimp';

/** Changes read twice are harmless; reading a little early covers clock skew between us and the vendor. */
export const SYNC_OVERLAP_MS = 5 * 60_000;
const cursorKey = (system: SyncSystem) => `sync.cursor.${system}`;

export interface SystemSyncReport {
  system: SyncSystem;
  /** The cursor the pull started from (null on a first, full sync). */
  since: string | null;
  /** The new cursor, when the pull succeeded (the time it started). */
  cursor: string | null;
  /** Records read: customers (Shopify) or members (Mailchimp). */
  people: number;
  /** Of those, deliveries not seen before (handed to the fold). */
  newFacts: number;
  /** Orders read (Shopify), and how many were new or newer versions. */
  orders: number;
  ordersChanged: number;
  delivered: number;
  /** Deliveries the system refused for good (kept with their reason in the outbox). */
  refused: number;
  /** Deliveries that failed for now and wait for a later retry. */
  waiting: number;
  /** What went wrong, when something did. */
  error: string | null;
}

export interface SyncReport {
  shop: string;
  systems: SystemSyncReport[];
  /** Inbound deliveries processed by the fold (webhooks waiting included), refused (e.g. suppressed), failed. */
  inbox: { processed: number; refused: number; failed: number };
  ok: boolean;
}

export interface SyncAdapters {
  shopify?: ShopifyPlatform | undefined;
  mailchimp?: MailchimpProvider | undefined;
}

/** Runs one phase with a progress display; the CLI draws bars on a terminal. */
export type SyncProgressRunner = <T>(
  label: string,
  total: number | undefined,
  work: (progress: Progress) => Promise<T>,
  options?: ProgressOptions,
) => Promise<T>;
type Runner = SyncProgressRunner;
const noProgress: Runner = (_label, _total, work) => work({ tick() {}, set() {}, total() {}, drawing: false });

async function readCursor(tactful: Tactful, system: SyncSystem): Promise<Date | null> {
  const [row] = await tactful.store.query<{ value: string }>('select value from kv where shop_id = $1 and key = $2', [
    tactful.shopId,
    cursorKey(system),
  ]);
  if (!row) return null;
  const at = new Date(row.value);
  return Number.isNaN(at.getTime()) ? null : at;
}

async function writeCursor(tactful: Tactful, system: SyncSystem, at: Date): Promise<void> {
  await tactful.store.query(
    'insert into kv (shop_id, key, value, updated_at) values ($1, $2, $3, now()) on conflict (shop_id, key) do update set value = excluded.value, updated_at = excluded.updated_at',
    [tactful.shopId, cursorKey(system), at.toISOString()],
  );
}

function describeError(error: unknown): string {
  if (isTactfulError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function emptyReport(system: SyncSystem, since: Date | null): SystemSyncReport {
  return {
    system,
    since: since?.toISOString() ?? null,
    cursor: null,
    people: 0,
    newFacts: 0,
    orders: 0,
    ordersChanged: 0,
    delivered: 0,
    refused: 0,
    waiting: 0,
    error: null,
  };
}

async function pullShopify(
  tactful: Tactful,
  platform: ShopifyPlatform,
  report: SystemSyncReport,
  since: Date | null,
  progress: Runner,
): Promise<void> {
  const updatedSince = since ? new Date(since.getTime() - SYNC_OVERLAP_MS) : undefined;
  const receivedAt = tactful.now();
  // Customers (with their email marketing consent) go through the inbox, exactly like customers/update webhooks.
  await progress(
    'shopify customers',
    undefined,
    async (bar) => {
      let cursor: string | undefined;
      do {
        const page = await platform.listCustomers({ cursor, updatedSince });
        for (const customer of page.items) {
          report.people += 1;
          const outcome = await tactful.inbox.receive(
            tactful.shopId,
            { kind: 'customer', customer },
            {
              system: platform.system,
              deliveryId: `sync:customer:${customer.id}:${customer.updatedAt.toISOString()}`,
              receivedAt,
              topic: 'sync/customers',
            },
          );
          if (outcome === 'accepted') report.newFacts += 1;
        }
        bar.tick(page.items.length);
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
    { unit: 'customers' },
  );
  // Orders are ingested in batches (idempotent: a version not newer than the stored one changes nothing).
  await progress(
    'shopify orders',
    undefined,
    async (bar) => {
      let batch: OrderRecord[] = [];
      const flush = async () => {
        const r = await tactful.orders.ingest(batch, platform.system);
        report.ordersChanged += r.added + r.updated;
        bar.tick(batch.length);
        batch = [];
      };
      const add = async (order: OrderRecord) => {
        report.orders += 1;
        batch.push(order);
        if (batch.length >= 1000) await flush();
      };
      if (updatedSince === undefined && platform.capabilities.bulkOrders) {
        // A first sync reads the whole history through one bulk operation.
        for await (const order of platform.streamAllOrders()) await add(order);
      } else {
        let cursor: string | undefined;
        do {
          const page = await platform.listOrders({ cursor, updatedSince });
          for (const order of page.items) await add(order);
          cursor = page.nextCursor;
        } while (cursor !== undefined);
      }
      if (batch.length > 0) await flush();
    },
    { unit: 'orders' },
  );
}

async function pullMailchimp(
  tactful: Tactful,
  provider: MailchimpProvider,
  report: SystemSyncReport,
  since: Date | null,
  progress: Runner,
): Promise<void> {
  const changedSince = since ? new Date(since.getTime() - SYNC_OVERLAP_MS) : undefined;
  // Members go through the inbox as consent facts from `mailchimp` (method `sync`): the fold never lets them
  // grant again after a withdrawal, and Tactful's own earlier pushes come back as echoes.
  const r = await progress(
    'mailchimp members',
    undefined,
    () =>
      reconcileMailchimpAudience(provider, tactful.inbox, tactful.shopId, {
        ...(changedSince ? { changedSince } : {}),
        now: tactful.now,
      }),
    {
      unit: 'members',
    },
  );
  report.people += r.members;
  report.newFacts += r.accepted;
}

/**
 * Pulls from each adapter given, processes the inbox, delivers the outbox to those systems, and moves the
 * cursor of each system whose pull succeeded. Never throws for a vendor failure: it is in the report.
 */
export async function runSync(
  tactful: Tactful,
  adapters: SyncAdapters,
  progress: Runner = noProgress,
): Promise<SyncReport> {
  const systems: Array<[SyncSystem, ShopifyPlatform | MailchimpProvider]> = [];
  if (adapters.shopify) systems.push(['shopify', adapters.shopify]);
  if (adapters.mailchimp) systems.push(['mailchimp', adapters.mailchimp]);
  // A system synced is a connected system: from now on every change is queued for it in the outbox.
  const settings = await tactful.settings.get();
  const missing = systems.map(([system]) => system).filter((system) => !settings.connectedSystems.includes(system));
  if (missing.length > 0)
    await tactful.settings.update(
      { connectedSystems: [...settings.connectedSystems, ...missing] },
      { type: 'system', id: 'sync' },
    );
  const reports: SystemSyncReport[] = [];
  for (const [system, adapter] of systems) {
    const since = await readCursor(tactful, system);
    const report = emptyReport(system, since);
    reports.push(report);
    const startedAt = tactful.now();
    try {
      if (system === 'shopify') await pullShopify(tactful, adapter as ShopifyPlatform, report, since, progress);
      else await pullMailchimp(tactful, adapter as MailchimpProvider, report, since, progress);
      report.cursor = startedAt.toISOString();
    } catch (error) {
      report.error = describeError(error);
    }
  }

  const inbox = await progress('processing changes', undefined, () => tactful.processInbox());

  for (const report of reports) {
    const adapter = report.system === 'shopify' ? { platform: adapters.shopify } : { provider: adapters.mailchimp };
    const target = tactful.targets(adapter)[report.system];
    if (!target) continue;
    try {
      const delivered = await progress(`delivering to ${report.system}`, undefined, () =>
        tactful.outbox.dispatcher({ targets: { [report.system]: target } }).drain(),
      );
      report.delivered = delivered.delivered;
      report.refused = delivered.deadLettered;
      report.waiting = delivered.retried;
    } catch (error) {
      report.error = [report.error, describeError(error)].filter(Boolean).join('; ');
    }
    // The cursor moves when the pull succeeded, whatever the delivery did (the outbox keeps what is still to
    // deliver); a failed pull is read again from the old cursor next time.
    if (report.cursor !== null) await writeCursor(tactful, report.system, new Date(report.cursor));
  }
  const ok = reports.every((r) => r.error === null && r.waiting === 0) && inbox.failed === 0;
  return { shop: tactful.shopId, systems: reports, inbox, ok };
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
    mailchimp = createMailchimpProvider({
      apiKey: config.MAILCHIMP_API_KEY!,
      audienceId: config.MAILCHIMP_AUDIENCE_ID!,
      requireDoubleOptIn: settings.requireDoubleOptIn,
    });
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
      s.system === 'shopify' ? String(s.orders) : '-',
      s.system === 'shopify' ? String(s.ordersChanged) : '-',
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
      const config = readSyncConfig({ ...ctx.io.env, TACTFUL_DB: db, TACTFUL_SHOP: shop }, systems);
      const store = await openStore({ url: config.TACTFUL_DB, secret: config.TACTFUL_SECRET });
      let report: SyncReport;
      try {
        const tactful = await createTactful({ store, shop: config.TACTFUL_SHOP });
        const adapters = await buildAdapters(tactful, config, systems);
        report = await runSync(tactful, adapters, (label, total, work, options) =>
          withProgress(ctx.io, label, total, work, { ...options, quiet: flags.json }),
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
