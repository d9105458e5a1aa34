import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { CliExit, EXIT } from '../cli/io.js';
import type { CliContext, CommandModule } from '../cli/program.js';
import { adapterFiles, adapterNames, type AdapterKind } from './new-adapter/templates.js';

interface NewAdapterFlags {
  kind: string;
  dir?: string;
}

const namePattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const kinds: readonly AdapterKind[] = ['platform', 'provider'];

/** Checks NAME, --kind and --dir; throws CliExit(2) naming what is wrong. Writes nothing. */
async function checkInput(
  name: string,
  flags: NewAdapterFlags,
  cwd: string,
): Promise<{ kind: AdapterKind; dir: string }> {
  const problems: string[] = [];
  if (!namePattern.test(name) || name.length > 40) {
    problems.push(
      `NAME "${name}" must be lower-case letters and digits in words joined by single dashes, starting with a letter, at most 40 characters (e.g. woocommerce, acme-mail).`,
    );
  }
  if (!kinds.includes(flags.kind as AdapterKind))
    problems.push(
      `--kind "${flags.kind}" must be platform (a CommercePlatform: orders, customers, products) or provider (an EmailProvider: members, campaigns).`,
    );
  const dir = resolve(cwd, flags.dir ?? `tactful-adapter-${namePattern.test(name) ? name : 'x'}`);
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory())
    problems.push(`--dir ${dir} exists and is not a folder: choose another place.`);
  else if (existing && (await readdir(dir)).length > 0)
    problems.push(`--dir ${dir} exists and is not empty: choose a new or empty folder (nothing was overwritten).`);
  if (problems.length > 0) throw new CliExit(EXIT.invalid, `${problems.join('\n')}\nNothing was written.`);
  return { kind: flags.kind as AdapterKind, dir };
}

/** Writes every file into a staging folder beside `dir`, then renames it into place: all or nothing. */
async function writePackage(dir: string, files: Record<string, string>): Promise<void> {
  const staging = join(dirname(dir), `.tactful-new-adapter-${randomBytes(4).toString('hex')}`);
  try {
    for (const [path, content] of Object.entries(files)) {
      const target = join(staging, path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content, { flag: 'wx' });
    }
    await rmdir(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
    await rename(staging, dir);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export const newCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const group = program.command('new').description('generate a starting point');
  group
    .command('adapter')
    .description(
      'generate an adapter package wired to the conformance suite (its methods throw ADAPTER.NOT_IMPLEMENTED until written)',
    )
    .argument('<name>', 'the system name, lower-case with dashes (e.g. woocommerce, acme-mail)')
    .requiredOption('--kind <kind>', 'platform (CommercePlatform) or provider (EmailProvider)')
    .option('--dir <dir>', 'where to create the package (default: ./tactful-adapter-NAME); must be new or empty')
    .action(async (name: string, flags: NewAdapterFlags) => {
      const { kind, dir } = await checkInput(name, flags, ctx.io.cwd);
      await mkdir(dirname(dir), { recursive: true });
      const names = adapterNames(name, kind);
      const files = adapterFiles(names);
      await writePackage(dir, files);
      const shown = relative(ctx.io.cwd, dir) || '.';
      ctx.line(
        `Created ${names.packageName} (${kind === 'platform' ? 'CommercePlatform' : 'EmailProvider'}) in ${shown}:`,
      );
      for (const path of Object.keys(files)) ctx.line(`  ${path}`);
      ctx.line('');
      ctx.line(`Next: cd ${shown} && npm install && npm test`);
      ctx.line(
        `The conformance suite runs at once and fails on each method still throwing ADAPTER.NOT_IMPLEMENTED; write ${names.factory} in src/index.ts until it passes.`,
      );
    });
};
