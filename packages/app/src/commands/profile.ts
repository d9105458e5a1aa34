import { emailAddress, formatMoney, TactfulError, type ProfileAttributesInput } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '');

/** The actor of a correction made by the shop on the customer's request (support ticket, email, phone). */
/**
 * Who a command is about: `--email E`, as in every command; the address alone (`profile set E`) is accepted
 * too, since it cannot be mistaken for anything else. Both, differing, is refused.
 */
export function customerEmail(positional: string | undefined, flag: string | undefined, command: string): string {
  if (positional !== undefined && flag !== undefined && positional.trim() !== flag.trim())
    throw new TactfulError(
      'INPUT.INVALID',
      `${command}: "${positional}" and --email ${flag} name two customers: give one, as --email <address>.`,
    );
  const email = flag ?? positional;
  if (email === undefined || email.trim() === '')
    throw new TactfulError('INPUT.INVALID', `${command}: name the customer with --email <address>.`);
  if (!emailAddress.safeParse(email).success)
    throw new TactfulError(
      'INPUT.INVALID',
      `${command}: "${email}" is not a valid email address: name the customer as --email kim@example.com.`,
    );
  return email;
}

const cliActor = (command: string) => ({ type: 'cli' as const, id: `profile ${command}` });

interface SetFlags {
  firstName?: string;
  lastName?: string;
  gender?: string;
  birthDate?: string;
  country?: string;
  region?: string;
  city?: string;
  jobTitle?: string;
  interests?: string;
  json?: boolean;
}

const settable = [
  'firstName',
  'lastName',
  'gender',
  'birthDate',
  'country',
  'region',
  'city',
  'jobTitle',
  'interests',
] as const;

