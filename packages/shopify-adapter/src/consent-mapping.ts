/**
 * Shopify's email marketing consent in Tactful's words, both ways. The table is part of the public API
 * (README: "Consent mapping") so a store owner can see exactly what each Shopify state means here.
 */
import type { ConsentState, OptInLevel } from '@tactful/core';

export type ShopifyMarketingState =
  | 'SUBSCRIBED'
  | 'NOT_SUBSCRIBED'
  | 'PENDING'
  | 'UNSUBSCRIBED'
  | 'REDACTED'
  | 'INVALID';
export type ShopifyOptInLevel = 'SINGLE_OPT_IN' | 'CONFIRMED_OPT_IN' | 'UNKNOWN';

export interface ConsentMappingRow {
  shopify: ShopifyMarketingState;
  /** What Tactful records; `null` means "no consent fact" (the address is undeliverable, not a choice). */
  tactful: ConsentState | null;
  why: string;
}

/** Shopify → Tactful. NOT_SUBSCRIBED is not consent: it is the state of a customer who never opted in. */
export const shopifyConsentTable: readonly ConsentMappingRow[] = [
  { shopify: 'SUBSCRIBED', tactful: 'granted', why: 'the customer opted in; the level comes from marketingOptInLevel' },
  { shopify: 'PENDING', tactful: 'pending', why: 'opted in, awaiting the double opt-in confirmation' },
  { shopify: 'NOT_SUBSCRIBED', tactful: 'none', why: 'never opted in: not consent' },
  { shopify: 'UNSUBSCRIBED', tactful: 'withdrawn', why: 'the customer opted out' },
  { shopify: 'REDACTED', tactful: 'withdrawn', why: "the customer's data was erased: never mail again" },
  {
    shopify: 'INVALID',
    tactful: null,
    why: 'the address cannot receive mail: reported as undeliverable, consent unchanged',
  },
];

export const shopifyLevelTable: Readonly<Record<ShopifyOptInLevel, OptInLevel>> = {
  SINGLE_OPT_IN: 'single',
  CONFIRMED_OPT_IN: 'confirmed',
  UNKNOWN: 'unknown',
};

/** Tactful → Shopify, for customerEmailMarketingConsentUpdate. */
export const tactfulToShopifyState: Readonly<
  Record<ConsentState, Exclude<ShopifyMarketingState, 'REDACTED' | 'INVALID'>>
> = {
  granted: 'SUBSCRIBED',
  pending: 'PENDING',
  withdrawn: 'UNSUBSCRIBED',
  none: 'NOT_SUBSCRIBED',
};

export const tactfulToShopifyLevel: Readonly<Record<OptInLevel, ShopifyOptInLevel>> = {
  single: 'SINGLE_OPT_IN',
  confirmed: 'CONFIRMED_OPT_IN',
  unknown: 'UNKNOWN',
};

export type MappedConsent =
  | { kind: 'consent'; state: ConsentState; level: OptInLevel }
  | { kind: 'undeliverable' }
  | { kind: 'unknown' };

/** Maps a Shopify state (GraphQL upper case or webhook lower case) and level. */
export function mapShopifyConsent(state: string | null | undefined, level: string | null | undefined): MappedConsent {
  const key = state?.toUpperCase() as ShopifyMarketingState | undefined;
  const row = shopifyConsentTable.find((r) => r.shopify === key);
  if (!row) return { kind: 'unknown' };
  if (row.tactful === null) return { kind: 'undeliverable' };
  const mappedLevel = shopifyLevelTable[(level?.toUpperCase() ?? 'UNKNOWN') as ShopifyOptInLevel] ?? 'unknown';
  return {
    kind: 'consent',
    state: row.tactful,
    level: row.tactful === 'granted' || row.tactful === 'pending' ? mappedLevel : 'unknown',
  };
}
