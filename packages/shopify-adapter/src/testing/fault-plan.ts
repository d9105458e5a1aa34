/**
 * A seeded fault plan for the Shopify sandbox: at each opportunity (an Admin API request, a bulk result
 * download, a webhook delivery) it draws, with probability `rate`, one of the fault kinds that can happen
 * there. The draws come from a seeded PRNG, so a failing run is replayed by running it again with the same
 * seed (the order of concurrent requests aside). It counts what it injected, for the report.
 */
import { createFaultPlan, type FaultPlan, type FaultPlanOptions } from '@tactful/core/testing/runtime';

/** Faults of one Admin API request or bulk result download. */
export const shopifyRequestFaultKinds = [
  /** HTTP 429 with `Retry-After`. */
  'rate_limit',
  /** HTTP 429 without `Retry-After`. */
  'rate_limit_no_retry_after',
  /** HTTP 500, 502, 503 or 504 (drawn too). */
  'server_error',
  /** HTTP 200 with a THROTTLED GraphQL error, as when the cost bucket is empty. */
  'graphql_throttled',
  /** No answer: the request is held past the client's timeout, then the connection is dropped. Not applied. */
  'timeout',
  /** The connection is reset before an answer. Not applied. */
  'connection_reset',
] as const;

/** Faults of one webhook delivery. */
export const shopifyWebhookFaultKinds = [
  /** The delivery is sent twice, with the same webhook id. */
  'webhook_duplicate',
  /** The delivery is held back and sent after the next one (or on `flushWebhooks()`). */
  'webhook_reorder',
  /** Also delivers the same topic, validly signed, for a shop that never installed the app. */
  'webhook_unknown_shop',
] as const;

export type ShopifyRequestFaultKind = (typeof shopifyRequestFaultKinds)[number];
export type ShopifyWebhookFaultKind = (typeof shopifyWebhookFaultKinds)[number];
export type ShopifyFaultKind = ShopifyRequestFaultKind | ShopifyWebhookFaultKind;
export const shopifyFaultKinds: readonly ShopifyFaultKind[] = [
  ...shopifyRequestFaultKinds,
  ...shopifyWebhookFaultKinds,
];

export type ShopifyFaultPlanOptions = FaultPlanOptions<ShopifyFaultKind>;
export type ShopifyFaultPlan = FaultPlan<ShopifyFaultKind>;

export function createShopifyFaultPlan(options: ShopifyFaultPlanOptions): ShopifyFaultPlan {
  return createFaultPlan('Shopify', shopifyFaultKinds, options);
}
