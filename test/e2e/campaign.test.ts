/**
 * End to end, over real HTTP and the real adapters, on the demo's data (the Groceries shop, 2 000
 * customers): a signed Shopify order webhook reaches the app → the inbox worker updates the model → a
 * campaign goes out through the Mailchimp sandbox, which renders each person's email; every required line is
 * checked in every email, every stated reason is checked against what the person bought, excluded and
 * declared (the reason oracle), and running the campaign again sends nothing new. Before that, the
 * post-purchase flow's holdout comparison the pipeline showed (the one README.md quotes from a demo run) is
 * recomputed here from the stored steps and orders, without the report's code.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTactful, formatMoney, openStore, type Store, type Tactful } from '@tactful/core';
import { createApp } from '../../packages/app/src/server/app.js';
import { readServeConfig } from '../../packages/app/src/server/config.js';
import { startServer, type RunningServer } from '../../packages/app/src/server/start.js';
import { runDemoPipeline, startSandboxes, type DemoReport } from '../../packages/app/src/demo/pipeline.js';
import { reportLines } from '../../packages/app/src/commands/flows.js';
import { assertReasonTextTrue, reasonTruth } from '../support/reasons.js';
import { rawStore } from '@tactful/core/testing';
import { worldStore } from '../support/world-store.js';

const world = worldStore('e2e-campaign');
const SHOP = world.shop;
const SENDER = {
  name: 'Groceries & Co',
  email: 'hello@groceries.example',
  postalAddress: '1 Sandbox Street, Atlanta, GA 30308, US',
};
const ADMIN = 'e2e-admin-token-0123456789';

let store: Store;
let tactful: Tactful;
let sandboxes: ReturnType<typeof startSandboxes>;
let server: RunningServer;
let demo: DemoReport;

beforeAll(async () => {
  store = await openStore({ url: world.url, secret: world.secret });
  tactful = await createTactful({ store, shop: SHOP });
  sandboxes = startSandboxes(SHOP, { customers: 2000 });
  demo = await runDemoPipeline(tactful, sandboxes, () => undefined, undefined, { campaign: false });
  await tactful.settings.update({ sender: SENDER });
  // The test runs at any hour: no quiet hours, and one email per person per 3 days as by default.
  await tactful.contact.setPolicy({ quietHours: null });
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    SHOPIFY_API_SECRET: sandboxes.shopify.apiSecret,
    TACTFUL_SHOP: SHOP,
  });
  server = await startServer(createApp({ tactful, config, logger: pino({ level: 'silent' }) }), {
    host: '127.0.0.1',
    port: 0,
  });
}, 300_000);

afterAll(async () => {
  await server?.close();
  sandboxes?.close();
  await store?.close();
});

async function ownedProducts(email: string): Promise<Set<string>> {
  const subjectId = await tactful.audit.subjectIdOf(email);
  const rows = await rawStore(store).query<{ product_id: string }>(
    'select l.product_id from orders o join order_lines l on l.shop_id = o.shop_id and l.order_id = o.order_id where o.shop_id = $1 and o.subject_id = $2 and o.counted',
    [SHOP, subjectId],
  );
  return new Set(rows.map((r) => r.product_id));
}

function decode(html: string): string {
  return html
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** Mean, and the sample variance (n - 1), of a list of numbers. */
function moments(values: number[]): { mean: number; variance: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length < 2 ? 0 : values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, variance };
}

