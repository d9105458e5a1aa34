import { parseOrThrow } from '@tactful/core';
import { z } from 'zod';

const fn = <T>(what: string) => z.custom<T>((value) => typeof value === 'function', `${what} must be a function`);

/** Options of `createWooCommercePlatform`. Every problem is reported at once (CONFIG.INVALID). */
export const wooCommerceOptionsSchema = z.object({
  /** The store's address, e.g. https://shop.example.com (the API lives under /wp-json/wc/v3). */
  url: z
    .url({
      protocol: /^https$/,
      error:
        'must be the https address of the WordPress site, e.g. https://shop.example.com (consumer keys travel as Basic auth, which WooCommerce only accepts over HTTPS)',
    })
    .transform((u) => u.replace(/\/+$/, '')),
  /** REST API consumer key (WooCommerce > Settings > Advanced > REST API), `ck_...`. */
  consumerKey: z
    .string()
    .trim()
    .regex(/^ck_[A-Za-z0-9]+$/, 'must be a WooCommerce consumer key (starts with ck_)'),
  /** The matching consumer secret, `cs_...`. Read/Write permission is needed for consent write-back and erasure. */
  consumerSecret: z
    .string()
    .trim()
    .regex(/^cs_[A-Za-z0-9]+$/, 'must be a WooCommerce consumer secret (starts with cs_)'),
  /** The consent purpose the newsletter flag maps to. */
  purpose: z
    .string()
    .regex(/^[a-z][a-z0-9_]{1,62}$/, 'a purpose key, e.g. email_marketing')
    .default('email_marketing'),
  /** Customer meta key holding the newsletter consent (see README: WooCommerce has no native marketing consent). */
  consentMetaKey: z
    .string()
    .regex(
      /^[a-z][a-z0-9_]{0,62}$/,
      'a meta key of lower-case letters, digits and _ (no leading _: protected meta is hidden from the REST API)',
    )
    .default('tactful_newsletter'),
  /** Records per page (WooCommerce allows at most 100; one slot is kept for the overlap that detects shifted pages). */
  pageSize: z.number().int().min(1).max(99).default(50),
  retry: z
    .object({
      /** Attempts per call, including the first. */
      maxAttempts: z.number().int().min(1).max(20).default(5),
      baseDelayMs: z.number().int().min(0).default(500),
      maxDelayMs: z.number().int().min(0).default(30_000),
    })
    .prefault({}),
  /** The fetch to use (default: the global one, looked up at call time so msw can intercept it). */
  fetch: fn<typeof fetch>('fetch').optional(),
  /** Waits `ms` (tests pass a fake). */
  sleep: fn<(ms: number) => Promise<void>>('sleep').optional(),
});

export type WooCommerceOptions = z.input<typeof wooCommerceOptionsSchema>;
export type ResolvedWooCommerceOptions = z.output<typeof wooCommerceOptionsSchema>;

export function parseWooCommerceOptions(input: unknown): ResolvedWooCommerceOptions {
  return parseOrThrow(wooCommerceOptionsSchema, input, 'CONFIG.INVALID', 'WooCommerce options');
}
