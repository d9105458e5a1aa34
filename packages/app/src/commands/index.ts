import type { CommandModule } from '../cli/program.js';

/** Every top-level command of `tactful`, in the order `--help` lists them. */
export const commandModules: CommandModule[] = [];