describe("the flow's holdout comparison, recomputed", () => {
  it('from the stored steps and orders, it is what the demo pipeline showed', async () => {
    const shown = demo.flow!.report.comparison;
    const days = 30;
    const steps = await rawStore(store).query<{ subject_id: string; status: string; decided_at: Date }>(
      "select subject_id, status, decided_at from flow_steps where shop_id = $1 and flow_id = 'post-purchase' and status in ('sent', 'held_out')",
      [SHOP],
    );
    const orders = await rawStore(store).query<{ subject_id: string; created_at: Date; total_price: string | null }>(
      'select subject_id, created_at, total_price from orders where shop_id = $1 and counted and subject_id is not null',
      [SHOP],
    );
    const ordersOf = new Map<string, typeof orders>();
    for (const o of orders) ordersOf.set(o.subject_id, [...(ordersOf.get(o.subject_id) ?? []), o]);
    // Each step: the person's counted orders in the 30 days after it was sent or held out, and their totals.
    const outcome = (group: string) =>
      steps
        .filter((s) => s.status === group)
        .map((s) => {
          const from = s.decided_at.getTime();
          const mine = (ordersOf.get(s.subject_id) ?? []).filter(
            (o) => o.created_at.getTime() > from && o.created_at.getTime() <= from + days * 86_400_000,
          );
          return { orders: mine.length, revenue: mine.reduce((sum, o) => sum + Number(o.total_price ?? 0), 0) };
        });
    const recipients = outcome('sent');
    const holdout = outcome('held_out');
    // A comparison worth showing: both groups have people.
    expect(recipients.length).toBeGreaterThan(5);
    expect(holdout.length).toBeGreaterThan(0);
    const group = (list: typeof recipients) => ({
      people: list.length,
      orders: list.reduce((n, x) => n + x.orders, 0),
      buyers: list.filter((x) => x.orders > 0).length,
      revenue: list.reduce((n, x) => n + x.revenue, 0),
    });
    for (const [mine, theirs] of [
      [group(recipients), shown.recipients],
      [group(holdout), shown.holdout],
    ] as const) {
      expect({ people: theirs.people, orders: theirs.orders, buyers: theirs.buyers }).toEqual({
        people: mine.people,
        orders: mine.orders,
        buyers: mine.buyers,
      });
      expect(theirs.revenue).toBeCloseTo(mine.revenue, 6);
      expect(theirs.conversion).toBeCloseTo(mine.buyers / mine.people, 10);
      expect(theirs.revenuePerPerson).toBeCloseTo(mine.revenue / mine.people, 6);
    }
    // Difference of means ± 1.96 × Welch's standard error, for revenue per person and for conversion (0/1).
    const welch = (a: number[], b: number[]) => {
      const [x, y] = [moments(a), moments(b)];
      const se = Math.sqrt(x.variance / a.length + y.variance / b.length);
      return { estimate: x.mean - y.mean, low: x.mean - y.mean - 1.96 * se, high: x.mean - y.mean + 1.96 * se };
    };
    const revenue = welch(
      recipients.map((x) => x.revenue),
      holdout.map((x) => x.revenue),
    );
    const conversion = welch(
      recipients.map((x) => (x.orders > 0 ? 1 : 0)),
      holdout.map((x) => (x.orders > 0 ? 1 : 0)),
    );
    for (const [mine, theirs, scale] of [
      [revenue, shown.revenuePerPersonLift, 1],
      [conversion, shown.conversionLift, 1],
      [revenue, shown.incrementalRevenue, recipients.length],
    ] as const) {
      expect(theirs!.estimate).toBeCloseTo(mine.estimate * scale, 6);
      expect(theirs!.low).toBeCloseTo(mine.low * scale, 6);
      expect(theirs!.high).toBeCloseTo(mine.high * scale, 6);
    }
    // The lines the demo prints say the same; `tactful flows report` reads the same stored rows.
    const { currency } = await tactful.settings.get();
    const printed = reportLines(demo.flow!.report, currency).join('\n');
    expect(printed).toMatch(
      new RegExp(`people \\(orders of the flow\\)\\s+${recipients.length}\\s+${holdout.length}\\n`),
    );
    expect(printed).toContain(
      `revenue per person lift: ${formatMoney(revenue.estimate, currency)} (95 % CI ${formatMoney(revenue.low, currency)} to ${formatMoney(revenue.high, currency)})`,
    );
    expect((await tactful.flows.report('post-purchase')).comparison).toEqual(shown);
  });
});

