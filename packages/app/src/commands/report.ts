import { formatMoney } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

export const reportCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const report = program.command('report').description('customer reports over profiles');

  report
    .command('pareto')
    .description('the smallest set of customers holding 80 % of revenue, their share of all customers, and the list')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const { currency } = await tactful.settings.get();
        const money = (x: number) => formatMoney(x, currency);
        const r = await tactful.segments.pareto();
        if (flags.json) return ctx.json(r);
        ctx.line(
          `${r.top} of ${r.customers} customers (${pct(r.shareOfCustomers)}) hold ${money(r.topRevenue)} of ${money(r.totalRevenue)} revenue (at least ${pct(r.threshold)})`,
        );
        if (r.members.length > 0)
          ctx.line(
            table(
              ['email', 'revenue', 'cumulative'],
              r.members.map((m) => [m.email, money(m.revenue), pct(m.cumulativeShare)]),
            ),
          );
      });
    });

  report
    .command('rfm')
    .description('customers per RFM label (recency, frequency, monetary quintiles)')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const { currency } = await tactful.settings.get();
        const money = (x: number) => formatMoney(x, currency);
        const r = await tactful.segments.rfm();
        if (flags.json) return ctx.json(r);
        ctx.line(`${r.customers} customers with orders and a profile`);
        ctx.line(
          table(
            ['label', 'customers', 'share', 'revenue', 'avg R', 'avg F', 'avg M'],
            r.labels.map((l) => [
              l.label,
              String(l.customers),
              pct(l.share),
              money(l.revenue),
              String(l.averageRecency),
              String(l.averageFrequency),
              String(l.averageMonetary),
            ]),
          ),
        );
      });
    });
};
