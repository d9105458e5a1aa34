import { TactfulError, type ShopSettingsInput } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parseChoice, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

interface SetFlags {
  senderName?: string;
  senderEmail?: string;
  senderAddress?: string;
  doubleOptIn?: string;
  sensitiveCategories?: string;
  json?: boolean;
}

export const settingsCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const settings = program.command('settings').description("the shop's settings: sender identity, double opt-in");

  settings
    .command('show')
    .description('print the settings')
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const s = await tactful.settings.get();
        if (flags.json) return ctx.json(s);
        ctx.line(
          table(
            ['setting', 'value'],
            [
              ['double opt-in required', s.requireDoubleOptIn ? 'yes' : 'no'],
              ['sender', s.sender ? `${s.sender.name} <${s.sender.email}>` : '(not set: campaigns cannot be sent)'],
              ['postal address', s.sender?.postalAddress ?? '(not set)'],
              ['connected systems', s.connectedSystems.join(', ') || '(none)'],
              ['sensitive categories', s.sensitiveCategories.join(', ') || '(none)'],
            ],
          ),
        );
      });
    });

  settings
    .command('set')
    .description('change settings; the sender needs all three of name, reply address and postal address the first time')
    .option('--sender-name <name>', 'the name emails are from')
    .option('--sender-email <address>', 'the reply address')
    .option('--sender-address <postal>', 'the postal address every email carries (anti-spam law)')
    .option('--double-opt-in <yes|no>', 'mail only people who confirmed by double opt-in')
    .option(
      '--sensitive-categories <list>',
      'catalogue categories whose purchases are used only with the customer\'s opt-in, comma-separated ("" for none)',
    )
    .option('--json', 'print the new settings as JSON')
    .action(async (flags: SetFlags) => {
      const senderGiven = [flags.senderName, flags.senderEmail, flags.senderAddress].some((v) => v !== undefined);
      if (!senderGiven && flags.doubleOptIn === undefined && flags.sensitiveCategories === undefined) {
        throw new TactfulError(
          'INPUT.INVALID',
          'Nothing to set: give --sender-name/--sender-email/--sender-address, --double-opt-in yes|no or --sensitive-categories.',
        );
      }
      const doubleOptIn =
        flags.doubleOptIn === undefined
          ? undefined
          : parseChoice(flags.doubleOptIn, '--double-opt-in', ['yes', 'no'] as const) === 'yes';
      await withEngine(ctx, async (tactful) => {
        const current = await tactful.settings.get();
        const patch: ShopSettingsInput = {};
        if (senderGiven) {
          patch.sender = {
            name: flags.senderName ?? current.sender?.name ?? '',
            email: flags.senderEmail ?? current.sender?.email ?? '',
            postalAddress: flags.senderAddress ?? current.sender?.postalAddress ?? '',
          };
        }
        if (doubleOptIn !== undefined) patch.requireDoubleOptIn = doubleOptIn;
        if (flags.sensitiveCategories !== undefined) {
          patch.sensitiveCategories = [
            ...new Set(
              flags.sensitiveCategories
                .split(',')
                .map((c) => c.trim())
                .filter(Boolean),
            ),
          ];
        }
        const next = await tactful.settings.update(patch, { type: 'cli', id: 'settings set' });
        if (flags.json) return ctx.json(next);
        ctx.line('settings saved');
      });
    });
};
