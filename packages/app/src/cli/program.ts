import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { isTactfulError } from '@tactful/core';
import { CliExit, EXIT, exitCodeFor, type CliIo } from './io.js';
import { commandModules } from '../commands/index.js';

export interface GlobalOptions {
  db: string;
  shop: string;
}

/** What every command gets: its io, and the global options resolved from flags and env. */
export interface CliContext {
  io: CliIo;
  globals(): GlobalOptions;
  /** Writes `value` as JSON (one document, newline-terminated). */
  json(value: unknown): void;
  /** Writes one line to stdout. */
  line(text?: string): void;
}

export type CommandModule = (program: Command, ctx: CliContext) => void;

/** The version of @tactful/app, read from its package.json (one folder up from src/ and from dist/). */
export function appVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === '@tactful/app' && pkg.version) return pkg.version;
    } catch {
      // not here: one folder up
    }
  }
  return 'unknown';
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('tactful');
  program
    .description('Tactful: personal related-product email with consent and privacy as hard guarantees.')
    .version(appVersion(), '-V, --version', 'print the version of tactful')
    .option('--db <target>', 'a folder (PGlite), memory:// or a postgres:// URL', io.env.TACTFUL_DB ?? '.tactful/db')
    .option('--shop <domain>', 'the shop to act on', io.env.TACTFUL_SHOP ?? 'demo.myshopify.com')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .showHelpAfterError(false);

  const ctx: CliContext = {
    io,
    globals: () => program.opts<GlobalOptions>(),
    json: (value) => io.stdout(`${JSON.stringify(value, jsonReplacer, 2)}\n`),
    line: (text = '') => io.stdout(`${text}\n`),
  };
  for (const register of commandModules) register(program, ctx);
  // Sub-commands inherit exit override and output so tests see everything.
  const inherit = (cmd: Command) => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    cmd.commands.forEach(inherit);
  };
  program.commands.forEach(inherit);
  return program;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code; never calls process.exit. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0)
        return EXIT.ok;
      // commander already printed its message (unknown option, missing argument): that is invalid input.
      return EXIT.invalid;
    }
    const code = exitCodeFor(error);
    const message =
      error instanceof CliExit || isTactfulError(error) ? error.message : String((error as Error)?.stack ?? error);
    const prefix = isTactfulError(error) ? `error ${error.code}: ` : 'error: ';
    io.stderr(`${prefix}${message}\n`);
    return code;
  }
}
