/**
 * A seeded fault plan for the Mailchimp sandbox: at each opportunity (a Marketing API request, one member of
 * a batch, a webhook delivery) it draws, with probability `rate`, one of the fault kinds that can happen
 * there. The draws come from a seeded PRNG, so a failing run is replayed by running it again with the same
 * seed (the order of concurrent requests aside). It counts what it injected, for the report.
 */
import { seededRandom, TactfulError } from '@tactful/core';

/** Faults of one Marketing API request. */
export const mailchimpRequestFaultKinds = [
  /** HTTP 429 with `Retry-After`. */
  'rate_limit',
  /** HTTP 429 without `Retry-After`. */
  'rate_limit_no_retry_after',
  /** HTTP 500 or 503 (drawn too). */
  'server_error',
  /** No answer: the request is held past the client's timeout, then the connection is dropped. Not applied. */
  'timeout',
  /** The connection is reset before an answer. Not applied. */
  'connection_reset',
] as const;

/** Faults of one member in a batch subscribe/update (POST /lists/{list_id}): a 200 with that member in `errors`. */
export const mailchimpBatchFaultKinds = ['batch_member_error'] as const;

/** Faults of one webhook delivery. */
export const mailchimpWebhookFaultKinds = [
  /** The delivery is sent twice. */
  'webhook_duplicate',
  /** The delivery is held back and sent after the next one (or on `flushWebhooks()`). */
  'webhook_reorder',
] as const;

export type MailchimpRequestFaultKind = (typeof mailchimpRequestFaultKinds)[number];
export type MailchimpBatchFaultKind = (typeof mailchimpBatchFaultKinds)[number];
export type MailchimpWebhookFaultKind = (typeof mailchimpWebhookFaultKinds)[number];
export type MailchimpFaultKind = MailchimpRequestFaultKind | MailchimpBatchFaultKind | MailchimpWebhookFaultKind;
export const mailchimpFaultKinds: readonly MailchimpFaultKind[] = [...mailchimpRequestFaultKinds, ...mailchimpBatchFaultKinds, ...mailchimpWebhookFaultKinds];

export interface MailchimpFaultPlanOptions {
  /** Any integer; the same seed draws the same faults. */
  seed: number;
  /** Chance, from 0 to 1, that one opportunity gets a fault. */
  rate: number;
  /** The kinds to draw from (default: all). */
  kinds?: readonly MailchimpFaultKind[];
  /** Seconds sent in `Retry-After` (default 1). */
  retryAfterSeconds?: number;
  /** How long a `timeout` holds the request before dropping it (default 2000 ms; set it above the client's timeout). */
  holdMs?: number;
}

export interface MailchimpFaultPlan {
  readonly seed: number;
  readonly rate: number;
  readonly kinds: readonly MailchimpFaultKind[];
  readonly retryAfterSeconds: number;
  readonly holdMs: number;
  /** Draws for one opportunity: a kind among `among` (and the plan's kinds), or null for no fault. */
  draw<K extends MailchimpFaultKind>(among: readonly K[]): K | null;
  /** A number from the plan's PRNG in [0, 1) (e.g. which 5xx status). */
  random(): number;
  /** Faults injected so far, by kind. */
  counts(): Record<MailchimpFaultKind, number>;
  total(): number;
  /** While paused nothing is drawn (e.g. while an oracle reads the sandbox). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

export function createMailchimpFaultPlan(options: MailchimpFaultPlanOptions): MailchimpFaultPlan {
  const kinds = options.kinds ?? mailchimpFaultKinds;
  const problems: string[] = [];
  if (!Number.isInteger(options.seed)) problems.push('seed: must be an integer');
  if (!(options.rate >= 0 && options.rate <= 1)) problems.push('rate: must be a number from 0 to 1');
  const unknown = kinds.filter((k) => !mailchimpFaultKinds.includes(k));
  if (unknown.length > 0) problems.push(`kinds: unknown ${unknown.join(', ')} (known: ${mailchimpFaultKinds.join(', ')})`);
  if (kinds.length === 0) problems.push('kinds: name at least one kind');
  if (problems.length > 0) throw new TactfulError('CONFIG.INVALID', `The Mailchimp fault plan has ${problems.length} problem(s): ${problems.join('; ')}`);
  const rng = seededRandom(options.seed);
  const counts = Object.fromEntries(mailchimpFaultKinds.map((k) => [k, 0])) as Record<MailchimpFaultKind, number>;
  let paused = false;
  return {
    seed: options.seed,
    rate: options.rate,
    kinds,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    holdMs: options.holdMs ?? 2000,
    draw(among) {
      if (paused) return null;
      // Two numbers per opportunity, always, so one site's draws never shift with another's kinds.
      const hit = rng();
      const pick = rng();
      if (hit >= options.rate) return null;
      const eligible = among.filter((k) => kinds.includes(k));
      if (eligible.length === 0) return null;
      const kind = eligible[Math.floor(pick * eligible.length)]!;
      counts[kind] += 1;
      return kind;
    },
    random: rng,
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    get paused() {
      return paused;
    },
  };
}
