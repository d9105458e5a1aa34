/**
 * Consent ledger benchmark: ingest throughput (events/s through the whole transaction — validation, ledger,
 * hash chain, fold, projection, audit, outbox) and fold latency, on PGlite and PostgreSQL in one run.
 */
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { createTactful, foldConsent, openStore, type FoldableEvent } from '@tactful/core';
import { seededRandom } from '@tactful/core/testing/runtime';
import { rawStore } from '@tactful/core/testing/runtime';
import { timeIngestPhases } from '../packages/core/src/consent/phases.js';
import { percentile } from './percentile.js';

export interface ConsentBenchResult {
  target: string;
  events: number;
  ingestSeconds: number;
  eventsPerSecond: number;
  pureFold100kMs: number;
  rebuildFromLedgerMs: number;
  showP50Ms: number;
  showP99Ms: number;
  verifyMs: number;
  /** Milliseconds per phase of a batch, summed over the ingest. */
  phases: Record<string, number>;
  /** The baseline of the same run: one event per recordBatch call. */
  oneByOneEventsPerSecond: number;
  aimEventsPerSecond: number;
}

/** The aims of issue #21: events/s through recordBatch, batches of 500. */
const aims: Record<string, number> = { pglite: 2000, postgres: 5000 };

const states = ['granted', 'withdrawn', 'pending'] as const;
const methods = ['form', 'checkout', 'sync', 'import', 'double_opt_in_confirmation'] as const;

function eventInput(random: () => number, i: number, subjects: number, start: number, prefix = 'ev') {
  return {
    subject: { email: `c${Math.floor(random() * subjects)}@example.com` },
    purpose: random() < 0.6 ? 'email_marketing' : 'personalization',
    state: states[Math.floor(random() * states.length)]!,
    level: 'single',
    occurredAt: new Date(start + Math.floor(random() * 150 * 86400_000)),
    source: {
      system: random() < 0.5 ? 'shopify' : 'mailchimp',
      eventId: `${prefix}-${i}`,
      method: methods[Math.floor(random() * methods.length)]!,
    },
    evidence: { ip: '203.0.113.9', policyVersion: '1' },
  };
}

/** 5 412 — a space between thousands, as the README writes numbers. */
const grouped = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');

