/**
 * The demo pipeline: a Shopify shop (the sandbox, seeded from the real Groceries baskets) and a Mailchimp
 * audience (the sandbox), both stateful fakes of the real APIs served in-process through msw, connected to
 * Tactful through the real adapters. Import → consent sync → delivery to both systems → the model →
 * recommendations with their reasons, every number read back from the store.
 */
import { setupServer } from 'msw/node';
import {
  fromExternalConsent,
  statedReason,
  exclusionLabels,
  formatMoney,
  type CampaignRunResult,
  type ExclusionReason,
  type CampaignStats,
  type Tactful,
  type OrderRecord,
} from '@tactful/core';
import { createShopifyPlatform } from '@tactful/shopify';
import { createShopifySandbox, seedFromGroceries } from '@tactful/shopify/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import type { Progress } from '../cli/progress.js';
import { readGroceries } from './groceries.js';
import { runDemoFlow, type DemoFlowResult } from './flow.js';
import { type HeapWatch, watchHeap } from './heap-watch.js';

/** How much the JS heap may grow between two full collections while the pipeline runs (see heap-watch.ts). */
const HEAP_GROWTH = 64 * 2 ** 20;

/** Runs one step with a progress display (the CLI draws a bar on a terminal); the default shows nothing. */
export type ProgressRunner = <T>(
  label: string,
  total: number | undefined,
  work: (progress: Progress) => Promise<T>,
) => Promise<T>;
const noProgress: ProgressRunner = (_label, _total, work) => work({ tick() {}, set() {}, total() {}, drawing: false });

export interface DemoReport {
  products: number;
  orders: number;
  customers: number;
  consentEvents: number;
  personalizationGrants: number;
  pendingDoubleOptIn: number;
  delivered: number;
  deadLettered: number;
  mailchimpMembers: Record<string, number>;
  shopifyConsent: Record<string, number>;
  examples: Array<{ email: string; recommendations: Array<{ title: string; why: string }> }>;
  campaign: null | {
    dryRun: CampaignRunResult;
    sent: CampaignRunResult;
    stats: CampaignStats | undefined;
    simulated: { opens: number; clicks: number; orders: number };
    /** Every email of the send, as the Mailchimp sandbox rendered it for its recipient. */
    emails: Array<{ to: string; from: string; subject: string; html: string }>;
  };
  /** The post-purchase flow over a few simulated weeks, with its holdout comparison. */
  flow: DemoFlowResult | null;
}

/** The demo campaign's dry run as a table that accounts for every customer of the shop. */
export function exclusionTable(customers: number, dryRun: CampaignRunResult): Array<[string, number]> {
  const rows: Array<[string, number]> = [['would get it', dryRun.eligible]];
  if (dryRun.alreadySent > 0) rows.push(['already got it', dryRun.alreadySent]);
  for (const [reason, n] of Object.entries(dryRun.excluded) as Array<[ExclusionReason, number]>)
    rows.push([`not sent: ${exclusionLabels[reason]}`, n]);
  const counted = rows.reduce((sum, [, n]) => sum + n, 0);
  // Customers Shopify holds no email consent for (never asked, or an invalid address) have no consent record.
  if (customers > counted) rows.push(['not sent: no consent on record', customers - counted]);
  return rows;
}

/** The demo shop's sender: the same postal address as the sandbox audience's contact, as a real setup needs. */
export const DEMO_SENDER = {
  name: 'Tactful Demo Store',
  email: 'hello@tactful-demo.example',
  postalAddress: '1 Sandbox Street, Atlanta, GA 30308, US',
};
export const DEMO_CAMPAIGN = 'welcome-back';

export interface DemoSandboxes {
  shopify: ReturnType<typeof createShopifySandbox>;
  mailchimp: ReturnType<typeof createMailchimpSandbox>;
  platform: ReturnType<typeof createShopifyPlatform>;
  provider: ReturnType<typeof createMailchimpProvider>;
  close(): void;
}

const AUDIENCE = 'demoaudience1';

