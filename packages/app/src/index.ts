// @tactful/app: the CLI entry is `tactful` (dist/cli.js); this door exposes it for embedding and tests.
export { runCli, buildProgram } from './cli/program.js';
export type { CliContext, CommandModule, GlobalOptions } from './cli/program.js';
export { CliExit, EXIT, processIo } from './cli/io.js';
export type { CliIo, ExitCode } from './cli/io.js';
// the Express app, for developers mounting Tactful into their own server
export { createApp } from './server/app.js';
export type { CreateAppOptions, TactfulApp } from './server/app.js';
export { serveConfig, readServeConfig } from './server/config.js';
export type { ServeConfig } from './server/config.js';
export { startServer } from './server/start.js';
export type { RunningServer } from './server/start.js';
