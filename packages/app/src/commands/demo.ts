import { resolve } from 'node:path';
import { createTactful, openStore, type Tactful } from '@tactful/core';
import type { Command } from 'commander';
import { parsePositiveInt, table } from '../cli/parse.js';
import { runDemoPipeline, startSandboxes } from '../demo/pipeline.js';
import { withProgress } from '../cli/progress.js';
import type { CliContext, CommandModule } from '../cli/program.js';

/**
 * The main job while the app and its sandboxes are being built: a walk through the consent core on the
 * embedded database, told as a customer's story, with every step checked against the ledger.
 */
export async function consentStory(ctx: CliContext, tactful: Tactful): Promise<void> {
  const say = (text: string) => ctx.line(text);
  const email = 'dana@example.com';
  const show = async () => {
    const view = await tactful.consent.show(email);
    say(
      table(
        ['purpose', 'state', 'level', 'since', 'source', 'clause', 'version'],
        view.purposes.map((p) => [
          p.purpose,
          p.state,
          p.level,
          p.since?.toISOString() ?? '',
          p.source ? `${p.source.system}/${p.source.method}` : '',
          p.clause,
          p.version,
        ]),
      ),
    );
  };
  say('\n1. Dana ticks both boxes on the subscribe form: pending until she confirms (double opt-in).');
  const ticket = await tactful.consent.requestOptIn({
    email,
    purposes: ['email_marketing', 'personalization'],
    evidence: { ip: '203.0.113.50', userAgent: 'Mozilla/5.0 (demo)', formId: 'footer-signup', policyVersion: '1' },
  });
  await show();

  say(
    `\n2. She clicks the confirmation link (token id ${ticket.tokenId}, valid until ${ticket.expiresAt.toISOString()}).`,
  );
  await tactful.consent.confirmOptIn(ticket.token, { ip: '203.0.113.50', userAgent: 'Mozilla/5.0 (demo)' });
  await show();
  const reuse = await tactful.consent.confirmOptIn(ticket.token).then(
    () => 'accepted (wrong!)',
    (e: { code?: string }) => `refused with ${e.code}`,
  );
  say(`   Clicking the same link again is ${reuse}.`);

  say('\n3. Later she unsubscribes with one click in an email.');
  const unsub = await tactful.consent.unsubscribeToken(email, 'email_marketing');
  await tactful.consent.unsubscribe(unsub, { ip: '203.0.113.51' });
  await show();

  say(
    '\n4. Mailchimp reports her as unsubscribed too: Tactful pushed that itself, so it is an echo and changes nothing.',
  );
  const echo = await tactful.consent.record({
    subject: { email },
    purpose: 'email_marketing',
    state: 'withdrawn',
    level: 'unknown',
    occurredAt: new Date(),
    source: { system: 'mailchimp', eventId: `mc-${Date.now()}`, method: 'sync' },
  });
  say(`   recorded as echo: ${echo.echo}, state changed: ${echo.changed}`);

  say(
    '\n5. A nightly import from another system says "subscribed": withdrawal is sticky, only Dana herself can opt in again.',
  );
  const sticky = await tactful.consent.record({
    subject: { email },
    purpose: 'email_marketing',
    state: 'granted',
    level: 'single',
    occurredAt: new Date(),
    source: { system: 'shopify', eventId: `imp-${Date.now()}`, method: 'import' },
  });
  say(`   state after the import: ${sticky.state.state}`);
  await show();

  const counts = await tactful.outbox.counts();
  say(
    `\nOutbox: ${counts.pending} changes waiting for Shopify and Mailchimp (delivered by the dispatcher once they are connected).`,
  );
  const verified = await tactful.audit.verify();
  say(
    `Ledger chain: ${verified.ledger.ok ? 'intact' : 'BROKEN'} (${verified.ledger.rows} events); audit log: ${verified.audit.ok ? 'intact' : 'BROKEN'} (${verified.audit.rows} entries).`,
  );
}

export const demoCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('demo')
    .description('run the demo on a fresh embedded database (.tactful/demo by default)')
    .option('--data <folder>', 'where the demo database lives (wiped first)', '.tactful/demo')
    .option('--customers <n>', 'customers of the demo shop (the 9 835 Groceries orders are shared among them)', '2000')
    .action(async (flags: { data: string; customers: string }) => {
      const folder = resolve(ctx.io.cwd, flags.data);
      // Wiped under the folder's lock: a dashboard still serving the last demo's folder refuses the wipe.
      const store = await openStore({ url: folder, secret: ctx.io.env.TACTFUL_SECRET, fresh: true });
      ctx.line(`Tactful demo on an embedded PostgreSQL (PGlite) at ${folder}`);
      const customers = parsePositiveInt(flags.customers, '--customers');
      const sandboxes = startSandboxes(ctx.globals().shop, { customers });
      try {
        const tactful = await createTactful({ store, shop: ctx.globals().shop });
        ctx.line(
          `\nA Shopify shop (sandbox) seeded from the Groceries data: ${sandboxes.seed.products} products, ${sandboxes.seed.customers} customers, ${sandboxes.seed.orders} orders; an empty Mailchimp audience (sandbox).`,
        );
        const started = Date.now();
        const report = await runDemoPipeline(
          tactful,
          sandboxes,
          (line) => ctx.line(line),
          (label, total, work) => withProgress(ctx.io, label, total, work),
        );
        ctx.line(
          `\nMailchimp audience now: ${
            Object.entries(report.mailchimpMembers)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || 'empty'
          }`,
        );
        ctx.line(
          `Shopify email consent now: ${Object.entries(report.shopifyConsent)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
        );
        ctx.line('\nRecommendations for customers who agreed (each says why):');
        for (const example of report.examples) {
          ctx.line(`  ${example.email}`);
          for (const r of example.recommendations) ctx.line(`    - ${r.title.trim()} (${r.why.trim()})`);
        }
        const preview = report.campaign?.dryRun.previews[0];
        if (preview)
          ctx.line(
            `\nOne email of the campaign, as its dry run rendered it (to ${preview.email}):\n${preview.text.replace(/^/gm, '  | ')}`,
          );
        ctx.line(`\n(pipeline took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
        ctx.line("\nAnd one customer's story, step by step:");
        await consentStory(ctx, tactful);
      } finally {
        sandboxes.close();
        await store.close();
      }
      ctx.line(`\nOpen the dashboard (every page works offline on this data):`);
      ctx.line(
        `  TACTFUL_DEMO=1 TACTFUL_ADMIN_TOKEN=demo-admin-token-change-me-0001 node packages/app/dist/cli.js --db ${flags.data} serve`,
      );
      ctx.line(`  then http://127.0.0.1:3000/admin (sign in with that token)`);
      ctx.line(`\nExplore it: tactful --db ${flags.data} consent history --email dana@example.com`);
      ctx.line(`            tactful --db ${flags.data} campaign report`);
      ctx.line(`            tactful --db ${flags.data} audit export --format jsonl`);
    });
};
