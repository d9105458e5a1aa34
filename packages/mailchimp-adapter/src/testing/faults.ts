/**
 * Faults the sandbox answers with: queued by a test (`failNext`, `failAlways`, `batchMemberError`) or drawn
 * by a seeded fault plan at each request, batch member and webhook delivery. A drawn request fault comes
 * before anything else (a dropped connection never reaches Mailchimp's counters of connections); a queued
 * one after authentication, in place of the endpoint's answer.
 */
import { HttpResponse } from 'msw';
import { normaliseEmail } from '../subscriber-hash.js';
import { mailchimpRequestFaultKinds, type MailchimpFaultPlan, type MailchimpRequestFaultKind } from './fault-plan.js';
import { internalServerError, problem, serviceUnavailable, tooManyRequests } from './problem.js';
import type { FaultKind } from './types.js';

type Match = (method: string, template: string) => boolean;

export interface AnsweredFault {
  kind: string;
  method: string;
  template: string;
}

/** What a test steers: `sandbox.faults`. */
export interface MailchimpSandboxFaults {
  /** The next `times` matching calls fail with `kind` (default: every endpoint, once). */
  failNext(kind: FaultKind, times?: number, match?: Match): void;
  /** Every matching call fails until `clear()`. */
  failAlways(kind: FaultKind, match?: Match): void;
  /** The batch endpoint reports this per-member error for `email` (a 200 with a partial error). */
  batchMemberError(email: string, message?: string): void;
  /** Forgets the queued faults and the per-member batch errors (the fault plan stays). */
  clear(): void;
  /** Replaces the seeded fault plan (null: no drawn faults). Queued faults of `failNext` come after drawn ones. */
  setPlan(next: MailchimpFaultPlan | null): void;
  readonly plan: MailchimpFaultPlan | null;
  /** Requests answered with a drawn fault, in order. */
  readonly answered: ReadonlyArray<AnsweredFault>;
}

export interface SandboxFaults {
  /** The part a test steers (`sandbox.faults`). */
  readonly steer: MailchimpSandboxFaults;
  readonly plan: MailchimpFaultPlan | null;
  /** A request fault drawn from the plan, or null. */
  drawRequestFault(): MailchimpRequestFaultKind | null;
  /** The answer to a drawn request fault (an error response drops the connection); records it under `template`. */
  answerDrawn(kind: MailchimpRequestFaultKind, method: string, template: string, limit: number): Promise<Response>;
  /** The answer of the first queued fault matching the call, or null (the call goes on). */
  answerQueued(method: string, template: string, limit: number): Response | null;
  /** The error a batch reports for this member, injected or drawn, or undefined. */
  batchMemberErrorFor(email: string): string | undefined;
}

export function createSandboxFaults(initialPlan: MailchimpFaultPlan | null): SandboxFaults {
  const queued: Array<{ kind: FaultKind; remaining: number; match?: Match | undefined }> = [];
  const batchErrors = new Map<string, string>();
  const answered: AnsweredFault[] = [];
  let plan = initialPlan;

  const steer: MailchimpSandboxFaults = {
    failNext(kind, times = 1, match) {
      queued.push({ kind, remaining: times, match });
    },
    failAlways(kind, match) {
      queued.push({ kind, remaining: Number.POSITIVE_INFINITY, match });
    },
    batchMemberError(email, message = 'Sandbox injected a per-member error.') {
      batchErrors.set(normaliseEmail(email), message);
    },
    clear() {
      queued.length = 0;
      batchErrors.clear();
    },
    setPlan(next) {
      plan = next;
    },
    get plan() {
      return plan;
    },
    get answered() {
      return answered;
    },
  };

  return {
    steer,
    get plan() {
      return plan;
    },
    drawRequestFault() {
      return plan?.draw(mailchimpRequestFaultKinds) ?? null;
    },
    async answerDrawn(kind, method, template, limit) {
      answered.push({ kind, method, template });
      const current = plan;
      if (kind === 'rate_limit') return tooManyRequests(limit, current?.retryAfterSeconds ?? 1);
      if (kind === 'rate_limit_no_retry_after') return tooManyRequests(limit);
      if (kind === 'server_error') return (current?.random() ?? 0) < 0.5 ? internalServerError() : serviceUnavailable();
      if (kind === 'timeout') await new Promise((resolve) => setTimeout(resolve, current?.holdMs ?? 0));
      return HttpResponse.error();
    },
    answerQueued(method, template, limit) {
      const fault = queued.find((f) => f.remaining > 0 && (!f.match || f.match(method, template)));
      if (!fault) return null;
      fault.remaining -= 1;
      if (fault.kind === 'rate_limit') return tooManyRequests(limit, 0);
      if (fault.kind === 'server_error') return internalServerError();
      if (fault.kind === 'unavailable') return serviceUnavailable();
      return problem(400, 'Invalid Resource', 'The resource submitted could not be validated.');
    },
    batchMemberErrorFor(email) {
      return (
        batchErrors.get(email) ??
        (plan?.draw(['batch_member_error'])
          ? 'An unexpected internal error has occurred. Please try again later.'
          : undefined)
      );
    },
  };
}
