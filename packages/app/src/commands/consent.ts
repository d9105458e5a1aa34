import { consentMethodLabel, consentMethods, optInLevels, type Tactful } from '@tactful/core';
import type { Command } from 'commander';
import { withEngine } from '../cli/engine.js';
import { parseChoice, parseIsoDate, table } from '../cli/parse.js';
import type { CliContext, CommandModule } from '../cli/program.js';

const cliActor = { type: 'cli' as const, id: 'tactful-cli' };
const recordableStates = ['granted', 'withdrawn', 'pending'] as const;

interface RecordFlags {
  email: string;
  purpose: string;
  state: string;
  source: string;
  eventId: string;
  method: string;
  occurredAt?: string;
  level: string;
  ip?: string;
  userAgent?: string;
  clause?: string;
  policyVersion?: string;
  json?: boolean;
}

function iso(d: Date | null | undefined): string {
  return d ? d.toISOString() : '';
}

async function show(ctx: CliContext, tactful: Tactful, email: string, json: boolean | undefined) {
  const view = await tactful.consent.show(email);
  if (json) return ctx.json(view);
  ctx.line(`${view.email} (subject ${view.subjectId}) in ${tactful.shopId}`);
  ctx.line(
    table(
      ['purpose', 'state', 'level', 'since', 'source', 'clause', 'version'],
      view.purposes.map((p) => [
        p.purpose,
        p.state,
        p.level,
        iso(p.since),
        p.source ? `${p.source.system}/${consentMethodLabel(p.source)}` : '',
        p.clause,
        p.version,
      ]),
    ),
  );
}

export const consentCommand: CommandModule = (program: Command, ctx: CliContext) => {
  const consent = program.command('consent').description('record and inspect consent');

  consent
    .command('record')
    .description('record one consent event (idempotent on --source and --event-id)')
    .requiredOption('--email <email>', 'the customer')
    .requiredOption('--purpose <purpose>', 'email_marketing, personalization, or a purpose of the shop')
    .requiredOption('--state <state>', recordableStates.join('|'))
    .requiredOption('--source <system>', 'the system that reports it (shopify, mailchimp, cli, ...)')
    .requiredOption('--event-id <id>', "the source's id for this event")
    .option('--method <method>', consentMethods.join('|'), 'admin')
    .option('--occurred-at <iso>', 'when it happened (default now)')
    .option('--level <level>', optInLevels.join('|'), 'unknown')
    .option('--ip <ip>', 'IP address of the person, for first-party evidence')
    .option('--user-agent <ua>', 'browser of the person, for first-party evidence')
    .option('--clause <clause>', 'the clause of the terms consented to')
    .option('--policy-version <version>', 'the version of the terms')
    .option('--json', 'print the outcome as JSON')
    .action(async (flags: RecordFlags) => {
      const state = parseChoice(flags.state, '--state', recordableStates);
      const method = parseChoice(flags.method, '--method', consentMethods);
      const level = parseChoice(flags.level, '--level', optInLevels);
      const occurredAt = flags.occurredAt ? parseIsoDate(flags.occurredAt, '--occurred-at') : new Date();
      const evidence: Record<string, string> = {};
      if (flags.ip) evidence.ip = flags.ip;
      if (flags.userAgent) evidence.userAgent = flags.userAgent;
      if (flags.clause) evidence.clause = flags.clause;
      if (flags.policyVersion) evidence.policyVersion = flags.policyVersion;
      await withEngine(ctx, async (tactful) => {
        const outcome = await tactful.consent.record(
          {
            subject: { email: flags.email },
            purpose: flags.purpose,
            state,
            level,
            occurredAt,
            source: { system: flags.source, eventId: flags.eventId, method },
            evidence,
          },
          cliActor,
        );
        if (flags.json) return ctx.json(outcome);
        const what =
          outcome.status === 'duplicate'
            ? 'already recorded (same event id, same content)'
            : outcome.echo
              ? 'recorded as an echo (changes nothing)'
              : outcome.changed
                ? 'recorded'
                : 'recorded (state unchanged)';
        ctx.line(
          `${what}: ${flags.purpose} is now ${outcome.state.state} (${outcome.state.level}) since ${iso(outcome.state.since)}`,
        );
      });
    });

  consent
    .command('show')
    .description('the current consent per purpose: state, level, since, source, clause, version')
    .requiredOption('--email <email>', 'the customer')
    .option('--json', 'print as JSON')
    .action(async (flags: { email: string; json?: boolean }) => {
      await withEngine(ctx, (tactful) => show(ctx, tactful, flags.email, flags.json));
    });

  consent
    .command('history')
    .description('every consent event of the customer with its evidence')
    .requiredOption('--email <email>', 'the customer')
    .option('--json', 'print as JSON')
    .action(async (flags: { email: string; json?: boolean }) => {
      await withEngine(ctx, async (tactful) => {
        const history = await tactful.consent.history(flags.email);
        if (flags.json) return ctx.json(history);
        ctx.line(
          table(
            ['#', 'occurred', 'purpose', 'state', 'level', 'source', 'method', 'event id', 'evidence'],
            history.events.map((e) => [
              String(e.seq),
              iso(e.occurredAt),
              e.purpose,
              e.echo ? `${e.state} (echo)` : e.state,
              e.level,
              e.source.system,
              consentMethodLabel({ method: e.source.method, formId: e.evidence.formId }),
              e.source.eventId,
              Object.entries(e.evidence)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
            ]),
          ),
        );
      });
    });
};
