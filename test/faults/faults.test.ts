/**
 * The fault suite: the app runs as a child process against the Shopify and Mailchimp sandboxes (hosted here,
 * on loopback HTTP, injecting seeded faults), with a store that survives SIGKILL. It is killed at seeded
 * points — mid bulk import, mid outbox delivery, mid campaign send — restarted, and must converge: after
 * each scenario the oracle compares all three sides and lists every violation. The table printed at the end
 * says what ran; a failing seed is replayed with FAULT_SEED=<seed>.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@tactful/core/testing/runtime';
import { startWorker, type Child } from './child.js';
import { runOracle, type OracleReport } from './oracle.js';
import { makeChanges, settle } from './scenario.js';
import { printFaultTable, type FaultRow } from './table.js';
import { createWorld, type SeenRequest, type World } from './world.js';

const SEED = Number(process.env.FAULT_SEED ?? 20251129);
const RATE = Number(process.env.FAULT_RATE ?? 0.15);

/**
 * The bulk-import scenario always runs on a PGlite folder (the embedded store must survive SIGKILL too); the
 * others run on PostgreSQL when DATABASE_URL is set (CI), each under a shop of its own.
 */
const serverStore = () =>
  process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL, shopSuffix: randomBytes(4).toString('hex') } : {};

const table: FaultRow[] = [];
const suiteStarted = Date.now();

const order = ['kill mid bulk import', 'kill mid outbox delivery', 'kill mid campaign send'];
afterAll(() =>
  printFaultTable(
    `Fault suite (seed ${SEED}, rate ${RATE}; replay with FAULT_SEED=${SEED})`,
    table.sort(
      (a, b) => order.findIndex((o) => a.scenario.startsWith(o)) - order.findIndex((o) => b.scenario.startsWith(o)),
    ),
    (Date.now() - suiteStarted) / 1000,
  ),
);

function record(name: string, world: World, kills: number, report: OracleReport, started: number) {
  const scenario = `${name} (${/^postgres/.test(world.db) ? 'PostgreSQL' : 'PGlite'})`;
  table.push({
    scenario,
    kills,
    faults: world.faultsInjected(),
    delivered: report.delivered,
    campaignSends: report.campaignSends,
    violations: report.violations.length,
    seconds: (Date.now() - started) / 1000,
  });
  if (report.violations.length > 0)
    process.stderr.write(
      `\n${scenario} (seed ${world.seed}) violations:\n  ${report.violations.slice(0, 30).join('\n  ')}\n`,
    );
  process.stdout.write(
    `${scenario}: faults ${JSON.stringify(world.faultCounts())}; flow emails ${report.flowEmails}, flow steps ${JSON.stringify(report.flowSteps)}; foreign-shop rows ${JSON.stringify(report.foreignShopRows)}\n`,
  );
}

/** Runs one life of the app that ends in SIGKILL when `arm`'s trigger fires — or, if that moment never comes, once the app is idle (or `maxMs` passed). */
async function lifeKilledWhen(
  world: World,
  instance: string,
  arm: (kill: () => void, child: Child) => void,
  maxMs: number,
): Promise<boolean> {
  const child = startWorker(world.workerConfig(instance, extraConfig.get(world) ?? {}));
  let fired = false;
  arm(() => {
    if (!fired && !child.exited) {
      fired = true;
      child.process.kill('SIGKILL');
    }
  }, child);
  // The life ends with the kill, or — when the moment never came — once the app has nothing left to do.
  await child
    .waitFor((e) => e.ev === 'idle' && e.importDone === true, { timeoutMs: maxMs, what: 'the kill' })
    .catch(() => undefined);
  await child.kill();
  world.onMailchimpRequest = null;
  world.onShopifyRequest = null;
  return fired;
}

const extraConfig = new WeakMap<World, Parameters<World['workerConfig']>[1]>();

/** The last life: runs to convergence, optionally takes a round of changes, then stops for the oracle. */
async function lastLife(world: World, instance: string, changes: boolean): Promise<void> {
  const child = startWorker(world.workerConfig(instance, extraConfig.get(world) ?? {}));
  try {
    await world.redeliver(await child.url);
    await settle(world, child, 'the app to converge', 120_000);
    if (changes) {
      await makeChanges(world, await child.url);
      await settle(world, child, 'the changes to converge', 120_000);
    }
  } finally {
    await child.kill('SIGTERM');
    world.pauseFaults();
  }
}

/** A batch subscribe/update Mailchimp applied (its answer is on its way back). */
const isBatch = (r: SeenRequest) =>
  r.method === 'POST' && r.status === 200 && /\/lists\/[^/]+$/.test(r.path) && r.body.includes('"status"');
/** A campaign Mailchimp sent. */
const isCampaignSend = (r: SeenRequest) =>
  r.method === 'POST' && r.status < 300 && /\/campaigns\/[^/]+\/actions\/send$/.test(r.path);
/** A Customer Journey step Mailchimp triggered (a flow email went out). */
const isJourneyTrigger = (r: SeenRequest) =>
  r.method === 'POST' &&
  r.status < 300 &&
  /\/customer-journeys\/journeys\/[^/]+\/steps\/[^/]+\/actions\/trigger$/.test(r.path);
/** A consent write Shopify applied. */
const isConsentWrite = (r: SeenRequest) => r.status === 200 && r.body.includes('TactfulConsentUpdate');

// With PostgreSQL the scenarios run side by side (each in its own world, with its own app process): most of
// their time is spent waiting on child processes, Retry-After and timeouts. On PGlite alone they run one after
// the other: three embedded databases starting at once on two cores starve each other (~0.8 GB each).
const scenario = process.env.DATABASE_URL ? it.concurrent : it;

