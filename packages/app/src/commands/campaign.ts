import {
  exclusionLabels,
  parseSegmentJson,
  TactfulError,
  type CampaignRunResult,
  type EmailProvider,
  type ExclusionReason,
  type Tactful,
  formatMoney,
} from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parseIsoDate, parsePositiveInt, table } from '../cli/parse.js';
import { withProgress } from '../cli/progress.js';
import type { CliContext, CommandModule } from '../cli/program.js';
import { readSyncConfig } from '../server/config.js';
import { readInputFile } from './segment.js';

interface RunFlags {
  name: string;
  subject?: string;
  segment?: string;
  segmentFile?: string;
  max?: string;
  publicUrl?: string;
  json?: boolean;
}

const DEFAULT_PREVIEW_URL = 'http://127.0.0.1:3000';

/** `--segment NAME` (a saved segment) or `--segment-file FILE` (segment JSON). */
async function segmentOf(ctx: CliContext, tactful: Tactful, flags: RunFlags): Promise<unknown> {
  if (flags.segment && flags.segmentFile)
    throw new TactfulError('INPUT.INVALID', 'Give --segment NAME or --segment-file FILE, not both.');
  if (flags.segmentFile) return parseSegmentJson(readInputFile(ctx, flags.segmentFile, '--segment-file'));
  if (!flags.segment) return undefined;
  const saved = (await tactful.segments.list()).find((s) => s.name === flags.segment);
  if (!saved)
    throw new TactfulError(
      'SEGMENT.NOT_FOUND',
      `No saved segment "${flags.segment}": see tactful segment list, or pass --segment-file FILE.`,
    );
  return saved.definition;
}

export function publicUrlOf(ctx: CliContext, flags: { publicUrl?: string | undefined }, required: boolean): string {
  const value = flags.publicUrl ?? ctx.io.env.PUBLIC_URL;
  if (!value) {
    if (required)
      throw new TactfulError(
        'CONFIG.INVALID',
        'PUBLIC_URL (or --public-url) is required to send: the preference-centre and unsubscribe links in each email point at it, e.g. https://tactful.example.com.',
      );
    return DEFAULT_PREVIEW_URL;
  }
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw new TactfulError(
      'CONFIG.INVALID',
      `PUBLIC_URL "${value}" is not an http(s) URL: give the address customers reach the app at, e.g. https://tactful.example.com.`,
    );
  }
  return value.replace(/\/+$/, '');
}

/** The connected email provider, from the same environment as `tactful serve` and `tactful sync`. */
export async function providerFromEnv(ctx: CliContext, tactful: Tactful): Promise<EmailProvider> {
  const config = readSyncConfig(ctx.io.env, { shopify: false, mailchimp: true });
  const settings = await tactful.settings.get();
  // The Mailchimp adapter loads when a command sends, not at every start of the CLI.
  const { createMailchimpProvider } = await import('@tactful/mailchimp');
  return createMailchimpProvider({
    apiKey: config.MAILCHIMP_API_KEY!,
    audienceId: config.MAILCHIMP_AUDIENCE_ID!,
    requireDoubleOptIn: settings.requireDoubleOptIn,
  });
}

function summary(result: CampaignRunResult): string {
  const rows: string[][] = [
    [result.dryRun ? 'would get it now' : 'sent now', String(result.dryRun ? result.eligible : result.sent)],
  ];
  if (result.alreadySent) rows.push(['already got it (earlier run)', String(result.alreadySent)]);
  if (result.resumedWaves) rows.push(['interrupted sends finished', String(result.resumedWaves)]);
  if (result.failed.length) rows.push(['refused by the provider', String(result.failed.length)]);
  for (const [reason, n] of Object.entries(result.excluded) as Array<[ExclusionReason, number]>)
    rows.push([`not sent: ${exclusionLabels[reason]}`, String(n)]);
  return table([`campaign ${result.campaign}`, 'people'], rows);
}

function runOptions(flags: RunFlags) {
  return {
    name: flags.name,
    ...(flags.subject !== undefined ? { subject: flags.subject } : {}),
    ...(flags.max !== undefined ? { maxRecipients: parsePositiveInt(flags.max, '--max') } : {}),
  };
}

