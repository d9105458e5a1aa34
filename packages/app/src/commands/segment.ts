import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseSegmentJson, TactfulError } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

/** Reads a file named on the command line; a missing or unreadable file is an input error (exit 2). */
export function readInputFile(ctx: CliContext, file: string, flag: string): string {
  try {
    return readFileSync(resolve(ctx.io.cwd, file), 'utf8');
  } catch (cause) {
    throw new TactfulError(
      'INPUT.INVALID',
      `${flag} ${file} cannot be read: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}.`,
      { cause },
    );
  }
}

export const segmentCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const segment = program
    .command('segment')
    .description('customer segments (JSON segment language, see docs/privacy.md)');

  segment
    .command('preview')
    .description('how many customers a segment selects, and a sample of them')
    .requiredOption('--file <segment.json>', 'the segment definition')
    .option('--sample <n>', 'how many members to show', '10')
    .option('--json', 'print as JSON')
    .action(async (flags: { file: string; sample: string; json?: boolean }) => {
      const definition = parseSegmentJson(readInputFile(ctx, flags.file, '--file'));
      const sample = parsePositiveInt(flags.sample, '--sample');
      await withEngine(ctx, async (tactful) => {
        const preview = await tactful.segments.preview(definition, sample);
        if (flags.json) return ctx.json(preview);
        ctx.line(`${preview.count} of ${preview.profiles} profiles match`);
        if (preview.sample.length > 0)
          ctx.line(
            table(
              ['email', 'subject'],
              preview.sample.map((s) => [s.email, s.subjectId]),
            ),
          );
      });
    });
};
