/**
 * The fault oracle's flow checks. What Mailchimp sent is read from the sandbox (each email as its recipient got
 * it: a journey step's, or a flow wave campaign's), what Tactful decided from the stored steps, and consent from
 * the ledger as it stood when Mailchimp sent; none of the flow code is asked. A passing run has:
 * - nobody with a flow email without both consents (email offers, confirmed where the shop requires double
 *   opt-in, and personal recommendations) as Tactful knew them when the email went out;
 * - nobody with a flow email twice for one (flow, order): a person got no more flow emails than they have steps
 *   that reached the provider, and no fewer than they have steps recorded as sent;
 * - nobody in the holdout with one: the seeded draw, recomputed here from its definition in docs/flows.md, puts
 *   no sent step in the holdout and every held-out step in it, and a held-out step never reaches the provider.
 */
import { createHash } from 'node:crypto';
import {
  foldConsent,
  isTactfulError,
  type ConsentMethod,
  type HistoryEntry,
  type Store,
  type Tactful,
} from '@tactful/core';
import { rawStore } from '@tactful/core/testing/runtime';
import type { MailchimpSandbox } from '@tactful/mailchimp/testing';

export interface FlowOracleInput {
  tactful: Tactful;
  store: Store;
  mailchimp: MailchimpSandbox;
  /** Addresses moved since (old → new): a person is followed from the address they were sent to. */
  addressMoves?: ReadonlyMap<string, string>;
}

export interface FlowOracleReport {
  violations: string[];
  /** Flow emails Mailchimp sent (journey steps' and flow waves'). */
  flowEmails: number;
  /** The shop's flow steps per status. */
  flowSteps: Record<string, number>;
}

/** The seeded holdout draw, as docs/flows.md defines it: SHA-256 of the seed, flow and order; 48 bits in [0, 1). */
export function holdoutDrawOf(flowId: string, orderId: string): number {
  const digest = createHash('sha256').update(`tactful-flow-holdout-v1:${flowId}:${orderId}`).digest();
  let value = 0;
  for (let i = 0; i < 6; i++) value = value * 256 + digest[i]!;
  return value / 2 ** 48;
}

interface StepRow {
  flow_id: string;
  order_id: string;
  subject_id: string | null;
  status: string;
  send_key: string | null;
}

/** A flow wave is a Mailchimp campaign titled with its key, `tactful:flow-<flow>-<day>#<wave>`. */
const isFlowWave = (title: string | undefined) => title?.startsWith('tactful:flow-') === true;

export async function flowViolations(input: FlowOracleInput): Promise<FlowOracleReport> {
  const { tactful, store, mailchimp } = input;
  const violations: string[] = [];
  const shopId = tactful.shopId;
  const settings = await tactful.settings.get();
  const shares = new Map(
    (
      await rawStore(store).query<{ flow_id: string; holdout_share: number }>(
        'select flow_id, holdout_share from flows where shop_id = $1',
        [shopId],
      )
    ).map((f) => [f.flow_id, Number(f.holdout_share)]),
  );
  const steps = await rawStore(store).query<StepRow>(
    'select flow_id, order_id, subject_id, status, send_key from flow_steps where shop_id = $1',
    [shopId],
  );
  const flowSteps: Record<string, number> = {};
  for (const s of steps) flowSteps[s.status] = (flowSteps[s.status] ?? 0) + 1;

  // What Mailchimp sent for the flows, as the recipients got it.
  const flowMail = mailchimp
    .emails()
    .filter(
      (e) =>
        e.via.kind === 'journey' ||
        (e.via.kind === 'campaign' && isFlowWave(mailchimp.state.campaigns.get(e.via.campaignId)?.settings.title)),
    );

  const current = (address: string) => {
    let at = address.toLowerCase();
    for (let hops = 0; input.addressMoves?.has(at) && hops < 100; hops++) at = input.addressMoves.get(at)!;
    return at;
  };
  const knownAt = (history: HistoryEntry[], purpose: string, at: number) =>
    foldConsent(
      history
        .filter((h) => h.purpose === purpose && h.recordedAt.getTime() <= at)
        .map((h) => ({
          id: h.eventId,
          state: h.state,
          level: h.level,
          occurredAt: h.occurredAt,
          echo: h.echo,
          source: { ...h.source, method: h.source.method as ConsentMethod },
        })),
    );

  // 1. Both consents when it went out, as Tactful knew them then.
  const emailsOf = new Map<string, number>();
  const who = new Map<string, string>();
  for (const mail of flowMail) {
    const address = current(mail.to);
    let person: { subjectId: string; events: HistoryEntry[] } | null = null;
    try {
      person = await tactful.consent.history(address);
    } catch (error) {
      if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
    }
    if (!person) {
      violations.push(
        `flow: ${mail.to} got a flow email on ${mail.sentAt.toISOString()}, and Tactful knows nobody there`,
      );
      continue;
    }
    who.set(person.subjectId, address);
    emailsOf.set(person.subjectId, (emailsOf.get(person.subjectId) ?? 0) + 1);
    const marketing = knownAt(person.events, 'email_marketing', mail.sentAt.getTime());
    const personalization = knownAt(person.events, 'personalization', mail.sentAt.getTime());
    const confirmed = !settings.requireDoubleOptIn || marketing.level === 'confirmed';
    if (marketing.state !== 'granted' || !confirmed || personalization.state !== 'granted')
      violations.push(
        `flow: ${address} got a flow email on ${mail.sentAt.toISOString()} without both consents (email_marketing ${marketing.state}/${marketing.level}, personalization ${personalization.state})`,
      );
  }

  // 2. Nobody twice for one order: per person, sent steps ≤ flow emails ≤ steps that reached the provider.
  const bySubject = new Map<string, StepRow[]>();
  for (const s of steps) if (s.subject_id) bySubject.set(s.subject_id, [...(bySubject.get(s.subject_id) ?? []), s]);
  for (const subjectId of new Set([...emailsOf.keys(), ...bySubject.keys()])) {
    const mine = bySubject.get(subjectId) ?? [];
    const got = emailsOf.get(subjectId) ?? 0;
    const reached = mine.filter((s) => s.send_key !== null).length;
    const sent = mine.filter((s) => s.status === 'sent').length;
    const name = who.get(subjectId) ?? subjectId;
    if (got > reached) {
      const held = mine.filter((s) => s.status === 'held_out').map((s) => s.order_id);
      violations.push(
        `flow: ${name} got ${got} flow email(s) for ${reached} order(s) sent to the provider${held.length ? ` (held out: ${held.join(', ')})` : ''}`,
      );
    }
    if (got < sent) violations.push(`flow: ${name} has ${sent} step(s) recorded sent but got ${got} flow email(s)`);
  }

  // 3. The holdout: the seeded draw decides it; a held-out step never reaches the provider.
  for (const s of steps) {
    const share = shares.get(s.flow_id) ?? 0;
    const drawn = holdoutDrawOf(s.flow_id, s.order_id) < share;
    if (s.status === 'sent' && drawn)
      violations.push(`flow: order ${s.order_id} is in the ${share * 100} % holdout by the seeded draw, yet was sent`);
    if (s.status === 'held_out' && !drawn)
      violations.push(`flow: order ${s.order_id} was held out, but the seeded draw does not put it in the holdout`);
    if (s.status === 'held_out' && s.send_key !== null)
      violations.push(`flow: order ${s.order_id} was held out after it reached the provider (${s.send_key})`);
  }
  return { violations, flowEmails: flowMail.length, flowSteps };
}
