/**
 * A seeded fault plan for the Mailchimp sandbox: at each opportunity (a Marketing API request, one member of
 * a batch, a webhook delivery) it draws, with probability `rate`, one of the fault kinds that can happen
 * there. The draws come from a seeded PRNG, so a failing run is replayed by running it again with the same
 * seed (the order of concurrent requests aside). It counts what it injected, for the report.
 */
import { createFaultPlan, type FaultPlan, type FaultPlanOptions } from '@tactful/core/testing/runtime';

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
export const mailchimpFaultKinds: readonly MailchimpFaultKind[] = [
  ...mailchimpRequestFaultKinds,
  ...mailchimpBatchFaultKinds,
  ...mailchimpWebhookFaultKinds,
];

export type MailchimpFaultPlanOptions = FaultPlanOptions<MailchimpFaultKind>;
export type MailchimpFaultPlan = FaultPlan<MailchimpFaultKind>;

export function createMailchimpFaultPlan(options: MailchimpFaultPlanOptions): MailchimpFaultPlan {
  return createFaultPlan('Mailchimp', mailchimpFaultKinds, options);
}
