import type { Command } from 'commander';
import type { CliContext, CommandModule } from '../cli/program.js';

export const demoCommand: CommandModule = (program: Command, ctx: CliContext) => {
  program
    .command('demo')
    .description(
      'run the demo on a fresh embedded database (.tactful/demo), then keep the dashboard up behind a sign-in link',
    )
    .option('--data <folder>', 'where the demo database lives (wiped first; the global --db names it too)')
    .option('--customers <n>', 'customers of the demo shop (the 9 835 Groceries orders are shared among them)', '2000')
    .option('--orders <n>', 'orders of the demo shop (default all 9 835 Groceries baskets; fewer run quicker)')
    .option('--port <port>', 'where the dashboard listens on 127.0.0.1 (0 picks a free port)', '3000')
    .option('--no-serve', 'stop after the pipeline instead of keeping the dashboard up (scripts, CI)')
    .addHelpText(
      'after',
      `
The dashboard holds the demo database while it runs: stop it (Ctrl-C) before running other commands on it.`,
    )
    .action(async (flags: { data?: string; customers: string; orders?: string; port: string; serve: boolean }) => {
      // The demo (its sandboxes, pipeline and dashboard) loads when it runs, not at every start of the CLI.
      const { checkDemoFlags, runDemo } = await import('../demo/run.js');
      // Every flag is checked before anything is wiped or started.
      const plan = checkDemoFlags(ctx, flags, {
        db: program.getOptionValueSource('db') === 'cli' ? ctx.globals().db : undefined,
      });
      await runDemo(ctx, plan);
    });
};
