import { basename, resolve } from 'node:path';
import {
  DEFAULT_EASE_ITEMS,
  TactfulError,
  evaluateNextOrder,
  evaluateRecommendations,
  evaluatedModels,
  readBaskets,
  scoreNames,
  type EvaluatedModel,
  type EvaluationMetrics,
  type ScoreName,
} from '@tactful/core';
import type { Command } from 'commander';
import { parseChoice, parseIsoDate, parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

interface EvaluateFlags {
  baskets: string;
  format?: string;
  k: string;
  seed: string;
  score?: string;
  models?: string;
  easeItems: string;
  protocol: string;
  cut?: string;
  halfLifeDays: string;
  json?: boolean;
}

function parseSeeds(value: string): number[] {
  const seeds = value.split(',').map((part) => part.trim());
  if (seeds.length === 0 || seeds.some((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s))))
    throw new TactfulError('INPUT.INVALID', `--seed "${value}" must be a whole number ≥ 0, or several: 1,2,3.`);
  return [...new Set(seeds.map(Number))];
}

function parseModels(value: string | undefined): EvaluatedModel[] {
  if (value === undefined) return [...evaluatedModels];
  return value.split(',').map((name) => parseChoice(name.trim(), '--models', evaluatedModels));
}

const protocols = ['leave-one-out', 'next-order'] as const;
const metricKeys: Array<keyof EvaluationMetrics> = ['hitRate', 'ndcg', 'mrr', 'coverage'];

/** Metric by metric mean over runs. */
function mean(runs: ReadonlyArray<Partial<Record<EvaluatedModel, EvaluationMetrics>>>) {
  const out: Partial<Record<EvaluatedModel, EvaluationMetrics>> = {};
  for (const name of evaluatedModels) {
    if (!runs[0]?.[name]) continue;
    const m = { hitRate: 0, ndcg: 0, mrr: 0, coverage: 0 };
    for (const run of runs) for (const key of metricKeys) m[key] += run[name]![key] / runs.length;
    out[name] = m;
  }
  return out;
}

export const evaluateCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('evaluate')
    .description(
      'offline evaluation of the recommendations: Tactful beside the previous pair ranking, popularity, item-kNN and EASE',
    )
    .requiredOption('--baskets <file>', 'the baskets or order lines to read')
    .option('--format <format>', 'basket-csv | fimi | shopify-csv | jsonl (guessed from the file when omitted)')
    .option('--k <n>', 'length of each recommendation list', '10')
    .option('--seed <n[,n...]>', 'seed of the split (several, comma-separated, are averaged)', '42')
    .option('--score <name>', `pair ranking score: ${scoreNames.join(' | ')} (default: the model's)`)
    .option('--models <list>', `rankings to compute, comma-separated: ${evaluatedModels.join(', ')} (default all)`)
    .option('--ease-items <n>', 'products the fitted model covers (the most frequent)', String(DEFAULT_EASE_ITEMS))
    .option(
      '--protocol <name>',
      'leave-one-out (hide one product of held-out baskets) | next-order (customers with dates: train before --cut, score the next order)',
      'leave-one-out',
    )
    .option('--cut <date>', 'next-order: the cut date (default: 80 % of the orders before it)')
    .option('--half-life-days <n>', 'next-order: a purchase this many days before the cut weighs half', '90')
    .option('--json', 'print as JSON')
    .action(async (flags: EvaluateFlags) => {
      const k = parsePositiveInt(flags.k, '--k');
      const seeds = parseSeeds(flags.seed);
      const score: ScoreName | undefined =
        flags.score === undefined ? undefined : parseChoice(flags.score, '--score', scoreNames);
      const models = parseModels(flags.models);
      const easeItems = parsePositiveInt(flags.easeItems, '--ease-items');
      const protocol = parseChoice(flags.protocol, '--protocol', protocols);
      const cut = flags.cut === undefined ? undefined : parseIsoDate(flags.cut, '--cut');
      const halfLifeDays = parsePositiveInt(flags.halfLifeDays, '--half-life-days');
      const file = resolve(ctx.io.cwd, flags.baskets);
      const neighbours = score ? { score } : undefined;
      const runs = [];
      let format = '';
      for (const seed of seeds) {
        const read = await readBaskets(file, flags.format);
        format = read.format;
        if (protocol === 'next-order') {
          runs.push(
            await evaluateNextOrder(read.baskets, { k, seed, cut, halfLifeDays, neighbours, easeItems, models }),
          );
          continue;
        }
        const result = await evaluateRecommendations(read.baskets, { k, seed, neighbours, easeItems, models });
        if (result.heldOut === 0)
          throw new TactfulError(
            'INPUT.INVALID',
            `${flags.baskets} has no basket with two or more products (read as ${format}): nothing to hold out.`,
          );
        runs.push(result);
      }
      const averaged = mean(runs.map((r) => r.models));
      if (flags.json) {
        if (runs.length === 1) ctx.json({ file: flags.baskets, format, protocol, ...runs[0]! });
        else ctx.json({ file: flags.baskets, format, protocol, seeds, mean: averaged, runs });
        return;
      }
      const first = runs[0]!;
      const seedText = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds.join(', ')}, means`;
      const fitText = `fitted model: EASE on ${first.ease.items} products, λ ${first.ease.lambda.toFixed(0)} from a validation split of the training orders`;
      if ('heldOut' in first) {
        ctx.line(
          `Leave-one-out on ${basename(flags.baskets)} (${format}): ${first.baskets} baskets, ${first.eligible} with ≥ 2 products, ` +
            `${first.heldOut} held out (${seedText}), one product hidden from each; ${fitText}; pairs: ${first.neighbours.score}, ` +
            `K ${first.neighbours.k}, count ≥ ${first.neighbours.minCount}, G² ≥ ${first.neighbours.minLlr}`,
        );
      } else {
        ctx.line(
          `Next order on ${basename(flags.baskets)} (${format}): ${first.trainOrders} orders before ${first.cut.slice(0, 10)} train, ` +
            `${first.customers} customers' next order after it scored on products new to them (${seedText}); ` +
            `history weighted by a ${first.halfLifeDays}-day half-life; ${fitText}`,
        );
      }
      const shown = evaluatedModels.filter((m) => averaged[m] && m !== 'tactful' && m !== 'popularity');
      const names: Record<EvaluatedModel, string> = {
        tactful: 'tactful',
        pairs: 'pairs',
        popularity: 'popularity',
        'item-knn': 'item-kNN',
        'ease-full': 'EASE (all)',
      };
      const row = (label: string, key: keyof EvaluationMetrics) => {
        const t = averaged.tactful![key];
        const p = averaged.popularity![key];
        const ratio = p === 0 ? (t === 0 ? 1 : Infinity) : t / p;
        return [
          label,
          t.toFixed(4),
          p.toFixed(4),
          `${ratio.toFixed(3)}×`,
          ...shown.map((m) => averaged[m]![key].toFixed(4)),
        ];
      };
      ctx.line(
        table(
          ['metric', 'tactful', 'popularity', 'ratio', ...shown.map((m) => names[m])],
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
