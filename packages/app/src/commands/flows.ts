import {
  COMPARISON_METHOD,
  TactfulError,
  formatMoney,
  type FlowConfig,
  type FlowReport,
  type Interval,
} from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parseIsoDate, parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';
import { providerFromEnv, publicUrlOf } from './campaign.js';

interface SetFlags {
  enabled?: string;
  delay?: string;
  window?: string;
  holdout?: string;
  journey?: string;
  step?: string;
  noJourney?: boolean;
  maxProducts?: string;
  subject?: string;
}

const invalid = (message: string) => new TactfulError('INPUT.INVALID', message);

/** `on`/`off` (also yes/no, true/false). */
function parseOnOff(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'yes', 'true'].includes(v)) return true;
  if (['off', 'no', 'false'].includes(v)) return false;
  throw invalid(`--enabled "${value}" is not on or off.`);
}

/** `10%` or `0.1`: a share of 0 to 50 %. */
export function parseShare(value: string): number {
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(text);
  const share = percent ? Number(percent[1]) / 100 : /^\d*\.?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(share) || share < 0 || share > 0.5)
    throw invalid(`--holdout "${value}" is not a share from 0 to 50 %: write e.g. 10% or 0.1.`);
  return share;
}

/** `09:00-20:00`. */
function parseWindow(value: string): { start: string; end: string } {
  const m = /^\s*(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})\s*$/.exec(value);
  if (!m) throw invalid(`--window "${value}" is not a local time range: write e.g. 09:00-20:00.`);
  return { start: m[1]!, end: m[2]! };
}

/** The settings patch the flags ask for, every flag checked before anything changes. */
export function patchOf(flags: SetFlags): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (flags.enabled !== undefined) patch.enabled = parseOnOff(flags.enabled);
  if (flags.delay !== undefined) {
    if (!/^\d+$/.test(flags.delay.trim())) throw invalid(`--delay "${flags.delay}" is a whole number of days, e.g. 7.`);
    patch.delayDays = Number(flags.delay);
  }
  if (flags.window !== undefined) patch.window = parseWindow(flags.window);
  if (flags.holdout !== undefined) patch.holdoutShare = parseShare(flags.holdout);
  if (flags.noJourney && (flags.journey !== undefined || flags.step !== undefined))
    throw invalid('Give --journey and --step, or --waves, not both.');
  if (flags.noJourney) Object.assign(patch, { journeyId: null, stepId: null });
  if (flags.journey !== undefined) patch.journeyId = flags.journey;
  if (flags.step !== undefined) patch.stepId = flags.step;
  if (flags.maxProducts !== undefined) patch.maxProducts = parsePositiveInt(flags.maxProducts, '--max-products');
  if (flags.subject !== undefined) patch.subject = flags.subject;
  if (Object.keys(patch).length === 0)
    throw invalid(
      'Nothing to change: give at least one of --enabled, --delay, --window, --holdout, --journey/--step, --waves, --max-products, --subject.',
    );
  return patch;
}

