/** What every route of the sandbox works with: the account state, webhook delivery, faults. */
import type { SandboxFaults } from '../faults.js';
import { invalidResource } from '../problem.js';
import type { Route } from '../router.js';
import type { SandboxState } from '../state.js';
import type { WebhookDeliveries } from '../webhook-delivery.js';

export interface SandboxContext {
  state: SandboxState;
  webhooks: WebhookDeliveries;
  faults: SandboxFaults;
}

export type SandboxRoute = Route<SandboxContext>;

/** Mailchimp's largest batch: members of one batch subscribe, or emails added to a segment at once. */
export const MAX_BATCH = 500;

export const emailPattern = /^[^\s@"<>()[\],;:]+@[^\s@"<>()[\],;:]+\.[^\s@"<>()[\],;:]{2,}$/;

/** `count` (default 10, at most 1000) and `offset` (default 0) of a list endpoint; bad values are a 400. */
export function paging(query: URLSearchParams): { count: number; offset: number; slice<T>(all: T[]): T[] } {
  const count = Math.min(Number(query.get('count') ?? 10), 1000);
  const offset = Number(query.get('offset') ?? 0);
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(offset) || offset < 0)
    throw invalidResource('count and offset must be non-negative integers.');
  return { count, offset, slice: (all) => all.slice(offset, offset + count) };
}