export async function benchConsent(
  target: { name: string; url: string },
  events: number,
  subjects: number,
  batch = 500,
): Promise<ConsentBenchResult> {
  const secret = randomBytes(32).toString('hex');
  const store = await openStore({ url: target.url, secret });
  try {
    const shop = `bench-${randomBytes(4).toString('hex')}.myshopify.com`;
    const start = new Date('2026-01-01T00:00:00Z').getTime();
    const tactful = await createTactful({ store, shop, now: () => new Date('2026-06-01T00:00:00Z') });
    await tactful.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    const random = seededRandom(42);
    const phases = new Map<string, number>();
    timeIngestPhases(phases);
    const t0 = performance.now();
    try {
      for (let offset = 0; offset < events; offset += batch) {
        const inputs = [];
        for (let i = offset; i < Math.min(events, offset + batch); i++)
          inputs.push(eventInput(random, i, subjects, start));
        await tactful.consent.recordBatch(inputs);
      }
    } finally {
      timeIngestPhases(null);
    }
    const ingestSeconds = (performance.now() - t0) / 1000;

    // The baseline of the same run: events recorded one per call (one transaction each), on a shop of its own
    // whose customers already have the same number of events each as the batched shop's.
    const single = await createTactful({
      store,
      shop: `one-${randomBytes(4).toString('hex')}.myshopify.com`,
      now: () => new Date('2026-06-01T00:00:00Z'),
    });
    await single.settings.update({ connectedSystems: ['shopify', 'mailchimp'] });
    const oneByOne = Math.min(500, events);
    const singleRandom = seededRandom(7);
    const s0 = performance.now();
    for (let i = 0; i < oneByOne; i++)
      await single.consent.recordBatch([eventInput(singleRandom, i, oneByOne / 10, start, 'one')]);
    const oneByOneEventsPerSecond = oneByOne / ((performance.now() - s0) / 1000);

    // Pure fold of 100k events of one subject and purpose (worst case: one long history).
    const synthetic: FoldableEvent[] = [];
    for (let i = 0; i < 100_000; i++) {
      synthetic.push({
        id: `s${i}`,
        state: states[Math.floor(random() * 3)]!,
        level: 'single',
        occurredAt: new Date(start + Math.floor(random() * 1e10)),
        echo: random() < 0.05,
        source: { system: 'x', eventId: `s${i}`, method: methods[Math.floor(random() * methods.length)]! },
      });
    }
    let f0 = performance.now();
    foldConsent(synthetic);
    const pureFold100kMs = performance.now() - f0;

    // Rebuild every subject's state from the ledger, as a projection rebuild would.
    f0 = performance.now();
    const rows = await rawStore(store).query<{
      subject_id: string;
      purpose: string;
      event_id: string;
      state: string;
      level: string;
      occurred_at: Date;
      echo: boolean;
      source_system: string;
      source_event_id: string;
      method: string;
    }>(
      'select subject_id, purpose, event_id, state, level, occurred_at, echo, source_system, source_event_id, method from consent_ledger where shop_id = $1',
      [tactful.shopId],
    );
    const groups = new Map<string, FoldableEvent[]>();
    for (const r of rows) {
      const key = `${r.subject_id}/${r.purpose}`;
      const list = groups.get(key) ?? [];
      list.push({
        id: r.event_id,
        state: r.state as never,
        level: r.level as never,
        occurredAt: new Date(r.occurred_at),
        echo: r.echo,
        source: { system: r.source_system, eventId: r.source_event_id, method: r.method as never },
      });
      groups.set(key, list);
    }
    for (const list of groups.values()) foldConsent(list);
    const rebuildFromLedgerMs = performance.now() - f0;

    const latencies: number[] = [];
    for (let i = 0; i < 300; i++) {
      const s0 = performance.now();
      await tactful.consent.show(`c${Math.floor(random() * subjects)}@example.com`).catch(() => undefined);
      latencies.push(performance.now() - s0);
    }
    latencies.sort((a, b) => a - b);
    const v0 = performance.now();
    const verified = await tactful.audit.verify();
    const verifyMs = performance.now() - v0;
    if (!verified.ledger.ok || !verified.audit.ok) throw new Error('chain did not verify after the benchmark');
    const eventsPerSecond = events / ingestSeconds;
    const aimEventsPerSecond = aims[target.name] ?? 0;
    const total = [...phases.values()].reduce((a, b) => a + b, 0);
    console.log(`  ${target.name}: where a batch's time goes (${events / batch} batches of ${batch}, per batch):`);
    for (const [name, ms] of [...phases].sort((a, b) => b[1] - a[1]))
      console.log(
        `    ${name.padEnd(56)} ${((ms / events) * batch).toFixed(1).padStart(7)} ms ${((ms / total) * 100).toFixed(0).padStart(3)} %`,
      );
    console.log(
      `  ${target.name}: aim ≥ ${grouped(aimEventsPerSecond)}/s: ${grouped(eventsPerSecond)}/s (${(eventsPerSecond / aimEventsPerSecond).toFixed(1)}×) ${eventsPerSecond >= aimEventsPerSecond ? 'met' : 'NOT met'} | baseline of this run, one event per recordBatch call (${oneByOne} events): ${grouped(oneByOneEventsPerSecond)}/s (batches ${(eventsPerSecond / oneByOneEventsPerSecond).toFixed(1)}× faster)`,
    );
    return {
      target: target.name,
      events,
      ingestSeconds,
      eventsPerSecond,
      phases: Object.fromEntries(phases),
      oneByOneEventsPerSecond,
      aimEventsPerSecond,
      pureFold100kMs,
      rebuildFromLedgerMs,
      showP50Ms: percentile(latencies, 50),
      showP99Ms: percentile(latencies, 99),
      verifyMs,
    };
  } finally {
    await store.close();
  }
}
