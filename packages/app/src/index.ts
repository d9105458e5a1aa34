// @tactful/app: the CLI entry is `tactful` (dist/cli.js); this door exposes it for embedding and tests.
export { runCli, buildProgram } from './cli/program.js';
export type { CliContext, CommandModule, GlobalOptions } from './cli/program.js';
export { CliExit, EXIT, processIo } from './cli/io.js';
export type { CliIo, ExitCode } from './cli/io.js';
