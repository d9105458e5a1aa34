/**
 * The app under fire: one Tactful instance as a child process of the fault suite. It serves the real Express
 * app (Shopify and Mailchimp webhooks, inbox processing), imports the shop from Shopify (catalogue, consent,
 * the order history through a resumable bulk operation), delivers the outbox to both systems, and runs a
 * campaign when asked, and runs the post-purchase flow's due steps as `tactful serve`'s worker does — all against sandboxes the test process hosts on loopback HTTP, with a store that
 * survives SIGKILL (a PGlite folder or PostgreSQL).
 *
 * Run: node --import tsx test/faults/worker.ts, or as the tests do, bundled (test/support/scripts.ts); the packages as built (test/support/built.ts)   (config in TACTFUL_FAULT_WORKER, JSON)
 * It prints one JSON object per line: `listening`, `import`, `dispatch`, `flows`, `idle`, `error`.
 */
import { appendFileSync } from 'node:fs';
import { createTactful, fromExternalConsent, openStore, type OrderRecord, type Tactful } from '@tactful/core';
import type { DeliverBatch } from '@tactful/core';
import { createShopifyPlatform, type BulkImportCheckpoint, type BulkImportCheckpointStore } from '@tactful/shopify';
import { shopifySandboxFetch } from '@tactful/shopify/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createApp, readServeConfig, startServer } from '@tactful/app';
import pino from 'pino';
import { rawStore } from '@tactful/core/testing/runtime';

export interface WorkerConfig {
  /** A name for this instance (logs, delivery records). */
  instance: string;
  db: string;
  secret: string;
  shop: string;
  /** Where this instance appends the outcome of every delivery it made (one JSON line each). */
  deliveryLog: string;
  /** Import the shop from Shopify (once; resumed after a crash). */
  importShop: boolean;
  /** How long a claimed outbox row stays invisible to other instances. */
  leaseMs: number;
  shopify: { hostUrl: string; accessToken: string; apiSecret: string; timeoutMs: number };
  mailchimp: { baseUrl: string; apiKey: string; audienceId: string; webhookSecret: string; timeoutMs: number };
  /** People who ticked "personal recommendations" on the store's form (first-party personalization grants). */
  personalization?: string[];
  /** Run this campaign once the import is done, until nobody eligible is left unsent. */
  campaign?: { name: string; waveSize: number } | null;
  /**
   * The post-purchase flow, on, through this Customer Journey step: no delay and a window open all day, so the
   * orders paid just now are due during the run. Its steps run once the first sync is through (Mailchimp holds
   * the subscribers by then).
   */
  flow?: { journeyId: number; stepId: number; holdoutShare: number } | null;
}

const emit = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const KV_ORDERS = 'fault-suite:orders-checkpoint';
const KV_PROGRESS = 'fault-suite:import-progress';

async function kvGet(tactful: Tactful, key: string): Promise<string | null> {
  return tactful.storage.shop.get(key);
}

async function kvSet(tactful: Tactful, key: string, value: string): Promise<void> {
  await tactful.storage.shop.set(key, value);
}

/**
 * The bulk import's checkpoint, kept in the store and never ahead of it: the adapter counts an order as
 * delivered once the consumer asks for the next one, but this consumer ingests in batches, so the saved count
 * is clamped to what the store holds, and `done` is saved only after the last batch is in.
 */