/** Starts both sandboxes in this process (outgoing vendor calls are answered by them; localhost passes). */
export function startSandboxes(
  shop: string,
  options: { customers: number; orders?: number; imageUrl?: (title: string) => string },
): DemoSandboxes & { seed: ReturnType<typeof seedFromGroceries> } {
  const shopify = createShopifySandbox({ shop, bucket: { maximumAvailable: 20_000, restoreRate: 1000 } });
  const seed = seedFromGroceries(shopify, readGroceries(), { customers: options.customers, orders: options.orders });
  // The sandbox pictures live on a CDN the demo cannot reach: the demo app draws one per product instead.
  if (options.imageUrl)
    for (const product of shopify.state.products.byId.values()) product.imageUrl = options.imageUrl(product.title);
  const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  const server = setupServer(...shopify.handlers, ...mailchimp.handlers);
  server.listen({ onUnhandledRequest: 'bypass' });
  // The sandbox's own fetch streams bulk results without msw holding every body in memory.
  const platform = createShopifyPlatform({
    shop: shopify.shop,
    accessToken: shopify.accessToken,
    bulk: { pollIntervalMs: 50 },
    fetch: shopify.fetch,
  });
  const provider = createMailchimpProvider({ apiKey: mailchimp.apiKey, audienceId: AUDIENCE });
  return { shopify, mailchimp, platform, provider, seed, close: () => server.close() };
}