describe('fault suite: the app converges after SIGKILL under seeded vendor faults', () => {
  scenario(
    'killed mid bulk import (twice): every order counted once, every consent change everywhere',
    async () => {
      const started = Date.now();
      const world = await createWorld({ seed: SEED, rate: RATE });
      const random = seededRandom(SEED ^ 0x5eed);
      try {
        let kills = 0;
        for (const threshold of [40 + Math.floor(random() * 120), 20 + Math.floor(random() * 60)]) {
          const fired = await lifeKilledWhen(
            world,
            'a',
            (kill, child) =>
              child.onEvent((e) => e.ev === 'import' && e.phase === 'orders' && Number(e.n) >= threshold && kill()),
            180_000,
          );
          if (fired) kills += 1;
        }
        await lastLife(world, 'a', true);
        const report = await runOracle(world);
        record('kill mid bulk import', world, kills, report, started);
        expect(report.violations).toEqual([]);
        expect(kills).toBe(2);
        expect(report.orders).toBeGreaterThan(300);
      } finally {
        await world.close();
      }
    },
    420_000,
  );

  scenario(
    'killed mid outbox delivery (a Mailchimp batch and a Shopify consent write applied, unanswered): delivered after restart, nothing lost',
    async () => {
      const started = Date.now();
      const world = await createWorld({ seed: SEED + 1, rate: RATE, ...serverStore() });
      const random = seededRandom((SEED + 1) ^ 0x5eed);
      try {
        let kills = 0;
        // 1st life: killed right after Mailchimp applied the k-th batch of the first sync.
        const k = 1 + Math.floor(random() * 3);
        let batches = 0;
        if (
          await lifeKilledWhen(
            world,
            'a',
            (kill) => (world.onMailchimpRequest = (r) => isBatch(r) && ++batches === k && kill()),
            180_000,
          )
        )
          kills += 1;
        // 2nd life: converges, takes a round of changes, and is killed right after Shopify applied a consent write
        // or Mailchimp a batch for them, whichever comes first.
        const child = startWorker(world.workerConfig('a'));
        await settle(world, child, 'the first sync', 120_000);
        let fired = false;
        const killOn = (match: (r: SeenRequest) => boolean) => (r: SeenRequest) => {
          if (!fired && match(r)) {
            fired = true;
            child.process.kill('SIGKILL');
          }
        };
        world.onShopifyRequest = killOn(isConsentWrite);
        world.onMailchimpRequest = killOn(isBatch);
        // A round of changes; should every write of it have missed the trigger (seen once under heavy load), a second round.
        for (let round = 0; round < 2 && !fired && !child.exited; round++) {
          const from = child.events.length;
          await makeChanges(world, await child.url).catch(() => undefined);
          await world.mailchimp.flushWebhooks();
          await child
            .waitFor((e) => e.ev === 'idle' && e.importDone === true, { from, timeoutMs: 60_000, what: 'the kill' })
            .catch(() => undefined);
        }
        await child.kill();
        world.onShopifyRequest = null;
        world.onMailchimpRequest = null;
        if (fired) kills += 1;
        // 3rd life: converges.
        await lastLife(world, 'a', false);
        const report = await runOracle(world);
        record('kill mid outbox delivery', world, kills, report, started);
        expect(report.violations).toEqual([]);
        // Two kills are planned; at least one must have hit a delivery in flight (the table shows how many did).
        expect(kills).toBeGreaterThanOrEqual(1);
        expect(report.delivered).toBeGreaterThan(40);
      } finally {
        await world.close();
      }
    },
    420_000,
  );

  scenario(
    'killed mid flow and campaign sends (right after Mailchimp sent a flow email or a wave): nobody gets one twice or without consent',
    async () => {
      const started = Date.now();
      const world = await createWorld({ seed: SEED + 2, rate: RATE, ...serverStore() });
      const random = seededRandom((SEED + 2) ^ 0x5eed);
      try {
        const subscribed = [...world.shopify.state.customers.byId.values()].filter(
          (c) => c.consent.marketingState === 'SUBSCRIBED' && c.email,
        );
        // Most subscribers also agreed to personal recommendations; a few people who did are not subscribed (never mailed).
        const personalization = [
          ...subscribed.filter(() => random() < 0.7).map((c) => c.email!),
          ...[...world.shopify.state.customers.byId.values()]
            .filter((c) => c.consent.marketingState !== 'SUBSCRIBED' && c.email && random() < 0.3)
            .map((c) => c.email!),
        ];
        extraConfig.set(world, { personalization, campaign: { name: 'fault-suite-picks', waveSize: 4 } });
        let kills = 0;
        for (let life = 0; life < 2; life++) {
          const k = 1 + Math.floor(random() * 2);
          let sends = 0;
          // The flow's steps go out before the campaign (see worker.ts): the first life dies right after the first
          // flow email Mailchimp sent, if there is one before the k-th wave; the second after the k-th wave.
          const flowEmail = (r: SeenRequest) => life === 0 && isJourneyTrigger(r);
          if (
            await lifeKilledWhen(
              world,
              'a',
              (kill) =>
                (world.onMailchimpRequest = (r) => (flowEmail(r) || (isCampaignSend(r) && ++sends === k)) && kill()),
              180_000,
            )
          )
            kills += 1;
        }
        await lastLife(world, 'a', false);
        const report = await runOracle(world, { campaigns: true });
        record('kill mid campaign send', world, kills, report, started);
        expect(report.violations).toEqual([]);
        expect(kills).toBe(2);
        expect(report.campaignSends).toBeGreaterThan(8);
        // The flow ran here: emails went out, and some steps were held out.
        expect(report.flowEmails).toBeGreaterThan(0);
        expect(report.flowSteps.held_out ?? 0).toBeGreaterThan(0);
      } finally {
        await world.close();
      }
    },
    420_000,
  );
});
