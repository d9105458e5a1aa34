import { resolve } from 'node:path';
import { TactfulError, mineRules, readBaskets } from '@tactful/core';
import type { Command } from 'commander';
import { tableLines } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

interface RulesFlags {
  baskets: string;
  format?: string;
  minSupport: string;
  minConfidence: string;
  json?: boolean;
}

/** A share given on the command line: a number in (0, 1] (or [0, 1] when zero is allowed). */
export function parseShare(value: string, flag: string, allowZero: boolean): number {
  const n = Number(value);
  const ok = value.trim() !== '' && Number.isFinite(n) && n <= 1 && (allowZero ? n >= 0 : n > 0);
  if (!ok)
    throw new TactfulError(
      'INPUT.INVALID',
      `${flag} "${value}" must be a number ${allowZero ? 'from 0' : 'above 0'} up to 1, e.g. 0.01.`,
    );
  return n;
}

const label = (item: string) => `{${item}}`;
const fixed = (x: number, digits: number) => x.toFixed(digits);

export const rulesCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('rules')
    .description('co-purchase rules A→B of a baskets file: support, confidence, coverage, lift, count and G²')
    .requiredOption('--baskets <file>', 'the baskets or order lines to read')
    .option('--format <format>', 'basket-csv | fimi | shopify-csv | jsonl (guessed from the file when omitted)')
    .option('--min-support <share>', 'keep rules whose pair is in at least this share of baskets, in (0, 1]', '0.01')
    .option('--min-confidence <share>', 'keep rules with at least this confidence, in [0, 1]', '0.3')
    .option('--json', 'print as JSON')
    .action(async (flags: RulesFlags) => {
      const minSupport = parseShare(flags.minSupport, '--min-support', false);
      const minConfidence = parseShare(flags.minConfidence, '--min-confidence', true);
      const file = resolve(ctx.io.cwd, flags.baskets);
      const { format, baskets } = await readBaskets(file, flags.format);
      // Pairs of products below the support threshold are never counted (apriori's pruning), so a low-support
      // run over a big catalogue holds only the pairs that could become rules.
      const mined = await mineRules(baskets, { minSupport, minConfidence });
      if (mined.basketCount === 0)
        throw new TactfulError(
          'INPUT.INVALID',
          `${flags.baskets} holds no baskets (read as ${format}); check --format.`,
        );
      const { rules } = mined;
      if (flags.json) {
        // Streamed: a support threshold of 1e-4 on a supermarket's baskets gives over 100 000 rules.
        const head = JSON.stringify({
          file: flags.baskets,
          format,
          baskets: mined.basketCount,
          products: mined.productCount,
          minSupport,
          minConfidence,
        });
        let chunk = `${head.slice(0, -1)},"rules":[`;
        rules.forEach((rule, i) => {
          chunk += `${i === 0 ? '\n' : ',\n'}${JSON.stringify(rule)}`;
          if (chunk.length > 1 << 16) {
            ctx.io.stdout(chunk);
            chunk = '';
          }
        });
        ctx.io.stdout(`${chunk}\n]}\n`);
        return;
      }
      ctx.line(
        `${rules.length} rules from ${mined.basketCount} baskets (${format}), support ≥ ${minSupport}, confidence ≥ ${minConfidence}, by lift`,
      );
      if (rules.length === 0) return;
      const rows = rules.map((r) => [
        label(r.lhs),
        label(r.rhs),
        fixed(r.support, 6),
        fixed(r.confidence, 6),
        fixed(r.coverage, 6),
        fixed(r.lift, 4),
        String(r.count),
        fixed(r.llr, 2),
      ]);
      let chunk = '';
      for (const line of tableLines(
        ['lhs', 'rhs', 'support', 'confidence', 'coverage', 'lift', 'count', 'llr'],
        rows,
      )) {
        chunk += `${line}\n`;
        if (chunk.length > 1 << 16) {
          ctx.io.stdout(chunk);
          chunk = '';
        }
      }
      ctx.io.stdout(chunk);
    });
};
