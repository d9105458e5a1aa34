import { isRetryable, isTactfulError } from '../errors/tactful-error.js';
import type { KeyRing } from '../store/keyring.js';
import type { Db } from '../store/open.js';
import { claimDue, markDead, markDelivered, markRetry, type OutboxItem } from './outbox.js';
import { backoffDelay } from './backoff.js';

/** The outcome of delivering one item: ok, or an error to retry or dead-letter. */
export type DeliveryOutcome = { ok: true } | { ok: false; error: unknown };

/**
 * Delivers a batch of items of one target; returns one outcome per item, in order. Throwing fails the whole
 * batch with that error (each item is then retried or dead-lettered on its own count).
 */
export type DeliverBatch = (items: OutboxItem[]) => Promise<DeliveryOutcome[]>;

export interface DispatcherOptions {
  db: Db;
  keys: KeyRing;
  /** One delivery function per target system. Rows for a target not listed here stay pending. */
  targets: Record<string, DeliverBatch>;
  /** Attempts before a row is dead-lettered (default 8). */
  maxAttempts?: number;
  /** First retry delay; doubles each attempt, with full jitter (default 1 s, capped at 10 min). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Rows claimed per round (default 200) and the largest batch handed to one target (default 500). */
  claimLimit?: number;
  maxBatch?: Record<string, number>;
  /** How long a claimed row stays invisible to other instances (default 60 s). */
  leaseMs?: number;
  now?: () => Date;
  random?: () => number;
  /** Deliver only this shop's rows (default: every shop of the store). */
  shopId?: string;
  /** Called after an item is delivered (e.g. to record what a system now holds). */
  onDelivered?: (item: OutboxItem) => Promise<void>;
  onDeadLetter?: (item: OutboxItem, error: string) => Promise<void>;
}

export interface DispatchReport {
  claimed: number;
  delivered: number;
  retried: number;
  deadLettered: number;
}

function describe(error: unknown): string {
  if (isTactfulError(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

export function createDispatcher(options: DispatcherOptions) {
  const maxAttempts = options.maxAttempts ?? 8;
  const baseDelayMs = options.baseDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 600_000;
  const claimLimit = options.claimLimit ?? 200;
  const leaseMs = options.leaseMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const random = options.random ?? Math.random;
  const targets = Object.keys(options.targets);

  async function settle(item: OutboxItem, outcome: DeliveryOutcome, report: DispatchReport): Promise<void> {
    if (outcome.ok) {
      await markDelivered(options.db, item, now());
      await options.onDelivered?.(item);
      report.delivered += 1;
      return;
    }
    const message = describe(outcome.error);
    if (!isRetryable(outcome.error) || item.attempts >= maxAttempts) {
      await markDead(options.db, item, message);
      await options.onDeadLetter?.(item, message);
      report.deadLettered += 1;
      return;
    }
    const retryAfter = isTactfulError(outcome.error) ? outcome.error.retryAfter : undefined;
    const delay = backoffDelay(item.attempts, baseDelayMs, maxDelayMs, random, retryAfter);
    await markRetry(options.db, item, new Date(now().getTime() + delay), message);
    report.retried += 1;
  }

  /** Claims one round of due rows and delivers them, batched per shop and target. */
  async function runOnce(): Promise<DispatchReport> {
    const report: DispatchReport = { claimed: 0, delivered: 0, retried: 0, deadLettered: 0 };
    if (targets.length === 0) return report;
    const items = await claimDue(options.db, options.keys, {
      limit: claimLimit,
      now: now(),
      leaseMs,
      targets,
      shopId: options.shopId,
    });
    report.claimed = items.length;
    const groups = new Map<string, OutboxItem[]>();
    for (const item of items) {
      const key = `${item.shopId}\u0000${item.target}`;
      const list = groups.get(key) ?? [];
      list.push(item);
      groups.set(key, list);
    }
    for (const group of groups.values()) {
      const target = group[0]!.target;
      const deliver = options.targets[target]!;
      const size = options.maxBatch?.[target] ?? 500;
      for (let i = 0; i < group.length; i += size) {
        const batch = group.slice(i, i + size);
        let outcomes: DeliveryOutcome[];
        try {
          outcomes = await deliver(batch);
          if (outcomes.length !== batch.length)
            throw new Error(`delivery to ${target} returned ${outcomes.length} outcomes for ${batch.length} items`);
        } catch (error) {
          outcomes = batch.map(() => ({ ok: false as const, error }));
        }
        for (let j = 0; j < batch.length; j++) await settle(batch[j]!, outcomes[j]!, report);
      }
    }
    return report;
  }

  /** Runs rounds until nothing is due now (rows waiting for a later retry are left for later). */
  async function drain(maxRounds = 1000): Promise<DispatchReport> {
    const total: DispatchReport = { claimed: 0, delivered: 0, retried: 0, deadLettered: 0 };
    for (let round = 0; round < maxRounds; round++) {
      const r = await runOnce();
      total.claimed += r.claimed;
      total.delivered += r.delivered;
      total.retried += r.retried;
      total.deadLettered += r.deadLettered;
      if (r.claimed === 0) break;
    }
    return total;
  }

  return { runOnce, drain };
}
export type Dispatcher = ReturnType<typeof createDispatcher>;
