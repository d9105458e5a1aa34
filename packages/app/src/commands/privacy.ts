import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { registerMarkdown, TactfulError } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parsePositiveInt, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const cliActor = { type: 'cli' as const, id: 'tactful-cli' };
const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '');

export const privacyCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const privacy = program
    .command('privacy')
    .description('data-subject rights: export, erasure, retention, the register of processing');

  privacy
    .command('export')
    .description('everything held about a person as one JSON bundle')
    .requiredOption('--email <email>', 'the person')
    .option('--out <file>', 'write the bundle to this file instead of stdout')
    .option('--request-id <id>', 'the id of the request (kept in the audit log)')
    .action(async (flags: { email: string; out?: string; requestId?: string }) => {
      await withEngine(ctx, async (tactful) => {
        const bundle = await tactful.privacy.export(
          flags.email,
          cliActor,
          flags.requestId ? { requestId: flags.requestId } : {},
        );
        if (!flags.out) return ctx.json(bundle);
        const path = resolve(ctx.io.cwd, flags.out);
        try {
          writeFileSync(path, `${JSON.stringify(bundle, null, 2)}\n`, { mode: 0o600 });
        } catch (cause) {
          throw new TactfulError(
            'INPUT.INVALID',
            `--out ${flags.out} cannot be written: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}.`,
            { cause },
          );
        }
        ctx.line(
          `exported ${bundle.subject.email}: ${bundle.consent.history.length} consent events, ${bundle.orders.length} orders, ${bundle.audit.length} audit entries → ${path}`,
        );
      });
    });

  privacy
    .command('erase')
    .description(
      'erase a person: delete what is not proof, destroy their key, suppress the address, tell connected systems',
    )
    .requiredOption('--email <email>', 'the person')
    .requiredOption('--reason <reason>', 'why (kept in the audit log; no personal data)')
    .option('--request-id <id>', 'the id of the request (ticket, webhook id)')
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: { email: string; reason: string; requestId?: string; json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const out = await tactful.privacy.erase(
          flags.email,
          { reason: flags.reason, requestId: flags.requestId },
          cliActor,
        );
        if (flags.json) return ctx.json(out);
        ctx.line(
          `erased (request ${out.requestId}): ${out.ordersDeleted} orders, ${out.inboxDeleted} inbox and ${out.outboxDeleted} outbox items deleted; key destroyed; address suppressed` +
            (out.queuedFor.length ? `; deletion queued for ${out.queuedFor.join(', ')}` : ''),
        );
        const failed = out.compaction?.steps.filter((st) => !st.ok) ?? [];
        if (out.compaction && failed.length === 0)
          ctx.line('storage compacted: no copy of the deleted payloads is left in table files or the WAL');
        else if (failed.length > 0)
          ctx.line(
            `storage NOT fully compacted (${failed.map((f) => `${f.step}: ${f.error}`).join('; ')}): run it as a database superuser`,
          );
      });
    });

  privacy
    .command('retention')
    .description('people with no order and no consent activity for N months (dry run unless --apply)')
    .option('--months <n>', 'months without activity', '24')
    .option('--apply', 'erase them')
    .option('--json', 'print as JSON')
    .action(async (flags: { months: string; apply?: boolean; json?: boolean }) => {
      const months = parsePositiveInt(flags.months, '--months');
      await withEngine(ctx, async (tactful) => {
        const stale = flags.apply
          ? (await tactful.privacy.applyRetention(months, cliActor)).erased
          : await tactful.privacy.retention(months);
        if (flags.json) return ctx.json({ months, applied: Boolean(flags.apply), subjects: stale });
        ctx.line(
          `${stale.length} ${stale.length === 1 ? 'person' : 'people'} without activity for ${months} months${flags.apply ? ': erased' : ' (dry run; --apply erases them)'}`,
        );
        if (stale.length > 0)
          ctx.line(
            table(
              ['email', 'subject', 'last order', 'last consent'],
              stale.map((s) => [s.email, s.subjectId, iso(s.lastOrderAt), iso(s.lastConsentAt)]),
            ),
          );
      });
    });

  privacy
    .command('register')
    .description('the register of processing activities (GDPR Art. 30) of the shop')
    .option('--months <n>', 'the retention period stated', '24')
    .option('--json', 'print as JSON')
    .action(async (flags: { months: string; json?: boolean }) => {
      const months = parsePositiveInt(flags.months, '--months');
      await withEngine(ctx, async (tactful) => {
        const register = await tactful.privacy.register(months);
        if (flags.json) return ctx.json(register);
        ctx.line(registerMarkdown(register));
      });
    });
};
