import { statedReason, TactfulError } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const fixed = (x: number, d = 3) => x.toFixed(d);

export const recommendCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('recommend')
    .description(
      'recommendations from the imported orders: for a customer (needs personalization consent) or related to a product',
    )
    .option('--customer <email|id>', 'a customer by email or platform customer id')
    .option('--product <id>', 'a product id (kept exactly)')
    .option('--k <n>', 'how many', '10')
    .option(
      '--refit',
      'refit the jointly fitted model from the current counts now (it refits by itself past 5 % more orders)',
    )
    .option('--json', 'print as JSON')
    .action(async (flags: { customer?: string; product?: string; k: string; refit?: boolean; json?: boolean }) => {
      if (flags.customer && flags.product)
        throw new TactfulError('INPUT.INVALID', 'Give exactly one of --customer EMAIL|ID or --product ID.');
      if (!flags.customer && !flags.product && !flags.refit)
        throw new TactfulError(
          'INPUT.INVALID',
          'Give exactly one of --customer EMAIL|ID or --product ID (or --refit).',
        );
      const k = parsePositiveInt(flags.k, '--k');
      await withEngine(ctx, async (tactful) => {
        if (flags.refit) {
          const fit = await tactful.recommend.refit();
          const summary = fit
            ? {
                products: fit.productIds.length,
                baskets: fit.basketCount,
                lambda: fit.lambda,
                fitMs: fit.fitMs,
                fittedAt: new Date(fit.fittedAt).toISOString(),
              }
            : null;
          if (!flags.customer && !flags.product) {
            if (flags.json) return ctx.json({ fit: summary });
            ctx.line(
              summary
                ? `refitted: EASE on ${summary.products} products from ${summary.baskets} orders, λ ${summary.lambda.toFixed(1)}, in ${(summary.fitMs / 1000).toFixed(2)} s`
                : 'too few orders to fit: the pair scores rank alone',
            );
            return;
          }
        }
        if (flags.product) {
          const related = await tactful.recommend.related(flags.product, k);
          if (flags.json) return ctx.json({ product: flags.product, related });
          ctx.line(`related to ${flags.product}:`);
          ctx.line(
            table(
              ['product', 'score', 'confidence', 'lift', 'count', 'llr'],
              related.map((r) => [
                r.product?.title ?? r.productId,
                fixed(r.score),
                fixed(r.stats.confidence),
                fixed(r.stats.lift),
                String(r.stats.count),
                fixed(r.stats.llr, 1),
              ]),
            ),
          );
          return;
        }
        const result = await tactful.recommend.forCustomer(flags.customer!, { k });
        if (flags.json) return ctx.json(result);
        ctx.line(`for ${flags.customer} (${result.purchases} orders):`);
        ctx.line(
          table(
            ['product', 'score', 'why'],
            result.recommendations.map((r) => {
              const top = r.reasons.find((x) => x.kind === 'bought-with') ?? r.reasons[0];
              const why =
                top?.kind === 'bought-with'
                  ? `because you bought ${top.becauseTitle ?? top.because} (${top.statistic} ${fixed(top.value)})`
                  : statedReason(r).replace(/^./, (c) => c.toLowerCase());
              return [r.product.title, fixed(r.score), why];
            }),
          ),
        );
      });
    });
};
