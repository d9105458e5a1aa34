/**
 * Campaign benchmark: the Groceries shop of the demo (9 835 real baskets among 2 000 customers, every one
 * with both consents confirmed), then
 *   - baseline: `recommend.forCustomer` for every customer, one after the other (the work a campaign cannot
 *     avoid: one personal recommendation per person);
 *   - the campaign's dry run over everyone (consent, contact policy, recommendations, content, links);
 *   - the real send through an in-process provider that only records (claims, waves, the send records, the
 *     audit entry), and a re-run that must send nothing.
 * Ratios are against the baseline of the same run. PGlite, and PostgreSQL when DATABASE_URL is set.
 *
 * Run alone: `npm run bench -- campaign`.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createTactful, openStore, readBaskets, readItemCatalog, type OrderRecord } from '@tactful/core';
import { createMemoryEmailProvider } from '../packages/core/src/testing/memory-provider.js';
import { groceriesPath } from '../test/support/groceries.js';

const data = groceriesPath();
const CUSTOMERS = Number(process.env.BENCH_CAMPAIGN_CUSTOMERS ?? 2000);

export interface CampaignBenchResult {
  target: string;
  people: number;
  eligible: number;
  baselineMsPerPerson: number;
  dryRunMsPerPerson: number;
  sendMsPerPerson: number;
  rerunMs: number;
  dryRunVsBaseline: number;
  sendVsBaseline: number;
}

async function benchOn(target: string, url: string): Promise<CampaignBenchResult> {
  const store = await openStore({
    url,
    secret: url.startsWith('postgres') ? (process.env.TACTFUL_SECRET ?? randomBytes(32).toString('hex')) : undefined,
  });
  try {
    const t0 = Date.UTC(2026, 0, 1);
    const tactful = await createTactful({
      store,
      shop: `bench-campaign-${Date.now()}.myshopify.com`,
      now: () => new Date(t0 + 40 * 86_400_000 + 12 * 3_600_000),
    });
    const email = (i: number) => `customer${i}@example.com`;
    await tactful.settings.update({
      sender: { name: 'Bench Grocer', email: 'hello@bench.example', postalAddress: '1 Bench Street, Benchville' },
    });
    const catalogue = await readItemCatalog(`${data}/groceries_items.csv`);
    await tactful.products.upsert(
      catalogue.map((p) => ({ id: p.id, title: p.title, category: p.category, available: true })),
    );
    const grants = [];
    for (let c = 0; c < CUSTOMERS; c++) {
      for (const purpose of ['email_marketing', 'personalization']) {
        grants.push({
          subject: { email: email(c) },
          purpose,
          state: 'granted',
          level: 'confirmed',
          occurredAt: new Date(t0),
          source: { system: 'bench', eventId: `${purpose}-${c}`, method: 'form' },
        });
      }
    }
    for (let i = 0; i < grants.length; i += 1000) await tactful.consent.recordBatch(grants.slice(i, i + 1000));
    const orders: OrderRecord[] = [];
    let i = 0;
    for await (const basket of (await readBaskets(`${data}/groceries.csv`)).baskets) {
      const at = new Date(t0 + Math.floor((i * 30 * 86_400_000) / 9835));
      orders.push({
        id: `o${i}`,
        email: email(i % CUSTOMERS),
        createdAt: at,
        updatedAt: at,
        lines: basket.productIds.map((productId) => ({ productId, title: productId, quantity: 1 })),
      });
      i += 1;
    }
    for (let start = 0; start < orders.length; start += 2000)
      await tactful.orders.ingest(orders.slice(start, start + 2000), 'bench');

    let started = performance.now();
    for (let c = 0; c < CUSTOMERS; c++) await tactful.recommend.forCustomer(email(c), { k: 10 });
    const baseline = (performance.now() - started) / CUSTOMERS;

    const publicUrl = 'https://tactful.example.com';
    started = performance.now();
    const dry = await tactful.campaign.run({ name: 'bench', dryRun: true, publicUrl, previews: 0 });
    const dryRun = (performance.now() - started) / CUSTOMERS;

    const memory = createMemoryEmailProvider('bench');
    const provider = memory.provider;
    started = performance.now();
    const sent = await tactful.campaign.run({ name: 'bench', dryRun: false, publicUrl }, { provider });
    const send = (performance.now() - started) / CUSTOMERS;
    started = performance.now();
    const again = await tactful.campaign.run({ name: 'bench', dryRun: false, publicUrl }, { provider });
    const rerunMs = performance.now() - started;
    if (sent.sent !== dry.eligible || again.sent !== 0 || memory.deliveries.length !== dry.eligible)
      throw new Error(`campaign bench: sent ${sent.sent} of ${dry.eligible} eligible, re-run sent ${again.sent}`);
    return {
      target,
      people: CUSTOMERS,
      eligible: dry.eligible,
      baselineMsPerPerson: baseline,
      dryRunMsPerPerson: dryRun,
      sendMsPerPerson: send,
      rerunMs,
      dryRunVsBaseline: dryRun / baseline,
      sendVsBaseline: send / baseline,
    };
  } finally {
    await store.close();
  }
}

export function printCampaign(r: CampaignBenchResult): void {
  console.log(
    `  ${r.target.padEnd(9)} ${r.people} people, ${r.eligible} eligible | recommend each (baseline) ${r.baselineMsPerPerson.toFixed(2)} ms/person | dry run ${r.dryRunMsPerPerson.toFixed(2)} ms/person (${r.dryRunVsBaseline.toFixed(2)}×) | send ${r.sendMsPerPerson.toFixed(2)} ms/person (${r.sendVsBaseline.toFixed(2)}×) | re-run sending nothing ${r.rerunMs.toFixed(0)} ms`,
  );
}

export async function benchCampaign(postgresUrl?: string): Promise<CampaignBenchResult[]> {
  const out = [await benchOn('pglite', 'memory://')];
  printCampaign(out[0]!);
  if (postgresUrl) {
    out.push(await benchOn('postgres', postgresUrl));
    printCampaign(out[1]!);
  }
  return out;
}