describe('order webhook → model → campaign → each email, exactly once', () => {
  it('runs the whole way and a second run sends nothing new', async () => {
    // Someone eligible now, by the pipeline's own dry run.
    const dry = await tactful.campaign.run({ name: 'e2e-spring', dryRun: true, publicUrl: server.url, previews: 1000 });
    expect(dry.eligible).toBeGreaterThan(10);
    const buyer = dry.previews[0]!.email;
    const before = await tactful.recommend.forCustomer(buyer, { k: 3 });

    // 1. She buys a product she never bought; Shopify sends the signed orders/create webhook to the app.
    const owned = await ownedProducts(buyer);
    const product = [...sandboxes.shopify.state.products.byId.values()].find(
      (p) => !owned.has(p.id) && p.status === 'ACTIVE',
    )!;
    const customer = [...sandboxes.shopify.state.customers.byId.values()].find((c) => c.email === buyer)!;
    const order = sandboxes.shopify.addOrder({
      email: buyer,
      customerId: customer.id,
      lines: [{ productId: product.id, title: product.title, quantity: 1, price: '3.50' }],
    });
    const countBefore = (await tactful.recommend.model()).productCount(product.id);
    const delivery = await sandboxes.shopify.deliverWebhook(
      'orders/create',
      sandboxes.shopify.webhookBody('orders/create', order.id),
      `${server.url}/shopify/webhooks`,
    );
    expect(delivery.status).toBe(200);
    // 2. The inbox worker applies it: the model counts the new basket, her history holds the new product.
    expect((await tactful.processInbox()).processed).toBeGreaterThanOrEqual(1);
    expect((await tactful.recommend.model()).productCount(product.id)).toBe(countBefore + 1);
    expect((await ownedProducts(buyer)).has(product.id)).toBe(true);
    const after = await tactful.recommend.forCustomer(buyer, { k: 3 });
    expect(after.purchases).toBe(before.purchases + 1);

    // Some people say "not this": a purchase that explained their email, or a whole category; and the shop
    // marks a category sensitive. None of it may be a basis or a stated reason afterwards.
    const shaped: string[] = [];
    for (const [i, preview] of dry.previews.slice(1, 41).entries()) {
      const rec = await tactful.recommend.forCustomer(preview.email, { k: 3 });
      const basis = rec.recommendations.flatMap((r) =>
        r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x] : [])),
      )[0];
      if (!basis) continue;
      if (i % 2 === 0) await tactful.preferences.exclude(preview.email, { productId: basis.because });
      else {
        const category = (await tactful.preferences.show(preview.email)).purchases.find(
          (p) => p.productId === basis.because,
        )?.category;
        if (category) await tactful.preferences.exclude(preview.email, { category });
      }
      shaped.push(preview.email);
    }
    expect(shaped.length).toBeGreaterThan(30);
    await tactful.settings.update({ sensitiveCategories: ['beer', 'liquor', 'baby cosmetics'] });

    // 3. The campaign goes out through Mailchimp.
    const run = await tactful.campaign.run(
      { name: 'e2e-spring', dryRun: false, publicUrl: server.url },
      { provider: sandboxes.provider },
    );
    expect(run.failed).toEqual([]);
    expect(run.sent).toBeGreaterThan(dry.eligible - 20);
    const mc = sandboxes.mailchimp.state;
    const sentCampaigns = [...mc.campaigns.values()].filter((c) => c.status === 'sent');
    expect(sentCampaigns).toHaveLength(1);
    const campaign = sentCampaigns[0]!;
    const audience = [...mc.audiences.values()][0]!;
    const recipients = campaign.sentTo.map((hash) => audience.members.get(hash)!.email_address);
    expect(recipients).toHaveLength(run.sent);
    expect(recipients).toContain(buyer);

    // 4. Every email has every required line, for that person, and only products they do not own.
    for (const email of recipients) {
      const html = sandboxes.mailchimp.render(campaign.id, email);
      expect(html, email).not.toBeNull();
      const text = decode(html!);
      const consent = await tactful.consent.show(email);
      const marketing = consent.purposes.find((p) => p.purpose === 'email_marketing')!;
      expect(marketing).toMatchObject({ state: 'granted', level: 'confirmed' });
      expect(consent.purposes.find((p) => p.purpose === 'personalization')!.state).toBe('granted');
      const agreedOn = marketing.since!.toLocaleDateString('en-GB', {
        year: 'numeric',
        month: 'long',
        day: 'numeric',
        timeZone: 'UTC',
      });
      expect(text, email).toContain(
        `You receive this because you agreed to email offers on ${agreedOn} (clause "${marketing.clause}", version ${marketing.version}).`,
      );
      expect(text).toMatch(/Because you bought [^<]+\./);
      expect(text).toContain(`${server.url}/preferences?token=`);
      expect(text).toContain('https://us21.list-manage.com/unsubscribe?u=sandbox');
      expect(text).toContain(SENDER.name);
      expect(text).toContain(SENDER.postalAddress);
      expect(text).not.toMatch(/\*\|/);
      const linked = [...text.matchAll(/href="([^"]+utm_source=tactful[^"]*)"/g)].map((m) => new URL(m[1]!));
      expect(linked.length, email).toBeGreaterThan(0);
      // The reason oracle: every "because you bought X" names an allowed purchase of theirs, nothing blocked is shown.
      const truth = await reasonTruth(tactful, email);
      await assertReasonTextTrue(tactful, email, text.replace(/<[^>]+>/g, ' '), truth);
      const mine = await ownedProducts(email);
      for (const url of linked) {
        expect(url.searchParams.get('utm_campaign')).toBe('e2e-spring');
        expect(
          mine.has(url.searchParams.get('utm_content')!),
          `${email} is offered ${url.searchParams.get('utm_content')} which they own`,
        ).toBe(false);
        expect(
          truth.blockedProducts.has(url.searchParams.get('utm_content')!),
          `${email} is offered a product they excluded`,
        ).toBe(false);
      }
    }

    // 5. The preference link in an email opens that person's preference centre.
    const link = decode(sandboxes.mailchimp.render(campaign.id, buyer)!).match(
      /href="([^"]*\/preferences\?token=[^"]+)"/,
    )![1]!;
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(buyer);

    // 6. Again: nobody gets it twice, no new Mailchimp campaign, no new send.
    const again = await tactful.campaign.run(
      { name: 'e2e-spring', dryRun: false, publicUrl: server.url },
      { provider: sandboxes.provider },
    );
    expect(again).toMatchObject({ sent: 0, alreadySent: recipients.length });
    expect([...mc.campaigns.values()].filter((c) => c.status === 'sent')).toHaveLength(1);
    expect(campaign.sentTo).toHaveLength(recipients.length);

    // 7. The report flows back: opens, clicks and an unsubscribe made in Mailchimp reach the stats.
    sandboxes.mailchimp.actions.open(campaign.id, recipients[0]!);
    sandboxes.mailchimp.actions.open(campaign.id, recipients[1]!);
    sandboxes.mailchimp.actions.click(campaign.id, recipients[1]!);
    expect(await tactful.campaign.refreshReports(sandboxes.provider)).toEqual({ refreshed: 1 });
    const [stats] = await tactful.campaign.stats();
    expect(stats).toMatchObject({ name: 'e2e-spring', sends: recipients.length, opens: 2, clicks: 1 });
    // ... and the dashboard charts them.
    const dashboard = await (
      await fetch(`${server.url}/admin`, { headers: { authorization: `Bearer ${ADMIN}` } })
    ).text();
    const charts = JSON.parse(
      dashboard.match(/<script type="application\/json" id="chart-data">([\s\S]*?)<\/script>/)![1]!,
    );
    expect(charts.campaigns.labels).toEqual(['e2e-spring']);
    expect(charts.campaigns.datasets.map((d: { data: number[] }) => d.data[0])).toEqual([recipients.length, 2, 1, 0]);
  });
});
