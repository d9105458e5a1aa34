/**
 * `tactful demo`: checks every flag, wipes and rebuilds the demo database, runs the pipeline, tells one
 * customer's story, and then keeps the dashboard up (demo mode, the Mailchimp sandbox connected) behind a
 * one-time sign-in link until Ctrl-C.
 */
import { reportLines } from '../commands/flows.js';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { isAbsolute, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import { createTactful, formatMoney, openStore, TactfulError, type Store, type Tactful } from '@tactful/core';
import { CliExit, EXIT } from '../cli/io.js';
import { parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext } from '../cli/program.js';
import { withProgress } from '../cli/progress.js';
import { untilSignal } from '../cli/signals.js';
import { createApp } from '../server/app.js';
import { readServeConfig } from '../server/config.js';
import { memoryMailbox } from '../server/mail.js';
import { SIGN_IN_PATH, createSignInLinks } from '../server/sign-in-links.js';
import { startServer, type RunningServer } from '../server/start.js';
import { serveMailchimpSandbox, type MailchimpSandboxHost } from '@tactful/mailchimp/testing';
import { exclusionTable, runDemoPipeline, startSandboxes, type DemoReport } from './pipeline.js';
import { consentStory } from './story.js';

export const DEFAULT_DEMO_FOLDER = '.tactful/demo';
const MAX_CUSTOMERS = 100_000;

export interface DemoPlan {
  /** The database folder, absolute. */
  folder: string;
  /** The folder as the commands the demo prints name it (relative to where it runs when possible). */
  shown: string;
  customers: number;
  /** Orders of the demo shop; default every Groceries basket. */
  orders?: number | undefined;
  port: number;
  serve: boolean;
}

/** The demo's flags, all checked before anything is wiped or started (bad input exits 2, nothing changed). */
export function checkDemoFlags(
  ctx: CliContext,
  flags: { data?: string | undefined; customers: string; orders?: string | undefined; port: string; serve: boolean },
  given: { db?: string | undefined },
): DemoPlan {
  const customers = parsePositiveInt(flags.customers, '--customers');
  if (customers > MAX_CUSTOMERS)
    throw new TactfulError(
      'INPUT.INVALID',
      `--customers ${customers} is more than the demo builds (at most ${MAX_CUSTOMERS}): pick a smaller number.`,
    );
  const orders = flags.orders === undefined ? undefined : parsePositiveInt(flags.orders, '--orders');
  const port = Number(flags.port);
  if (!/^\d{1,5}$/.test(flags.port.trim()) || port > 65535)
    throw new TactfulError(
      'INPUT.INVALID',
      `--port "${flags.port}" is not a port number: use 0-65535 (0 picks a free one), e.g. --port 3001.`,
    );
  const db = given.db?.trim();
  if (db !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(db))
    throw new TactfulError(
      'INPUT.INVALID',
      `--db ${db}: the demo wipes and rebuilds its database, so it runs only on an embedded folder: use --db <folder> (default ${DEFAULT_DEMO_FOLDER}).`,
    );
  if (db !== undefined && flags.data !== undefined && resolve(ctx.io.cwd, db) !== resolve(ctx.io.cwd, flags.data))
    throw new TactfulError(
      'INPUT.INVALID',
      `--db ${db} and --data ${flags.data} name two different folders for the demo: give one of them.`,
    );
  const typed = db ?? flags.data ?? DEFAULT_DEMO_FOLDER;
  if (typed === '')
    throw new TactfulError('INPUT.INVALID', `--data is empty: name a folder, e.g. ${DEFAULT_DEMO_FOLDER}.`);
  const folder = resolve(ctx.io.cwd, typed);
  if (existsSync(folder)) {
    if (!statSync(folder).isDirectory())
      throw new TactfulError(
        'INPUT.INVALID',
        `${typed} is a file, not a folder: the demo keeps its database in a folder; name another one with --db.`,
      );
    // The demo wipes its folder first: only one it made itself (or an empty one) is ever wiped.
    const ours =
      existsSync(demoMarker(folder)) ||
      readdirSync(folder).length === 0 ||
      folder === resolve(ctx.io.cwd, DEFAULT_DEMO_FOLDER);
    if (!ours)
      throw new TactfulError(
        'INPUT.INVALID',
        `${typed} holds data the demo did not create, and the demo wipes its folder first: name a new or empty folder with --db.`,
      );
  }
  const rel = relative(ctx.io.cwd, folder);
  const shown = !isAbsolute(typed) && rel !== '' && !rel.startsWith('..') ? rel : folder;
  return {
    folder,
    shown: /\s/.test(shown) ? JSON.stringify(shown) : shown,
    customers,
    orders,
    port,
    serve: flags.serve,
  };
}

const demoMarker = (folder: string) => `${folder}.demo`;

/** Listens before anything is built, so a port in use is refused at once rather than after the pipeline. */
async function reservePort(port: number): Promise<{ server: RunningServer; mount(app: express.Express): void }> {
  let current: express.Express | undefined;
  const front = express();
  front.use((req, res, next) => {
    if (current) return current(req, res, next);
    res.status(503).type('text/plain').send('The demo is still building its data: try again in a moment.\n');
  });
  try {
    const server = await startServer(front, { host: '127.0.0.1', port });
    return { server, mount: (app) => void (current = app) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new CliExit(
        EXIT.invalid,
        `--port ${port}: ${code === 'EADDRINUSE' ? 'another program already listens there' : 'not allowed for this user'}; pick another with --port (0 picks a free one), or --no-serve.`,
      );
    throw error;
  }
}

export async function runDemo(ctx: CliContext, plan: DemoPlan): Promise<void> {
  const front = plan.serve ? await reservePort(plan.port) : undefined;
  const publicUrl = front ? front.server.url : `http://127.0.0.1:${plan.port || 3000}`;
  let store: Store | undefined;
  let sandboxes: ReturnType<typeof startSandboxes> | undefined;
  let mailchimpPages: MailchimpSandboxHost | undefined;
  try {
    // Wiped under the folder's lock: a dashboard still serving the last demo's folder refuses the wipe.
    store = await openStore({ url: plan.folder, secret: ctx.io.env.TACTFUL_SECRET, fresh: true });
    ctx.line(`Tactful demo on an embedded PostgreSQL (PGlite) at ${plan.folder}`);
    writeFileSync(demoMarker(plan.folder), 'made by `tactful demo`: the demo wipes and rebuilds this folder\n');
    const shop = ctx.globals().shop;
    sandboxes = startSandboxes(shop, {
      customers: plan.customers,
      ...(plan.orders !== undefined ? { orders: plan.orders } : {}),
      imageUrl: (title) => `${publicUrl}/demo/product-image.svg?title=${encodeURIComponent(title)}`,
    });
    // The emails' Unsubscribe links open the Mailchimp sandbox's own pages, served on loopback for the browser
    // (Mailchimp's list-manage.com is out of reach offline).
    if (front) mailchimpPages = await serveMailchimpSandbox(sandboxes.mailchimp, { pages: true });
    const tactful = await createTactful({ store, shop });
    ctx.line(
      `\nA Shopify shop (sandbox) seeded from the Groceries data: ${sandboxes.seed.products} products, ${sandboxes.seed.customers} customers, ${sandboxes.seed.orders} orders; an empty Mailchimp audience (sandbox).`,
    );
    const started = Date.now();
    const report = await runDemoPipeline(
      tactful,
      sandboxes,
      (line) => ctx.line(line),
      (label, total, work) => withProgress(ctx.io, label, total, work),
      { publicUrl },
    );
    await printReport(ctx, tactful, report);
    ctx.line(`\n(pipeline took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    ctx.line("\nAnd one customer's story, step by step:");
    await consentStory(ctx, tactful);
    if (!front) {
      printCliHints(ctx, plan, 'The dashboard was not started (--no-serve). Explore from the command line');
      ctx.line(
        `\nOr see it in the dashboard: npm run demo (or npx tactful demo) builds the demo again and keeps it up.`,
      );
      return;
    }
    await serveDashboard(ctx, plan, { tactful, report, sandboxes, front });
  } finally {
    sandboxes?.close();
    await mailchimpPages?.close();
    await front?.server.close();
    await store?.close();
  }
  if (front) ctx.line('\nStopped: the dashboard is closed and the demo database saved and closed.');
}

async function printReport(ctx: CliContext, tactful: Tactful, report: DemoReport): Promise<void> {
  const { currency } = await tactful.settings.get();
  const counts = (tally: Record<string, number>) =>
    Object.entries(tally)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ') || 'empty';
  ctx.line(`\nMailchimp audience now: ${counts(report.mailchimpMembers)}`);
  ctx.line(`Shopify email consent now: ${counts(report.shopifyConsent)}`);
  if (report.campaign) {
    const rows = exclusionTable(report.customers, report.campaign.dryRun);
    ctx.line(`\nThe campaign's dry run, for every one of the ${report.customers} customers:`);
    ctx.line(
      table(
        ['', 'customers'],
        [...rows.map(([label, n]) => [label, String(n)]), ['total', String(rows.reduce((s, [, n]) => s + n, 0))]],
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
    const stats = report.campaign.stats;
    if (stats)
      ctx.line(
        `Sent to ${stats.sends}: ${stats.opens} opened, ${stats.clicks} clicked, ${stats.attributedOrders} ordered a featured product (${formatMoney(stats.revenue, currency)}).`,
      );
  }
  ctx.line('\nRecommendations for customers who agreed (each says why):');
  for (const example of report.examples) {
    ctx.line(`  ${example.email}`);
    for (const r of example.recommendations) ctx.line(`    - ${r.title} (${r.why})`);
  }
  if (report.flow) {
    ctx.line(
      `\nThe post-purchase flow (${report.flow.delivery}), ${report.flow.days} simulated days, recipients against the holdout:`,
    );
    for (const line of reportLines(report.flow.report, currency)) ctx.line(line.replace(/^/gm, '  '));
    ctx.line(`  Simulated buyers' rule: ${report.flow.rule}.`);
  }
  const preview = report.campaign?.dryRun.previews[0];
  if (preview)
    ctx.line(
      `\nOne email of the campaign, as its dry run rendered it (to ${preview.email}):\n${preview.text.replace(/^/gm, '  | ')}`,
    );
}

/** Commands on the demo database, exactly as they run from the repository root. */
export function demoCommands(plan: Pick<DemoPlan, 'shown'>): string[] {
  const db = plan.shown === DEFAULT_DEMO_FOLDER ? '--db .tactful/demo' : `--db ${plan.shown}`;
  return [
    `npx tactful ${db} consent history --email dana@example.com`,
    `npx tactful ${db} campaign report`,
    `npx tactful ${db} report pareto`,
    `npx tactful ${db} audit export --format jsonl`,
  ];
}

function printCliHints(ctx: CliContext, plan: DemoPlan, heading: string): void {
  ctx.line(`\n${heading} (from the repository root):`);
  for (const command of demoCommands(plan)) ctx.line(`  ${command}`);
}

async function serveDashboard(
  ctx: CliContext,
  plan: DemoPlan,
  parts: {
    tactful: Tactful;
    report: DemoReport;
    sandboxes: ReturnType<typeof startSandboxes>;
    front: Awaited<ReturnType<typeof reservePort>>;
  },
): Promise<void> {
  const { tactful, report, sandboxes, front } = parts;
  const url = front.server.url;
  // Mailchimp's webhook, as the owner registers it: an unsubscribe from an email's link reaches the app's inbox.
  const mailchimpWebhookSecret = randomBytes(24).toString('hex');
  const config = readServeConfig({
    MAILCHIMP_WEBHOOK_SECRET: mailchimpWebhookSecret,
    TACTFUL_DEMO: '1',
    // Nobody types this token: the printed one-time link exchanges itself for the session cookie.
    TACTFUL_ADMIN_TOKEN: randomBytes(24).toString('hex'),
    HOST: '127.0.0.1',
    PORT: String(front.server.port),
    TACTFUL_DB: plan.folder,
    TACTFUL_SHOP: tactful.shopId,
    TACTFUL_SECRET: ctx.io.env.TACTFUL_SECRET,
    TACTFUL_RATE_LIMIT: '1000',
  });
  const emails = report.campaign?.emails ?? [];
  const mailer = memoryMailbox(emails.length + 200);
  // Oldest first, so the inbox (newest first) opens on the first recipient.
  for (const e of [...emails].reverse())
    await mailer.send({ to: e.to, subject: e.subject, from: e.from, html: e.html, text: '', headers: {}, links: {} });
  const links = createSignInLinks();
  const logger = pino({ level: ctx.io.env.LOG_LEVEL ?? 'warn' }, { write: (line: string) => ctx.io.stderr(line) });
  front.mount(
    createApp({ tactful, config, logger, mailer, provider: sandboxes.provider, signInLinks: links }) as express.Express,
  );
  sandboxes.mailchimp.addWebhook(`${url}/mailchimp/webhooks/${mailchimpWebhookSecret}`);
  const link = () => `${url}${SIGN_IN_PATH}?token=${links.issue().token}`;
  ctx.line(`\nThe dashboard is up. Open it, already signed in (the link works once, within 10 minutes):`);
  ctx.line(`  ${link()}`);
  ctx.line(
    `Demo inbox, the campaign's ${emails.length} emails as the Mailchimp sandbox rendered them: ${url}/demo/mail`,
  );
  ctx.line(`\nWhile the dashboard runs it holds the demo database, so explore through it:`);
  ctx.line(
    table(
      ['', ''],
      [
        ["Dana's consent story (find her by email)", `${url}/admin/customers?email=dana%40example.com`],
        ['everything recorded about Dana', `${url}/admin/audit?email=dana%40example.com`],
        ["the campaign's report and a dry run", `${url}/admin/campaign`],
        ['who brings the revenue (Pareto, RFM)', `${url}/admin/segments`],
        ['the audit log as CSV', `${url}/admin/audit.csv`],
      ],
    )
      .split('\n')
      .slice(2)
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  printCliHints(ctx, plan, 'Commands on the demo database need the dashboard stopped first (Ctrl-C); then');
  ctx.line(`\nPress Enter for a new sign-in link; Ctrl-C stops the dashboard.`);
  const input = ctx.io.stdin
    ? createInterface({ input: ctx.io.stdin, terminal: false }).on('line', () => ctx.line(`  ${link()}`))
    : undefined;
  try {
    await (ctx.io.untilStopped ?? untilSignal)();
  } finally {
    input?.close();
  }
}