const withRunFlags = (command: Command) =>
  command
    .requiredOption(
      '--name <name>',
      'the campaign name: a re-run with the same name sends only to people who did not get it yet',
    )
    .option('--subject <line>', 'the subject line', 'Picked for you')
    .option('--segment <name>', 'only members of this saved segment')
    .option('--segment-file <file>', 'only members of the segment in this JSON file')
    .option('--max <n>', 'at most this many people get this campaign, over all its runs')
    .option('--public-url <url>', 'where customers reach the app (default: PUBLIC_URL)')
    .option('--json', 'print the result as JSON');

export const campaignCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const campaign = program
    .command('campaign')
    .description('related-product campaigns: preview who gets what and why, send exactly once, report');

  withRunFlags(campaign.command('preview'))
    .description(
      'a dry run: who would get the email now, who would not and why, and the emails themselves; sends nothing',
    )
    .option('--show <n>', 'how many emails to print', '3')
    .option('--at <iso-time>', 'evaluate as of this time (quiet hours, frequency caps)')
    .action(async (flags: RunFlags & { show: string; at?: string }) => {
      const show = parsePositiveInt(flags.show, '--show');
      const at = flags.at ? parseIsoDate(flags.at, '--at') : undefined;
      const publicUrl = publicUrlOf(ctx, flags, false);
      await withEngine(ctx, async (tactful) => {
        const segment = await segmentOf(ctx, tactful, flags);
        const result = await withProgress(
          ctx.io,
          'evaluating',
          undefined,
          (bar) =>
            tactful.campaign.run(
              { ...runOptions(flags), segment, dryRun: true, publicUrl, previews: show, ...(at ? { at } : {}) },
              { onProgress: (_phase, done, total) => (bar.total(total), bar.set(done)) },
            ),
          { quiet: flags.json, unit: 'people' },
        );
        if (flags.json) return ctx.json(result);
        for (const warning of result.warnings) ctx.line(`warning: ${warning}`);
        ctx.line(summary(result));
        for (const preview of result.previews) ctx.line(`\n--- to ${preview.email} ---\n${preview.text}`);
      });
    });

  withRunFlags(campaign.command('send'))
    .description(
      'send the campaign through Mailchimp to everyone eligible now; each person gets it at most once, even after a crash',
    )
    .addHelpText(
      'after',
      '\nEnvironment: MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID, PUBLIC_URL, TACTFUL_INSTANCE_ID (several instances: a distinct id each).',
    )
    .action(async (flags: RunFlags) => {
      const publicUrl = publicUrlOf(ctx, flags, true);
      await withEngine(ctx, async (tactful) => {
        const provider = await providerFromEnv(ctx, tactful);
        const segment = await segmentOf(ctx, tactful, flags);
        const instanceId = ctx.io.env.TACTFUL_INSTANCE_ID;
        const result = await withProgress(
          ctx.io,
          'campaign',
          undefined,
          (bar) =>
            tactful.campaign.run(
              { ...runOptions(flags), segment, dryRun: false, publicUrl, ...(instanceId ? { instanceId } : {}) },
              {
                provider,
                actor: { type: 'cli', id: 'campaign send' },
                onProgress: (_phase, done, total) => (bar.total(total), bar.set(done)),
              },
            ),
          { quiet: flags.json, unit: 'people' },
        );
        if (flags.json) return ctx.json(result);
        ctx.line(summary(result));
        if (result.failed.length)
          ctx.line(
            table(
              ['refused', 'why'],
              result.failed.map((f) => [f.email, `${f.code}: ${f.message}`]),
            ),
          );
      });
    });

  campaign
    .command('report')
    .description("each campaign's sends, opens, clicks, unsubscribes and revenue from the products it featured")
    .option('--refresh', "first fetch the provider's latest reports (needs MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID)")
    .option('--json', 'print as JSON')
    .action(async (flags: { refresh?: boolean; json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        if (flags.refresh) await tactful.campaign.refreshReports(await providerFromEnv(ctx, tactful));
        const stats = await tactful.campaign.stats();
        if (flags.json) return ctx.json(stats);
        if (stats.length === 0) return ctx.line('No campaign was sent yet: see tactful campaign preview.');
        const { currency } = await tactful.settings.get();
        ctx.line(
          table(
            ['campaign', 'sent', 'opens', 'clicks', 'unsubscribes', 'orders', 'revenue', 'report from'],
            stats.map((s) => [
              s.name,
              String(s.sends),
              String(s.opens),
              String(s.clicks),
              String(s.unsubscribes),
              String(s.attributedOrders),
              formatMoney(s.revenue, currency),
              s.reportAt?.toISOString().slice(0, 16) ?? '-',
            ]),
          ),
        );
      });
    });
};