export const profileCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const profile = program.command('profile').description('customer profiles');

  profile
    .command('show')
    .description("a customer's identity, attributes with provenance, order summary and RFM")
    .requiredOption('--email <email>', 'the customer')
    .option('--json', 'print as JSON')
    .action(async (flags: { email: string; json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const view = await tactful.profiles.show(flags.email);
        if (flags.json) return ctx.json(view);
        const { currency } = await tactful.settings.get();
        ctx.line(`${view.email} (subject ${view.subjectId}) in ${tactful.shopId}`);
        const ids = Object.entries(view.externalIds);
        if (ids.length > 0) ctx.line(`ids: ${ids.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        const p = view.profile;
        if (!p) {
          ctx.line('no profile: personalization is not granted, so nothing beyond identity is held');
          return;
        }
        const attrs = Object.entries(p.attributes);
        if (attrs.length > 0) {
          ctx.line(
            table(
              ['attribute', 'value', 'source', 'updated'],
              attrs.map(([k, a]) => [
                k,
                Array.isArray(a!.value) ? a!.value.join(', ') : a!.value,
                a!.source,
                a!.updatedAt,
              ]),
            ),
          );
        }
        ctx.line(
          `orders: ${p.orders.count}, revenue ${formatMoney(p.orders.revenue, currency)}, average ${formatMoney(p.orders.averageOrderValue, currency)}, first ${iso(p.orders.firstOrderAt)}, last ${iso(p.orders.lastOrderAt)}`,
        );
        if (p.age !== null) ctx.line(`age: ${p.age}`);
        ctx.line(
          p.rfm
            ? `rfm: R${p.rfm.recency} F${p.rfm.frequency} M${p.rfm.monetary} (${p.rfm.label})`
            : 'rfm: none (no counted order)',
        );
        if (p.products.length > 0)
          ctx.line(`products: ${p.products.map((x) => `${x.title} ×${x.quantity}`).join(', ')}`);
        if (p.categories.length > 0)
          ctx.line(`categories: ${p.categories.map((c) => `${c.category} ×${c.quantity}`).join(', ')}`);
        const prefs = p.preferences;
        if (prefs.excludedProducts.length > 0)
          ctx.line(`excluded purchases ("not this"): ${prefs.excludedProducts.join(', ')}`);
        if (prefs.excludedCategories.length > 0)
          ctx.line(`excluded categories: ${prefs.excludedCategories.join(', ')}`);
        if (prefs.sensitiveOptIns.length > 0)
          ctx.line(`sensitive categories allowed: ${prefs.sensitiveOptIns.join(', ')}`);
      });
    });

  profile
    .command('set')
    .description(
      'a customer\'s correction of their own data (GDPR Art. 16), stored with source `customer`: it outranks imported values, is audited, and names reach Shopify and Mailchimp through the outbox. An empty value ("") removes a field.',
    )
    .argument('[email]', 'the customer (same as --email)')
    .option('--email <email>', 'the customer')
    .option('--first-name <name>')
    .option('--last-name <name>')
    .option('--gender <gender>')
    .option('--birth-date <YYYY-MM-DD>')
    .option('--country <ISO code>', 'two letters, e.g. BE')
    .option('--region <region>')
    .option('--city <city>')
    .option('--job-title <title>')
    .option('--interests <categories>', 'declared interests: catalogue categories, comma-separated ("" for none)')
    .option('--json', 'print the result as JSON')
    .action(async (positional: string | undefined, flags: SetFlags & { email?: string }) => {
      const email = customerEmail(positional, flags.email, 'profile set');
      const patch: Record<string, unknown> = {};
      for (const name of settable) {
        const value = flags[name];
        if (value === undefined) continue;
        if (name === 'interests')
          patch.interests =
            value.trim() === ''
              ? null
              : value
                  .split(',')
                  .map((v) => v.trim())
                  .filter(Boolean);
        else patch[name] = value.trim() === '' ? null : value;
      }
      if (Object.keys(patch).length === 0) {
        throw new TactfulError(
          'INPUT.INVALID',
          'Nothing to set: give at least one of --first-name, --last-name, --gender, --birth-date, --country, --region, --city, --job-title, --interests.',
        );
      }
      await withEngine(ctx, async (tactful) => {
        const result = await tactful.profiles.rectify(email, patch as ProfileAttributesInput, cliActor('set'));
        if (flags.json) return ctx.json(result);
        if (!result.stored) {
          ctx.line(
            'nothing stored: this customer has not allowed personalization, so no profile is kept beyond their address',
          );
          return;
        }
        ctx.line(
          result.changed.length > 0
            ? `corrected: ${result.changed.join(', ')} (source customer)`
            : 'nothing changed: the values were already these',
        );
      });
    });

  profile
    .command('exclude')
    .description(
      '"not this": exclude one past purchase or a whole category from the customer\'s personalisation (never a basis or a reason again); --undo takes it back',
    )
    .argument('[email]', 'the customer (same as --email)')
    .option('--email <email>', 'the customer')
    .option('--product <id>', 'a product the customer bought')
    .option('--category <name>', 'a category of the catalogue')
    .option('--undo', 'remove the exclusion')
    .option('--json', 'print the preferences as JSON')
    .action(
      async (
        positional: string | undefined,
        flags: { email?: string; product?: string; category?: string; undo?: boolean; json?: boolean },
      ) => {
        const email = customerEmail(positional, flags.email, 'profile exclude');
        if ((flags.product === undefined) === (flags.category === undefined)) {
          throw new TactfulError('INPUT.INVALID', 'Give exactly one of --product <id> or --category <name>.');
        }
        await withEngine(ctx, async (tactful) => {
          const target = flags.product !== undefined ? { productId: flags.product } : { category: flags.category! };
          const result = await tactful.preferences.exclude(
            email,
            target,
            { undo: flags.undo === true },
            cliActor('exclude'),
          );
          if (flags.json) return ctx.json(result);
          const what = flags.product !== undefined ? `product ${flags.product}` : `category ${flags.category}`;
          ctx.line(
            result.changed ? `${flags.undo ? 'no longer excluded' : 'excluded'}: ${what}` : `already excluded: ${what}`,
          );
          const p = result.preferences;
          ctx.line(
            `excluded products: ${p.excludedProducts.join(', ') || '(none)'}; excluded categories: ${p.excludedCategories.join(', ') || '(none)'}`,
          );
        });
      },
    );

  profile
    .command('merge')
    .description(
      "two customers who are one person: the second one's consent history, addresses, ids, orders and sends join the first; audited",
    )
    .argument('<keep>', 'the email of the customer who stays')
    .argument('<other>', 'the email of the customer merged into them')
    .option('--json', 'print the result as JSON')
    .action(async (keep: string, other: string, flags: { json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const result = await tactful.profiles.merge(keep, other, cliActor('merge'));
        if (flags.json) return ctx.json(result);
        ctx.line(
          `merged ${other} into ${keep}: ${result.consentEvents} consent events, ${result.orders} orders; consent changed for ${result.changed.join(', ') || 'no purpose'}`,
        );
      });
    });
};
