import { parseOrThrow } from '@tactful/core';
import { z } from 'zod';
import type { BulkImportCheckpointStore } from './bulk/import.js';

const shopDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/, "use the shop's permanent domain, e.g. my-shop.myshopify.com");

const fn = <T>(what: string) => z.custom<T>((value) => typeof value === 'function', `${what} must be a function`);

/** Options of `createShopifyPlatform`. Every problem is reported at once (CONFIG.INVALID). */
export const shopifyOptionsSchema = z.object({
  /** The shop's permanent domain (`my-shop.myshopify.com`). */
  shop: shopDomain,
  /** The shop's offline Admin API access token (`shpat_...`), from install or token exchange. */
  accessToken: z.string().trim().min(1, 'the Admin API access token is required (from the app install)'),
  /** The Admin API version. Tactful is built and tested against 2025-10. */
  apiVersion: z.literal('2025-10').default('2025-10'),
  /** The consent purpose Shopify's email marketing consent maps to. */
  purpose: z
    .string()
    .regex(/^[a-z][a-z0-9_]{1,62}$/, 'a purpose key, e.g. email_marketing')
    .default('email_marketing'),
  /** Records per page (customers at most 150, products 125, orders fewer: every page stays under Shopify's 1000-point query limit). */
  pageSize: z.number().int().min(1).max(250).default(50),
  /** A GraphQL call that has not answered after this long is abandoned and retried (a hung connection). */
  timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
  /** Line items fetched with each order page; more are fetched per order when an order has more. */
  linesPerOrder: z.number().int().min(1).max(100).default(10),
  retry: z
    .object({
      /** Attempts per call, including the first. */
      maxAttempts: z.number().int().min(1).max(20).default(5),
      baseDelayMs: z.number().int().min(0).default(500),
      maxDelayMs: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  bulk: z
    .object({
      pollIntervalMs: z.number().int().min(0).default(2_000),
      /** Give up waiting for a bulk operation after this long. */
      timeoutMs: z
        .number()
        .int()
        .min(1)
        .default(6 * 3_600_000),
      /** Ask Shopify to group children under their parent (slower for Shopify; children then follow at once). */
      groupObjects: z.boolean().default(false),
      /** How many orders wait for late line items when children do not follow their parent directly. */
      window: z.number().int().min(1).max(100_000).default(2_000),
      /** Save the import checkpoint after this many delivered orders (1 = a crash never re-delivers one). */
      checkpointEvery: z.number().int().min(1).default(1),
    })
    .prefault({}),
  /** Where the bulk import keeps its operation id and progress; default in memory (no resume across processes). */
  checkpoints: z
    .custom<BulkImportCheckpointStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as BulkImportCheckpointStore).load === 'function' &&
        typeof (value as BulkImportCheckpointStore).save === 'function',
      'checkpoints must be an object with load() and save()',
    )
    .optional(),
  /** The same, for the bulk customer (consent) import. */
  customerCheckpoints: z
    .custom<BulkImportCheckpointStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as BulkImportCheckpointStore).load === 'function' &&
        typeof (value as BulkImportCheckpointStore).save === 'function',
      'customerCheckpoints must be an object with load() and save()',
    )
    .optional(),
  /** The fetch to use (default: the global one, looked up at call time). */
  fetch: fn<typeof fetch>('fetch').optional(),
  /** Waits `ms` (tests pass a fake). */
  sleep: fn<(ms: number) => Promise<void>>('sleep').optional(),
  /** The clock in epoch milliseconds, used to project the cost bucket (tests pass a fake). */
  now: fn<() => number>('now').optional(),
});

export type ShopifyOptions = z.input<typeof shopifyOptionsSchema>;
export type ResolvedShopifyOptions = z.output<typeof shopifyOptionsSchema>;

export function parseShopifyOptions(input: unknown): ResolvedShopifyOptions {
  return parseOrThrow(shopifyOptionsSchema, input, 'CONFIG.INVALID', 'Shopify options');
}
