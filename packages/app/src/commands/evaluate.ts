import { basename, resolve } from 'node:path';
import {
  TactfulError,
  evaluateRecommendations,
  readBaskets,
  scoreNames,
  type EvaluationMetrics,
  type ScoreName,
} from '@tactful/core';
import type { Command } from 'commander';
import { parseChoice, parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

interface EvaluateFlags {
  baskets: string;
  format?: string;
  k: string;
  seed: string;
  score?: string;
  json?: boolean;
}

function parseSeed(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n))
    throw new TactfulError('INPUT.INVALID', `--seed "${value}" must be a whole number ≥ 0.`);
  return n;
}

export const evaluateCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('evaluate')
    .description('leave-one-out evaluation of the recommendations against a popularity baseline')
    .requiredOption('--baskets <file>', 'the baskets or order lines to read')
    .option('--format <format>', 'basket-csv | fimi | shopify-csv | jsonl (guessed from the file when omitted)')
    .option('--k <n>', 'length of each recommendation list', '10')
    .option('--seed <n>', 'seed of the hold-out split', '42')
    .option('--score <name>', `neighbour ranking score to evaluate: ${scoreNames.join(' | ')} (default: the model's)`)
    .option('--json', 'print as JSON')
    .action(async (flags: EvaluateFlags) => {
      const k = parsePositiveInt(flags.k, '--k');
      const seed = parseSeed(flags.seed);
      const score: ScoreName | undefined =
        flags.score === undefined ? undefined : parseChoice(flags.score, '--score', scoreNames);
      const { format, baskets } = await readBaskets(resolve(ctx.io.cwd, flags.baskets), flags.format);
      const result = await evaluateRecommendations(baskets, { k, seed, neighbours: score ? { score } : undefined });
      if (result.heldOut === 0)
        throw new TactfulError(
          'INPUT.INVALID',
          `${flags.baskets} has no basket with two or more products (read as ${format}): nothing to hold out.`,
        );
      if (flags.json) {
        ctx.json({ file: flags.baskets, format, ...result });
        return;
      }
      ctx.line(
        `Leave-one-out on ${basename(flags.baskets)} (${format}): ${result.baskets} baskets, ${result.eligible} with ≥ 2 products, ` +
          `${result.heldOut} held out (seed ${seed}), one product hidden from each; model: ${result.neighbours.score}, ` +
          `K ${result.neighbours.k}, count ≥ ${result.neighbours.minCount}, G² ≥ ${result.neighbours.minLlr}`,
      );
      const row = (name: string, key: keyof EvaluationMetrics) => [
        name,
        result.tactful[key].toFixed(4),
        result.popularity[key].toFixed(4),
        `${result.ratio[key].toFixed(3)}×`,
      ];
      ctx.line(
        table(
          ['metric', 'tactful', 'popularity', 'ratio'],
          [
            row(`HitRate@${k}`, 'hitRate'),
            row(`NDCG@${k}`, 'ndcg'),
            row(`MRR@${k}`, 'mrr'),
            row('coverage', 'coverage'),
          ],
        ),
      );
    });
};