function tally(values: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export async function runDemoPipeline(
  tactful: Tactful,
  sandboxes: DemoSandboxes,
  say: (line: string) => void,
  progress: ProgressRunner = noProgress,
  options: { campaign?: boolean; flow?: boolean; publicUrl?: string } = {},
): Promise<DemoReport> {
  const heap = watchHeap(HEAP_GROWTH);
  // Every progress tick is a point between batches: a check there, too (see heap-watch.ts).
  const watched: ProgressRunner = (label, total, work) =>
    progress(label, total, (bar) =>
      work({
        tick: (n) => (heap.check(), bar.tick(n)),
        set: (n) => (heap.check(), bar.set(n)),
        total: (n) => bar.total(n),
        get drawing() {
          return bar.drawing;
        },
      }),
    );
  try {
    return await pipeline(tactful, sandboxes, say, watched, heap, options);
  } finally {
    heap.stop();
  }
}

async function pipeline(
  tactful: Tactful,
  sandboxes: DemoSandboxes,
  say: (line: string) => void,
  progress: ProgressRunner,
  heap: HeapWatch,
  options: { campaign?: boolean; flow?: boolean; publicUrl?: string },
): Promise<DemoReport> {
  const { platform, provider } = sandboxes;
  let last = Date.now();
  const step = (line: string) => {
    say(`${line}  [${((Date.now() - last) / 1000).toFixed(1)} s]`);
    last = Date.now();
    heap.check();
  };
  await tactful.settings.update({ connectedSystems: [platform.system, provider.system], requireDoubleOptIn: true });

  // 1. The catalogue.
  let products = 0;
  let cursor: string | undefined;
  do {
    const page = await platform.listProducts({ cursor, limit: 250 });
    products += await tactful.products.upsert(page.items);
    cursor = page.nextCursor;
  } while (cursor);
  step(`  catalogue: ${products} products from Shopify`);

  // 2. The full order history, through a bulk operation, streamed.
  const orders = await progress('  orders', sandboxes.shopify.state.orders.size, async (bar) => {
    let count = 0;
    let batch: OrderRecord[] = [];
    for await (const order of platform.streamAllOrders!()) {
      batch.push(order);
      if (batch.length % 250 === 0) heap.check();
      if (batch.length >= 2000) {
        await tactful.orders.ingest(batch, platform.system);
        count += batch.length;
        bar.set(count);
        batch = [];
      }
    }
    if (batch.length > 0) await tactful.orders.ingest(batch, platform.system);
    return count + batch.length;
  });
  step(`  order history: ${orders} orders imported through a bulk operation`);

  // 3. Email marketing consent as Shopify holds it, with its original times.
  const events: unknown[] = [];
  const customers: Array<{ email: string; id: string; state: string }> = [];
  await progress('  customers', sandboxes.shopify.state.customers.byId.size, async (bar) => {
    let page: Awaited<ReturnType<typeof platform.listCustomers>>;
    let next: string | undefined;
    do {
      page = await platform.listCustomers({ cursor: next, limit: 250 });
      for (const c of page.items) {
        if (!c.email) continue;
        customers.push({ email: c.email, id: c.id, state: c.emailConsent?.state ?? 'none' });
        const x = c.emailConsent;
        if (x && x.state !== 'none') events.push(fromExternalConsent(platform.system, { ...x, email: c.email }, c.id));
      }
      bar.tick(page.items.length);
      next = page.nextCursor;
    } while (next);
  });
  await progress('  consent facts', events.length, async (bar) => {
    for (let i = 0; i < events.length; i += 500) {
      await tactful.consent.recordBatch(events.slice(i, i + 500), { type: 'system', id: 'demo-import' });
      bar.tick(Math.min(500, events.length - i));
    }
  });
  step(`  customers: ${customers.length}; consent facts from Shopify: ${events.length}`);

  // 4. Customers who ticked "personal recommendations" on the store's preference form (a first-party
  //    opt-in, recorded in batches); a smaller group signs up through the double opt-in link and some of
  //    them never click it (pending); a few later unsubscribe with one click.
  let grants = 0;
  let pending = 0;
  const subscribed = customers.filter((c) => c.state === 'granted');
  const formGrants = subscribed.filter((_, i) => i % 5 !== 4 && i % 9 !== 0);
  const at = new Date();
  for (let i = 0; i < formGrants.length; i += 500) {
    await tactful.consent.recordBatch(
      formGrants.slice(i, i + 500).map((c) => ({
        subject: { email: c.email },
        purpose: 'personalization',
        state: 'granted',
        level: 'single',
        occurredAt: at,
        source: { system: 'tactful', eventId: `prefs-form:${c.id}`, method: 'form' },
        evidence: { formId: 'preferences-form', policyVersion: '1', clause: 'Personalisation' },
      })),
      { type: 'customer', id: 'preferences-form' },
    );
    grants += Math.min(500, formGrants.length - i);
  }
  for (const [i, c] of subscribed
    .filter((_, j) => j % 9 === 0)
    .slice(0, 40)
    .entries()) {
    const ticket = await tactful.consent.requestOptIn({
      email: c.email,
      purposes: ['personalization'],
      evidence: { ip: '198.51.100.10', formId: 'signup-form', policyVersion: '1' },
    });
    if (i % 4 === 3) {
      pending += 1;
      continue;
    }
    await tactful.consent.confirmOptIn(ticket.token, { ip: '198.51.100.10' });
    grants += 1;
    if (i % 5 === 1)
      await tactful.consent.unsubscribe(await tactful.consent.unsubscribeToken(c.email, 'email_marketing'), {
        ip: '198.51.100.11',
      });
  }
  step(
    `  personalization: ${grants} granted (preference form or double opt-in), ${pending} double opt-ins still pending, a few unsubscribed by one click`,
  );

  // 5. Every change reaches every other connected system (the outbox, delivered by the dispatcher).
  const report = await progress('  delivering changes', undefined, () =>
    tactful.outbox.dispatcher({ targets: tactful.targets({ platform, provider }) }).drain(),
  );
  step(
    `  sync: ${report.delivered} changes delivered to Shopify and Mailchimp, ${report.deadLettered} refused (kept with their reason)`,
  );
  const audience = sandboxes.mailchimp.state.audiences.get(AUDIENCE);
  const mailchimpMembers = tally(audience ? [...audience.members.values()].map((m) => m.status) : []);
  const shopifyConsent = tally(
    [...sandboxes.shopify.state.customers.byId.values()].map((c) => c.consent.marketingState),
  );

  // 6. Recommendations for a few customers who agreed, each with its reason.
  const examples: DemoReport['examples'] = [];
  for (const c of formGrants.slice(0, 3)) {
    const r = await tactful.recommend.forCustomer(c.email, { k: 3 });
    examples.push({
      email: c.email,
      recommendations: r.recommendations.map((rec) => {
        const titles = new Map(
          rec.reasons.flatMap((x) =>
            x.kind === 'bought-with' && x.becauseTitle ? [[x.because, x.becauseTitle] as const] : [],
          ),
        );
        return {
          title: rec.product.title,
          why: statedReason(rec, (id) => titles.get(id) ?? id).replace(/^./, (c) => c.toLowerCase()),
        };
      }),
    });
  }
  // 7. The related-product campaign: a dry run (who would get it, who not and why), then the send through
  //    Mailchimp. The sandbox's recipients then open, click and buy (simulated: every 3rd opens, every 8th
  //    clicks, every 12th buys a featured product); the buys come back from Shopify like any order.
  const campaign =
    options.campaign === false
      ? null
      : await demoCampaign(tactful, sandboxes, step, options.publicUrl ?? 'http://127.0.0.1:3000', customers.length);
  // 8. The post-purchase flow: on, then weeks of new orders on a simulated clock; the holdout shows what it earned.
  const flow =
    options.flow === false
      ? null
      : await runDemoFlow(tactful, sandboxes, {
          publicUrl: options.publicUrl ?? 'http://127.0.0.1:3000',
          say: step,
          everyDay: heap.check,
          // The campaign's recipients sit the flow out: their orders stay the campaign's to attribute.
          exclude: new Set(campaign?.emails.map((e) => e.to.toLowerCase()) ?? []),
        });
  return {
    campaign,
    flow,
    products,
    orders,
    customers: customers.length,
    consentEvents: events.length,
    personalizationGrants: grants,
    pendingDoubleOptIn: pending,
    delivered: report.delivered,
    deadLettered: report.deadLettered,
    mailchimpMembers,
    shopifyConsent,
    examples,
  };
}

async function demoCampaign(
  tactful: Tactful,
  sandboxes: DemoSandboxes,
  step: (line: string) => void,
  publicUrl: string,
  customers: number,
): Promise<DemoReport['campaign']> {
  const { platform, provider } = sandboxes;
  await tactful.settings.update({ sender: DEMO_SENDER, currency: sandboxes.shopify.state.currency });
  // The demo runs at any hour: no quiet hours for the demo shop (the caps stay as by default).
  await tactful.contact.setPolicy({ quietHours: null });
  const dryRun = await tactful.campaign.run({
    name: DEMO_CAMPAIGN,
    subject: 'Picked for you',
    dryRun: true,
    publicUrl,
    previews: 3,
  });
  step(
    `  campaign dry run over all ${customers} customers: ${exclusionTable(customers, dryRun)
      .map(([label, n]) => `${n} ${label}`)
      .join(', ')}`,
  );
  const sentAt = new Date();
  // About three in four of those eligible get it now: the rest stay eligible, so the dashboard's own dry
  // run has people to show (those sent to are held back by the frequency cap).
  const keep = dryRun.eligible > 1 ? Math.max(1, Math.floor(dryRun.eligible / 4)) : 0;
  const sent = await tactful.campaign.run(
    {
      name: DEMO_CAMPAIGN,
      subject: 'Picked for you',
      dryRun: false,
      publicUrl,
      ...(dryRun.eligible - keep > 0 ? { maxRecipients: dryRun.eligible - keep } : {}),
    },
    { provider, actor: { type: 'system', id: 'demo' } },
  );
  const audience = [...sandboxes.mailchimp.state.audiences.values()][0]!;
  const mcCampaign = [...sandboxes.mailchimp.state.campaigns.values()].find((c) => c.status === 'sent');
  const simulated = { opens: 0, clicks: 0, orders: 0 };
  const emails: Array<{ to: string; from: string; subject: string; html: string }> = [];
  if (mcCampaign) {
    const recipients = mcCampaign.sentTo.map((hash) => audience.members.get(hash)!.email_address);
    for (const to of recipients) {
      const html = sandboxes.mailchimp.render(mcCampaign.id, to);
      if (html)
        emails.push({
          to,
          from: `${mcCampaign.settings.from_name} <${mcCampaign.settings.reply_to}>`,
          subject: mcCampaign.settings.subject_line ?? '',
          html,
        });
    }
    const featured = await tactful.campaign.featured(DEMO_CAMPAIGN);
    const customers = new Map([...sandboxes.shopify.state.customers.byId.values()].map((c) => [c.email, c]));
    for (const [i, email] of recipients.entries()) {
      if (i % 3 === 0) sandboxes.mailchimp.actions.open(mcCampaign.id, email), (simulated.opens += 1);
      if (i % 8 === 0) sandboxes.mailchimp.actions.click(mcCampaign.id, email), (simulated.clicks += 1);
      if (i % 12 === 0) {
        const subjectId = await tactful.audit.subjectIdOf(email);
        const productId = subjectId ? featured.get(subjectId)?.[0] : undefined;
        const product = productId ? sandboxes.shopify.state.products.byId.get(productId) : undefined;
        const customer = customers.get(email);
        if (!product || !customer) continue;
        sandboxes.shopify.addOrder({
          email,
          customerId: customer.id,
          lines: [{ productId: product.id, title: product.title, quantity: 1, price: '2.49' }],
        });
        simulated.orders += 1;
      }
    }
  }
  // The buys come back as Shopify orders updated since the send, like a later sync.
  let cursor: string | undefined;
  const newer: OrderRecord[] = [];
  do {
    const page = await platform.listOrders({ cursor, updatedSince: sentAt });
    for (const order of page.items) newer.push(order);
    cursor = page.nextCursor;
  } while (cursor);
  if (newer.length > 0) await tactful.orders.ingest(newer, platform.system);
  await tactful.campaign.refreshReports(provider);
  const stats = (await tactful.campaign.stats()).find((c) => c.name === DEMO_CAMPAIGN);
  step(
    `  campaign sent through Mailchimp to ${sent.sent} people (each exactly once); simulated in the sandbox: ${simulated.opens} opens, ${simulated.clicks} clicks, ${simulated.orders} orders of a featured product → ${stats?.attributedOrders ?? 0} orders, ${formatMoney(stats?.revenue ?? 0, sandboxes.shopify.state.currency)} attributed; ${dryRun.eligible - sent.sent} left for the dashboard's dry run`,
  );
  return { dryRun, sent, stats, simulated, emails };
}
