/**
 * The demo pipeline: a Shopify shop (the sandbox, seeded from the real Groceries baskets) and a Mailchimp
 * audience (the sandbox), both stateful fakes of the real APIs served in-process through msw, connected to
 * Tactful through the real adapters. Import → consent sync → delivery to both systems → the model →
 * recommendations with their reasons, every number read back from the store.
 */
import { setupServer } from 'msw/node';
import { fromExternalConsent, type Tactful, type OrderRecord } from '@tactful/core';
import { createShopifyPlatform } from '@tactful/shopify';
import { createShopifySandbox, seedFromGroceries } from '@tactful/shopify/testing';
import { createMailchimpProvider } from '@tactful/mailchimp';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import type { Progress } from '../cli/progress.js';

/** Runs one step with a progress display (the CLI draws a bar on a terminal); the default shows nothing. */
export type ProgressRunner = <T>(label: string, total: number | undefined, work: (progress: Progress) => Promise<T>) => Promise<T>;
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
}

export interface DemoSandboxes {
  shopify: ReturnType<typeof createShopifySandbox>;
  mailchimp: ReturnType<typeof createMailchimpSandbox>;
  platform: ReturnType<typeof createShopifyPlatform>;
  provider: ReturnType<typeof createMailchimpProvider>;
  close(): void;
}

const AUDIENCE = 'demoaudience1';

/** Starts both sandboxes in this process (outgoing vendor calls are answered by them; localhost passes). */
export function startSandboxes(shop: string, options: { customers: number; orders?: number }): DemoSandboxes & { seed: ReturnType<typeof seedFromGroceries> } {
  const shopify = createShopifySandbox({ shop, bucket: { maximumAvailable: 20_000, restoreRate: 1000 } });
  const seed = seedFromGroceries(shopify, { customers: options.customers, orders: options.orders });
  const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  const server = setupServer(...shopify.handlers, ...mailchimp.handlers);
  server.listen({ onUnhandledRequest: 'bypass' });
  // The sandbox's own fetch streams bulk results without msw holding every body in memory.
  const platform = createShopifyPlatform({ shop: shopify.shop, accessToken: shopify.accessToken, bulk: { pollIntervalMs: 50 }, fetch: shopify.fetch });
  const provider = createMailchimpProvider({ apiKey: mailchimp.apiKey, audienceId: AUDIENCE });
  return { shopify, mailchimp, platform, provider, seed, close: () => server.close() };
}

function tally(values: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export async function runDemoPipeline(tactful: Tactful, sandboxes: DemoSandboxes, say: (line: string) => void, progress: ProgressRunner = noProgress): Promise<DemoReport> {
  const { platform, provider } = sandboxes;
  let last = Date.now();
  const step = (line: string) => {
    say(`${line}  [${((Date.now() - last) / 1000).toFixed(1)} s]`);
    last = Date.now();
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
  for (const [i, c] of subscribed.filter((_, j) => j % 9 === 0).slice(0, 40).entries()) {
    const ticket = await tactful.consent.requestOptIn({ email: c.email, purposes: ['personalization'], evidence: { ip: '198.51.100.10', formId: 'signup-form', policyVersion: '1' } });
    if (i % 4 === 3) {
      pending += 1;
      continue;
    }
    await tactful.consent.confirmOptIn(ticket.token, { ip: '198.51.100.10' });
    grants += 1;
    if (i % 5 === 1) await tactful.consent.unsubscribe(await tactful.consent.unsubscribeToken(c.email, 'email_marketing'), { ip: '198.51.100.11' });
  }
  step(`  personalization: ${grants} granted (preference form or double opt-in), ${pending} double opt-ins still pending, a few unsubscribed by one click`);

  // 5. Every change reaches every other connected system (the outbox, delivered by the dispatcher).
  const report = await progress('  delivering changes', undefined, () => tactful.outbox.dispatcher({ targets: tactful.targets({ platform, provider }) }).drain());
  step(`  sync: ${report.delivered} changes delivered to Shopify and Mailchimp, ${report.deadLettered} refused (kept with their reason)`);
  const audience = sandboxes.mailchimp.state.audiences.get(AUDIENCE);
  const mailchimpMembers = tally(audience ? [...audience.members.values()].map((m) => m.status) : []);
  const shopifyConsent = tally([...sandboxes.shopify.state.customers.byId.values()].map((c) => c.consent.marketingState));

  // 6. Recommendations for a few customers who agreed, each with its reason.
  const examples: DemoReport['examples'] = [];
  for (const c of formGrants.slice(0, 3)) {
    const r = await tactful.recommend.forCustomer(c.email, { k: 3 });
    examples.push({
      email: c.email,
      recommendations: r.recommendations.map((rec) => {
        const top = rec.reasons.find((r) => r.kind === 'bought-with') ?? rec.reasons[0];
        return { title: rec.product.title, why: top?.kind === 'bought-with' ? `because you bought ${top.becauseTitle ?? top.because}` : top?.kind === 'popular-in-category' ? `popular in ${top.category}` : 'popular in the shop' };
      }),
    });
  }
  return {
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
