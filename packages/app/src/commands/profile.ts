import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '');

export const profileCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const profile = program.command('profile').description('customer profiles');

  profile
    .command('show')
    .description("a customer's identity, attributes with provenance, order summary and RFM")
    .requiredOption('--email <email>', 'the customer')
    .option('--json', 'print as JSON')
    .action(async (flags: { email: string; json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const view = await tactful.profiles.show(flags.email);
        if (flags.json) return ctx.json(view);
        ctx.line(`${view.email} (subject ${view.subjectId}) in ${tactful.shopId}`);
        const ids = Object.entries(view.externalIds);
        if (ids.length > 0) ctx.line(`ids: ${ids.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        const p = view.profile;
        if (!p) {
          ctx.line('no profile: personalization is not granted, so nothing beyond identity is held');
          return;
        }
        const attrs = Object.entries(p.attributes);
        if (attrs.length > 0) {
          ctx.line(table(['attribute', 'value', 'source', 'updated'], attrs.map(([k, a]) => [k, Array.isArray(a!.value) ? a!.value.join(', ') : a!.value, a!.source, a!.updatedAt])));
        }
        ctx.line(`orders: ${p.orders.count}, revenue ${p.orders.revenue.toFixed(2)}, average ${p.orders.averageOrderValue.toFixed(2)}, first ${iso(p.orders.firstOrderAt)}, last ${iso(p.orders.lastOrderAt)}`);
        if (p.age !== null) ctx.line(`age: ${p.age}`);
        ctx.line(p.rfm ? `rfm: R${p.rfm.recency} F${p.rfm.frequency} M${p.rfm.monetary} (${p.rfm.label})` : 'rfm: none (no counted order)');
        if (p.products.length > 0) ctx.line(`products: ${p.products.map((x) => `${x.title} ×${x.quantity}`).join(', ')}`);
        if (p.categories.length > 0) ctx.line(`categories: ${p.categories.map((c) => `${c.category} ×${c.quantity}`).join(', ')}`);
      });
    });
};