function clampedCheckpoints(tactful: Tactful) {
  let base = 0;
  let ingested = 0;
  let deferredDone: BulkImportCheckpoint | null = null;
  let latest: BulkImportCheckpoint | null = null;
  const write = (c: BulkImportCheckpoint) => kvSet(tactful, KV_ORDERS, JSON.stringify(c));
  const store: BulkImportCheckpointStore = {
    async load() {
      const raw = await kvGet(tactful, KV_ORDERS);
      const c = raw ? (JSON.parse(raw) as BulkImportCheckpoint) : null;
      base = c && c.status === 'streaming' ? c.delivered : 0;
      ingested = 0;
      return c;
    },
    async save(c) {
      latest = c;
      const safe = Math.min(c.delivered, base + ingested);
      if (c.status === 'done' && safe < c.delivered) {
        deferredDone = c;
        await write({ ...c, status: 'streaming', delivered: safe });
        return;
      }
      await write({ ...c, delivered: safe });
    },
  };
  return {
    store,
    /** Call after each batch is in the store. */
    async ingestedUpTo(count: number) {
      ingested = count;
      if (deferredDone && base + ingested >= deferredDone.delivered) {
        await write(deferredDone);
        deferredDone = null;
      } else if (latest && latest.status === 'streaming')
        await write({ ...latest, delivered: Math.min(latest.delivered, base + ingested) });
    },
  };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.TACTFUL_FAULT_WORKER ?? '') as WorkerConfig;
  const store = await openStore({ url: config.db, secret: config.secret });
  const tactful = await createTactful({ store, shop: config.shop });
  await tactful.settings.update({
    connectedSystems: ['shopify', 'mailchimp'],
    // Shopify's checkout consent is single opt-in; this store accepts it for offers.
    requireDoubleOptIn: false,
    sender: {
      name: 'Fault Suite Store',
      email: 'shop@faults.example',
      postalAddress: '1 Sandbox Street, Atlanta, GA 30308, US',
    },
  });
  // The suite runs at any hour: no quiet hours (the frequency caps stay).
  await tactful.contact.setPolicy({ quietHours: null });
  // Before the import, so the orders paid just now schedule their steps as they come in.
  if (config.flow)
    await tactful.flows.set(
      'post-purchase',
      {
        enabled: true,
        delayDays: 0,
        window: { start: '00:00', end: '23:59' },
        holdoutShare: config.flow.holdoutShare,
        journeyId: String(config.flow.journeyId),
        stepId: String(config.flow.stepId),
      },
      { type: 'system', id: 'fault-suite' },
    );

  const checkpoints = clampedCheckpoints(tactful);
  const platform = createShopifyPlatform({
    shop: config.shop,
    accessToken: config.shopify.accessToken,
    pageSize: 50,
    retry: { maxAttempts: 8, baseDelayMs: 20, maxDelayMs: 500 },
    bulk: { pollIntervalMs: 50, checkpointEvery: 1 },
    checkpoints: checkpoints.store,
    fetch: shopifySandboxFetch(config.shopify.hostUrl, { timeoutMs: config.shopify.timeoutMs }),
  });
  const provider = createMailchimpProvider({
    apiKey: config.mailchimp.apiKey,
    audienceId: config.mailchimp.audienceId,
    baseUrl: config.mailchimp.baseUrl,
    timeoutMs: config.mailchimp.timeoutMs,
    retry: { retries: 6, baseDelayMs: 20, maxDelayMs: 500 },
  });

  // The web app: webhooks of both systems land in the inbox.
  const serve = readServeConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TACTFUL_DB: config.db,
    TACTFUL_SHOP: config.shop,
    TACTFUL_SECRET: config.secret,
    TACTFUL_ADMIN_TOKEN: 'fault-suite-admin-token-0123456789',
    TACTFUL_RATE_LIMIT: '100000',
    SHOPIFY_API_SECRET: config.shopify.apiSecret,
    MAILCHIMP_WEBHOOK_SECRET: config.mailchimp.webhookSecret,
  });
  const app = createApp({ tactful, config: serve, logger: pino({ level: 'silent' }) });
  const running = await startServer(app, { host: '127.0.0.1', port: 0 });
  emit({ ev: 'listening', instance: config.instance, url: running.url, pid: process.pid });

  // Every delivery's outcome is recorded, so the suite can tell whether two instances ever did one row twice.
  const record =
    (target: string, deliver: DeliverBatch): DeliverBatch =>
    async (items) => {
      const outcomes = await deliver(items);
      appendFileSync(
        config.deliveryLog,
        items
          .map(
            (item, i) =>
              `${JSON.stringify({
                i: config.instance,
                s: item.shopId,
                id: item.id,
                t: target,
                k: item.kind,
                ok: outcomes[i]?.ok === true,
                a: item.attempts,
              })}\n`,
          )
          .join(''),
      );
      return outcomes;
    };
  const targets = Object.fromEntries(
    Object.entries(tactful.targets({ platform, provider })).map(([name, deliver]) => [name, record(name, deliver)]),
  );
  const dispatcher = tactful.outbox.dispatcher({
    targets,
    shopId: tactful.shopId,
    baseDelayMs: 50,
    maxDelayMs: 1000,
    maxAttempts: 30,
    claimLimit: 25,
    maxBatch: { mailchimp: 10, shopify: 10 },
    leaseMs: config.leaseMs,
  });

  const progress = JSON.parse((await kvGet(tactful, KV_PROGRESS)) ?? '{}') as {
    products?: boolean;
    customers?: boolean;
    personalization?: boolean;
    orders?: boolean;
    campaign?: boolean;
  };
  const saveProgress = () => kvSet(tactful, KV_PROGRESS, JSON.stringify(progress));

  async function importShop(): Promise<void> {
    if (!progress.products) {
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await platform.listProducts({ cursor, limit: 50 });
        n += await tactful.products.upsert(page.items);
        cursor = page.nextCursor;
      } while (cursor);
      progress.products = true;
      await saveProgress();
      emit({ ev: 'import', phase: 'products', n });
    }
    if (!progress.customers) {
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await platform.listCustomers({ cursor, limit: 50 });
        const events = page.items.flatMap((c) =>
          c.email && c.emailConsent && c.emailConsent.state !== 'none'
            ? [fromExternalConsent('shopify', { ...c.emailConsent, email: c.email }, c.id)]
            : [],
        );
        if (events.length > 0) await tactful.consent.recordBatch(events, { type: 'system', id: 'shopify-import' });
        n += events.length;
        emit({ ev: 'import', phase: 'customers', n });
        cursor = page.nextCursor;
      } while (cursor);
      progress.customers = true;
      await saveProgress();
    }
    if (!progress.personalization && config.personalization && config.personalization.length > 0) {
      await tactful.consent.recordBatch(
        config.personalization.map((email) => ({
          subject: { email },
          purpose: 'personalization',
          state: 'granted',
          level: 'single',
          occurredAt: new Date('2025-06-01T12:00:00Z'),
          source: { system: 'tactful', eventId: `prefs-form:${email}`, method: 'form' },
          evidence: { formId: 'preferences-form', policyVersion: '1', clause: 'Personalisation' },
        })),
        { type: 'customer', id: 'preferences-form' },
      );
      progress.personalization = true;
      await saveProgress();
      emit({ ev: 'import', phase: 'personalization', n: config.personalization.length });
    }
    if (!progress.orders) {
      const batchSize = 20;
      let batch: OrderRecord[] = [];
      let count = 0;
      const flush = async () => {
        await tactful.orders.ingest(batch, 'shopify');
        count += batch.length;
        batch = [];
        await checkpoints.ingestedUpTo(count);
        emit({ ev: 'import', phase: 'orders', n: count });
      };
      for await (const order of platform.streamAllOrders!()) {
        batch.push(order);
        if (batch.length >= batchSize) await flush();
      }
      if (batch.length > 0) await flush();
      else await checkpoints.ingestedUpTo(count);
      progress.orders = true;
      await saveProgress();
      emit({ ev: 'import', phase: 'orders-done', n: count });
    }
  }

  async function sendCampaign(): Promise<void> {
    if (!config.campaign || progress.campaign) return;
    const result = await tactful.campaign.run(
      {
        name: config.campaign.name,
        dryRun: false,
        publicUrl: running.url,
        waveSize: config.campaign.waveSize,
        leaseSeconds: 5,
        instanceId: config.instance,
      },
      { provider, onProgress: (phase, done, total) => emit({ ev: 'campaign', phase, done, total }) },
    );
    emit({
      ev: 'campaign-run',
      eligible: result.eligible,
      sent: result.sent,
      alreadySent: result.alreadySent,
      resumedWaves: result.resumedWaves,
      failed: result.failed.length,
      excluded: result.excluded,
    });
    // People the provider failed on are tried again by the next run; done when nobody is left.
    if (result.failed.length === 0) {
      progress.campaign = true;
      await saveProgress();
    }
  }

  let quietRounds = 0;
  let failing = false;
  for (;;) {
    failing = false;
    try {
      if (config.importShop) await importShop();
      // An instance that does not import follows the one that does (the progress is in the shared store).
      else Object.assign(progress, JSON.parse((await kvGet(tactful, KV_PROGRESS)) ?? '{}'));
      // The campaign goes out once the first sync is through (Mailchimp holds the subscribers by then).
      if (progress.orders && quietRounds >= 1) await sendCampaign();
      // This shop's deliveries only: a shared test database holds other tests' shops too.
      const inboxReport = await tactful.processInbox();
      const report = await dispatcher.drain(20);
      if (report.claimed > 0) emit({ ev: 'dispatch', ...report });
      const [counts] = await rawStore(store).query<{ pending: number; inbox: number }>(
        "select (select count(*)::int from outbox where shop_id = $1 and status = 'pending') as pending, (select count(*)::int from inbox where shop_id = $1 and processed_at is null and attempts < 10) as inbox",
        [tactful.shopId],
      );
      // The flow's due steps, as the app's worker runs them, once the first sync is through. A short lease: a
      // step a killed life left `sending` is taken up by the next life soon after. Not shorter than one trigger's
      // calls take under the injected faults (1 s timeouts, retried): a step in flight past its lease can be
      // triggered by the other instance too (a runner never sends a step it lost before it began; see deliver.ts).
      let flowsLeased = 0;
      let flowsDue = 0;
      if (config.flow && progress.orders && (counts?.pending ?? 0) === 0) {
        const flows = await tactful.flows.runDue(
          { provider, publicUrl: running.url },
          { instanceId: config.instance, leaseSeconds: 10, limit: 20 },
        );
        flowsLeased = flows.leased;
        if (flows.leased > 0) emit({ ev: 'flows', ...flows, failed: flows.failed.length });
        const [due] = await rawStore(store).query<{ n: number }>(
          // Due within two minutes counts too: the send window (00:00-23:59) is closed for one minute a day, and a
          // step scheduled in it falls due at the next opening; an instance is not idle while one waits for it.
          "select count(*)::int as n from flow_steps where shop_id = $1 and (status = 'sending' or (status in ('scheduled', 'waiting') and due_at <= now() + interval '2 minutes'))",
          [tactful.shopId],
        );
        flowsDue = due?.n ?? 0;
      }
      const busy =
        report.claimed > 0 ||
        inboxReport.processed > 0 ||
        (counts?.pending ?? 0) > 0 ||
        (counts?.inbox ?? 0) > 0 ||
        flowsLeased > 0 ||
        flowsDue > 0;
      quietRounds = busy ? 0 : quietRounds + 1;
      if (quietRounds >= 2)
        emit({
          ev: 'idle',
          instance: config.instance,
          importDone: progress.orders === true && (!config.campaign || progress.campaign === true),
        });
    } catch (error) {
      failing = true;
      emit({
        ev: 'error',
        instance: config.instance,
        code: (error as { code?: string }).code,
        message: (error as Error).message,
      });
    }
    await sleep(failing ? 250 : quietRounds >= 2 ? 100 : 20);
  }
}

main().catch((error: unknown) => {
  emit({ ev: 'fatal', message: (error as Error).message, stack: (error as Error).stack });
  process.exit(1);
});
