/**
 * One flow runner as a child process of the fault suite: it opens the store, runs the shop's due flow steps one
 * at a time through the Mailchimp adapter (against a sandbox the test hosts on loopback), and prints a line
 * before each step, so the test can SIGKILL it mid-run.
 *
 * Run: node --import tsx test/faults/flow-runner.ts, or as the tests do, bundled (test/support/scripts.ts); the packages as built (test/support/built.ts)   (config in TACTFUL_FLOW_RUNNER, JSON)
 */
import { createTactful, openStore } from '@tactful/core';
import { createMailchimpProvider } from '@tactful/mailchimp';

export interface FlowRunnerConfig {
  db: string;
  secret: string;
  shop: string;
  /** The clock of this run (ISO). */
  now: string;
  instance: string;
  mailchimp: { baseUrl: string; apiKey: string; audienceId: string };
}

const config = JSON.parse(process.env.TACTFUL_FLOW_RUNNER ?? '{}') as FlowRunnerConfig;
const store = await openStore({ url: config.db, secret: config.secret });
const now = new Date(config.now);
const tactful = await createTactful({ store, shop: config.shop, now: () => now });
const provider = createMailchimpProvider({
  apiKey: config.mailchimp.apiKey,
  audienceId: config.mailchimp.audienceId,
  baseUrl: config.mailchimp.baseUrl,
});
for (;;) {
  process.stdout.write(`${JSON.stringify({ event: 'step' })}\n`);
  const report = await tactful.flows.runDue(
    { provider, publicUrl: 'https://t.example' },
    { limit: 1, instanceId: config.instance, leaseSeconds: 60 },
  );
  if (report.leased === 0) break;
}
await store.close();
process.stdout.write(`${JSON.stringify({ event: 'done' })}\n`);
