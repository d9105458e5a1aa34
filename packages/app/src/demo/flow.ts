/**
 * The demo's post-purchase flow: turned on, then a simulated clock runs through a few weeks of new orders in the
 * Shopify sandbox; the flow's runner (the same one `tactful serve` runs) sends what is due through Mailchimp, a
 * seeded share is held out, and the simulated buyers respond by a stated rule. The report at the end compares
 * recipients with the holdout, from the stored steps and orders only.
 */
import { createTactful, seededRandom, type FlowReport, type OrderRecord, type Tactful } from '@tactful/core';
import type { DemoSandboxes } from './pipeline.js';

/** How the simulated buyers behave: printed with the result, so the comparison can be judged. */
export const BUYER_RULE =
  'every customer who placed an order reorders something of the shop with probability 10 % within 30 days, email or not; ' +
  'a customer who got the flow email also buys the first product it recommends with probability 25 %, 1 to 5 days after it';

export interface DemoFlowResult {
  report: FlowReport;
  delivery: string;
  orders: number;
  days: number;
  rule: string;
}

const DAY = 86_400_000;

/** The sandbox's journey model, when the Mailchimp sandbox offers one (see docs/flows.md). */
interface SandboxJourneys {
  create(name: string): { journeyId: number; stepId: number };
}

/** A journey when both the sandbox and the provider run them, else daily campaign waves. */
async function chooseDelivery(engine: Tactful, sandboxes: DemoSandboxes): Promise<string> {
  const journeys = (sandboxes.mailchimp as unknown as { journeys?: SandboxJourneys }).journeys;
  const provider = sandboxes.provider as { capabilities: { journeys?: boolean }; triggerJourney?: unknown };
  if (journeys && typeof journeys.create === 'function' && provider.capabilities.journeys && provider.triggerJourney) {
    const { journeyId, stepId } = journeys.create('Post-purchase: goes well with your order');
    await engine.flows.set('post-purchase', { journeyId: String(journeyId), stepId: String(stepId) });
    return `Mailchimp Customer Journey ${journeyId}, step ${stepId}`;
  }
  return 'daily campaign waves through Mailchimp (the sandbox offers no journeys here)';
}

/** Who Mailchimp mailed since `seen` (journey triggers and campaign recipients), as addresses. */
function mailedSince(sandboxes: DemoSandboxes, seen: Set<string>): string[] {
  const out: string[] = [];
  for (const t of sandboxes.mailchimp.state.journeyTriggers) {
    const key = `j:${t.journeyId}:${t.stepId}:${t.email}`;
    if (!seen.has(key)) seen.add(key), out.push(t.email);
  }
  for (const c of sandboxes.mailchimp.state.campaigns.values()) {
    if (c.status !== 'sent' || seen.has(`c:${c.id}`)) continue;
    seen.add(`c:${c.id}`);
    const audience = [...sandboxes.mailchimp.state.audiences.values()][0];
    for (const hash of c.sentTo) {
      const email = audience?.members.get(hash)?.email_address;
      if (email) out.push(email);
    }
  }
  return out;
}

export async function runDemoFlow(
  tactful: Tactful,
  sandboxes: DemoSandboxes,
  options: {
    publicUrl: string;
    say: (line: string) => void;
    exclude?: ReadonlySet<string>;
    /** Called at the end of each simulated day (the pipeline checks its heap there, see heap-watch.ts). */
    everyDay?: () => void;
  },
): Promise<DemoFlowResult> {
  // The flow's own engine runs on a simulated clock over the same store: weeks pass in seconds.
  let now = new Date(Math.ceil(Date.now() / DAY) * DAY + 10 * 3_600_000);
  const engine = await createTactful({ store: tactful.store, shop: tactful.shopId, now: () => now });
  await engine.flows.set(
    'post-purchase',
    { enabled: true, delayDays: 5, holdoutShare: 0.2 },
    { type: 'system', id: 'demo' },
  );
  const delivery = await chooseDelivery(engine, sandboxes);
  const random = seededRandom(19);
  const shopify = sandboxes.shopify;
  const customers = [...shopify.state.customers.byId.values()].filter(
    (c) => c.email && !options.exclude?.has(c.email.toLowerCase()),
  );
  const products = [...shopify.state.products.byId.values()];
  const pending: Array<{ at: Date; customerId: string; email: string; productId: string }> = [];
  const seen = new Set<string>();
  const runDays = 21;
  const days = runDays + 30;
  let orders = 0;
  let synced = new Date(now.getTime() - 1000);
  for (let day = 0; day < days; day++) {
    now = new Date(now.getTime() + DAY);
    // New orders for the first three weeks: about 2 % of customers a day, each of one to three products.
    if (day < runDays)
      for (const c of customers) {
        if (random() >= 0.02) continue;
        const lines = Array.from(
          { length: 1 + Math.floor(random() * 3) },
          () => products[Math.floor(random() * products.length)]!,
        );
        shopify.addOrder({
          email: c.email,
          customerId: c.id,
          createdAt: now,
          lines: lines.map((p) => ({ productId: p.id, title: p.title, quantity: 1 })),
        });
        orders += 1;
        if (random() < 0.1) {
          const p = products[Math.floor(random() * products.length)]!;
          pending.push({
            at: new Date(now.getTime() + Math.floor(random() * 30) * DAY),
            customerId: c.id,
            email: c.email!,
            productId: p.id,
          });
        }
      }
    // The responses that fall due today come back from Shopify like any order.
    for (const r of pending.filter((x) => x.at.getTime() <= now.getTime())) {
      pending.splice(pending.indexOf(r), 1);
      const p = shopify.state.products.byId.get(r.productId);
      shopify.addOrder({
        email: r.email,
        customerId: r.customerId,
        createdAt: now,
        lines: [{ productId: r.productId, title: p?.title ?? r.productId, quantity: 1 }],
      });
      orders += 1;
    }
    const fresh: OrderRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await sandboxes.platform.listOrders({ cursor, updatedSince: synced });
      for (const order of page.items) fresh.push(order);
      cursor = page.nextCursor;
    } while (cursor);
    synced = now;
    if (fresh.length > 0) await engine.orders.ingest(fresh, sandboxes.platform.system);
    // The runner, as the app's worker runs it, at 10:00 UTC.
    await engine.flows.runDue({
      provider: sandboxes.provider,
      publicUrl: options.publicUrl,
      actor: { type: 'system', id: 'demo' },
    });
    for (const email of mailedSince(sandboxes, seen)) {
      if (random() >= 0.25) continue;
      const customer = customers.find((c) => c.email === email);
      const first = await engine.recommend.forCustomer(email, { k: 1 }).catch(() => null);
      const productId = first?.recommendations[0]?.productId;
      if (customer && productId)
        pending.push({
          at: new Date(now.getTime() + (1 + Math.floor(random() * 5)) * DAY),
          customerId: customer.id,
          email,
          productId,
        });
    }
    options.everyDay?.();
  }
  await engine.campaign.refreshReports(sandboxes.provider).catch(() => undefined);
  const report = await engine.flows.report('post-purchase');
  options.say(
    `  post-purchase flow over ${days} simulated days: ${orders} new orders, ${report.comparison.recipients.people} emails sent, ${report.comparison.holdout.people} held out (${delivery})`,
  );
  return { report, delivery, orders, days, rule: BUYER_RULE };
}
