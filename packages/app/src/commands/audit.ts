import { accessSync, constants, createWriteStream, existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { TactfulError, type ChainVerification } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { CliExit, EXIT } from '../cli/io.js';
import { parseChoice, parseIsoDate } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

interface ExportFlags {
  format: string;
  since?: string;
  until?: string;
  email?: string;
  out?: string;
}

/** An --out the export could not write is refused before the store is opened, naming what to change. */
function checkOutFile(path: string, given: string): void {
  const folder = dirname(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory())
    throw new CliExit(
      EXIT.invalid,
      `--out ${given}: the folder ${folder} does not exist: create it or write elsewhere.`,
    );
  if (existsSync(path) && statSync(path).isDirectory())
    throw new CliExit(EXIT.invalid, `--out ${given} is a folder: name a file in it, e.g. ${join(given, 'audit.csv')}.`);
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new CliExit(EXIT.invalid, `--out ${given}: ${folder} is not writable for this user: write elsewhere.`);
  }
}

function describeBreak(name: string, v: ChainVerification): string {
  return v.ok
    ? `${name}: intact (${v.rows} rows)`
    : `${name}: BROKEN at row ${v.firstBreak!.seq} (${v.firstBreak!.reason}): ${v.firstBreak!.detail}`;
}

export const auditCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const audit = program.command('audit').description('the append-only audit log');

  audit
    .command('export')
    .description('stream the audit log as CSV or JSON Lines')
    .option('--format <format>', 'csv|jsonl', 'csv')
    .option('--since <iso>', 'entries at or after this time')
    .option('--until <iso>', 'entries at or before this time')
    .option('--email <email>', "only this customer's entries")
    .option('--out <file>', 'write to a file instead of stdout')
    .action(async (flags: ExportFlags) => {
      const format = parseChoice(flags.format, '--format', ['csv', 'jsonl'] as const);
      const since = flags.since ? parseIsoDate(flags.since, '--since') : undefined;
      const until = flags.until ? parseIsoDate(flags.until, '--until') : undefined;
      if (flags.out !== undefined) checkOutFile(resolve(ctx.io.cwd, flags.out), flags.out);
      await withEngine(ctx, async (tactful) => {
        let subjectId: string | undefined;
        if (flags.email) {
          const found = await tactful.audit.subjectIdOf(flags.email);
          if (!found)
            throw new TactfulError(
              'SUBJECT.NOT_FOUND',
              `No customer with email ${flags.email} in shop ${tactful.shopId}.`,
            );
          subjectId = found;
        }
        const chunks = tactful.audit.export(format, { subjectId, since, until });
        if (!flags.out) {
          for await (const chunk of chunks) ctx.io.stdout(chunk);
          return;
        }
        const path = resolve(ctx.io.cwd, flags.out);
        const file = createWriteStream(path);
        let entries = 0;
        for await (const chunk of chunks) {
          entries += 1;
          if (!file.write(chunk)) await once(file, 'drain');
        }
        file.end();
        await once(file, 'close');
        ctx.io.stderr(`wrote ${format === 'csv' ? entries - 1 : entries} entries to ${path}\n`);
      });
    });

  audit
    .command('verify')
    .description('check the hash chains of the consent ledger and the audit log (exit 1 on the first bad row)')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const result = await tactful.audit.verify();
        if (flags.json) ctx.json(result);
        else {
          ctx.line(describeBreak('consent ledger', result.ledger));
          ctx.line(describeBreak('audit log', result.audit));
        }
        if (!result.ledger.ok || !result.audit.ok) {
          const bad = !result.ledger.ok
            ? describeBreak('consent ledger', result.ledger)
            : describeBreak('audit log', result.audit);
          throw new CliExit(EXIT.refused, `the chain is broken: ${bad}`);
        }
      });
    });
};