function describeFlow(flow: FlowConfig): string[][] {
  return [
    ['flow', flow.flowId],
    ['on', flow.enabled ? 'yes' : 'no'],
    ['delay', `${flow.delayDays} days after the order is paid`],
    ['send window', `${flow.window.start}-${flow.window.end} in the customer's time zone (else the shop's)`],
    ['holdout', `${Math.round(flow.holdoutShare * 1000) / 10} % of eligible orders get nothing (measured)`],
    [
      'delivery',
      flow.journeyId ? `journey ${flow.journeyId}, step ${flow.stepId}` : 'daily campaign waves (no journey set)',
    ],
    ['products', `at most ${flow.maxProducts}`],
    ['subject', flow.subject],
    ['changed', flow.updatedAt?.toISOString() ?? 'never (defaults)'],
  ];
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const interval = (i: Interval | null, f: (x: number) => string) =>
  i ? `${f(i.estimate)} (95 % CI ${f(i.low)} to ${f(i.high)})` : 'not yet (a group is empty)';

export function reportLines(report: FlowReport, currency: string): string[] {
  const c = report.comparison;
  const money = (x: number) => formatMoney(x, currency);
  const lines = [
    table(
      ['', 'recipients', 'holdout'],
      [
        ['people (orders of the flow)', String(c.recipients.people), String(c.holdout.people)],
        [`orders within ${c.attributionDays} days`, String(c.recipients.orders), String(c.holdout.orders)],
        ['conversion', pct(c.recipients.conversion), pct(c.holdout.conversion)],
        ['revenue per person', money(c.recipients.revenuePerPerson), money(c.holdout.revenuePerPerson)],
      ],
    ),
    `conversion lift: ${interval(c.conversionLift, (x) => `${(x * 100).toFixed(1)} pt`)}`,
    `revenue per person lift: ${interval(c.revenuePerPersonLift, money)}`,
    `incremental revenue: ${interval(c.incrementalRevenue, money)}`,
    `method: ${COMPARISON_METHOD}`,
  ];
  if (report.funnel.length > 0)
    lines.push(
      table(
        ['day', 'triggered', 'waited', 'sent', 'held out', 'opened', 'clicked', 'bought'],
        report.funnel.map((d) =>
          [d.day, d.triggered, d.waiting, d.sent, d.heldOut, d.opened, d.clicked, d.bought].map(String),
        ),
      ),
    );
  if (report.reasons.length > 0)
    lines.push(
      table(
        ['status', 'why', 'steps'],
        report.reasons.map((r) => [r.status, r.reason, String(r.steps)]),
      ),
    );
  return lines;
}

export const flowsCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const flows = program
    .command('flows')
    .description(
      'automated flows: related products some days after each paid order, with a holdout that measures them',
    );

  flows
    .command('list')
    .description('every flow, on or off, with its delay, window, holdout and delivery')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const list = await tactful.flows.list();
        if (flags.json) return ctx.json(list);
        ctx.line(
          table(
            ['flow', 'on', 'delay', 'window', 'holdout', 'delivery'],
            list.map((f) => [
              f.flowId,
              f.enabled ? 'yes' : 'no',
              `${f.delayDays} d`,
              `${f.window.start}-${f.window.end}`,
              `${Math.round(f.holdoutShare * 1000) / 10} %`,
              f.journeyId ? `journey ${f.journeyId}/${f.stepId}` : 'waves',
            ]),
          ),
        );
      });
    });

  flows
    .command('show <flow>')
    .description("one flow's settings and its steps per status")
    .option('--json', 'print as JSON')
    .action(async (flowId: string, flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const flow = await tactful.flows.show(flowId);
        const { statuses } = await tactful.flows.report(flow.flowId);
        if (flags.json) return ctx.json({ ...flow, statuses });
        ctx.line(table(['setting', 'value'], describeFlow(flow)));
        ctx.line(
          table(
            ['steps', 'count'],
            Object.entries(statuses).map(([s, n]) => [s, String(n)]),
          ),
        );
      });
    });

  flows
    .command('set <flow>')
    .description('change a flow: every flag is checked first; a bad one changes nothing')
    .option('--enabled <on|off>', 'run the flow or not')
    .option('--delay <days>', 'days after the order is paid (0-90)')
    .option('--window <HH:MM-HH:MM>', "local send window in the customer's time zone, e.g. 09:00-20:00")
    .option('--holdout <share>', 'share kept back to measure the flow, 0 to 50 %: 10% or 0.1')
    .option('--journey <id>', "the provider's journey id (with --step)")
    .option('--step <id>', "the journey's step id that sends the email")
    .option('--waves', 'no journey: due steps go out in daily campaign waves')
    .option('--max-products <n>', 'products per email, 1-3')
    .option('--subject <line>', 'the subject line (waves)')
    .option('--json', 'print the new settings as JSON')
    .action(async (flowId: string, raw: Omit<SetFlags, 'noJourney'> & { waves?: boolean; json?: boolean }) => {
      const flags: SetFlags = { ...raw, noJourney: raw.waves === true };
      const patch = patchOf(flags);
      await withEngine(ctx, async (tactful) => {
        const { flow, changed } = await tactful.flows.set(flowId, patch, { type: 'cli', id: 'flows set' });
        if (raw.json) return ctx.json({ flow, changed });
        ctx.line(
          changed.length ? `Changed: ${changed.join(', ')}.` : 'Nothing changed: the flow already had these settings.',
        );
        ctx.line(table(['setting', 'value'], describeFlow(flow)));
      });
    });

  flows
    .command('run')
    .description('send the steps due now (for cron, when no server runs): each exactly once, checked again now')
    .option('--until <iso-time>', 'only steps due by then (no later than now)')
    .option('--limit <n>', 'at most this many steps', '1000')
    .option('--public-url <url>', 'where customers reach the app (default: PUBLIC_URL)')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nEnvironment: MAILCHIMP_API_KEY, MAILCHIMP_AUDIENCE_ID, PUBLIC_URL, TACTFUL_INSTANCE_ID.')
    .action(async (flags: { until?: string; limit: string; publicUrl?: string; json?: boolean }) => {
      const until = flags.until ? parseIsoDate(flags.until, '--until') : undefined;
      const limit = parsePositiveInt(flags.limit, '--limit');
      const publicUrl = publicUrlOf(ctx, flags, true);
      await withEngine(ctx, async (tactful) => {
        if (until && until.getTime() > tactful.now().getTime())
          throw invalid(`--until ${flags.until} is in the future: a run sends what is due by now or earlier.`);
        const provider = await providerFromEnv(ctx, tactful);
        const instanceId = ctx.io.env.TACTFUL_INSTANCE_ID;
        const report = await tactful.flows.runDue(
          { provider, publicUrl, actor: { type: 'cli', id: 'flows run' } },
          { until, limit, ...(instanceId ? { instanceId } : {}) },
        );
        if (flags.json) return ctx.json(report);
        ctx.line(
          table(
            ['steps', 'count'],
            [
              ['taken up', report.leased],
              ['sent', report.sent],
              ['held out', report.heldOut],
              ['waiting (new due time)', report.waiting],
              ['skipped', report.skipped],
              ['exited', report.exited],
              ['finished after a crash', report.resumed],
              ['refused or not confirmed', report.failed.length],
            ].map(([k, v]) => [String(k), String(v)]),
          ),
        );
        for (const f of report.failed) ctx.line(`  ${f.flowId} order ${f.orderId}: ${f.code} ${f.message}`);
      });
    });

  flows
    .command('report <flow>')
    .description(
      'recipients against the holdout (orders, conversion, revenue per person, 95 % intervals) and the funnel',
    )
    .option('--days <n>', 'attribution window in days (default 30)')
    .option('--json', 'print as JSON')
    .action(async (flowId: string, flags: { days?: string; json?: boolean }) => {
      const days = flags.days ? parsePositiveInt(flags.days, '--days') : undefined;
      await withEngine(ctx, async (tactful) => {
        const report = await tactful.flows.report(flowId, days);
        if (flags.json) return ctx.json(report);
        const { currency } = await tactful.settings.get();
        for (const line of reportLines(report, currency)) ctx.line(line);
      });
    });
};
