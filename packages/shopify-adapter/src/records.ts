/**
 * Turns Shopify's GraphQL nodes into Tactful's normalised records: ids as bare strings, emails trimmed
 * and lower-cased, times as Dates in the source's own time.
 */
import type { CustomerRecord, ExternalConsent, OrderLine, OrderRecord, ProductRecord } from '@tactful/core';
import { mapShopifyConsent } from './consent-mapping.js';
import { fromGid } from './ids.js';

export interface CustomerNode {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  createdAt?: string | null;
  updatedAt: string;
  tags?: string[] | null;
  defaultEmailAddress?: { emailAddress?: string | null } | null;
  defaultPhoneNumber?: { phoneNumber?: string | null } | null;
  defaultAddress?: { city?: string | null; province?: string | null; countryCodeV2?: string | null } | null;
  emailMarketingConsent?: {
    marketingState: string;
    marketingOptInLevel?: string | null;
    consentUpdatedAt?: string | null;
  } | null;
}

export interface LineItemNode {
  id: string;
  title: string;
  quantity: number;
  product?: { id: string } | null;
  variant?: { id: string } | null;
  originalUnitPriceSet?: { shopMoney?: { amount?: string | null } | null } | null;
}

export interface OrderNode {
  id: string;
  name?: string | null;
  email?: string | null;
  createdAt: string;
  updatedAt: string;
  cancelledAt?: string | null;
  displayFinancialStatus?: string | null;
  currencyCode?: string | null;
  totalPriceSet?: { shopMoney?: { amount?: string | null } | null } | null;
  customer?: { id: string } | null;
}

export interface ProductNode {
  id: string;
  title: string;
  handle?: string | null;
  onlineStoreUrl?: string | null;
  status: string;
  updatedAt?: string | null;
  productType?: string | null;
  tracksInventory?: boolean | null;
  totalInventory?: number | null;
  featuredMedia?: { preview?: { image?: { url?: string | null } | null } | null } | null;
  priceRangeV2?: { minVariantPrice?: { amount?: string | null } | null } | null;
}

export const normaliseEmail = (email: string | null | undefined): string | null => {
  const value = email?.trim().toLowerCase();
  return value ? value : null;
};

const date = (value: string | null | undefined): Date | undefined => {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** The consent fact a customer carries, or null (no address, undeliverable address, unknown state). */
export function consentFromCustomer(node: CustomerNode, purpose: string): ExternalConsent | null {
  const email = normaliseEmail(node.defaultEmailAddress?.emailAddress);
  const consent = node.emailMarketingConsent;
  if (!email || !consent) return null;
  const mapped = mapShopifyConsent(consent.marketingState, consent.marketingOptInLevel);
  if (mapped.kind !== 'consent') return null;
  const id = fromGid(node.id);
  // A customer who never changed their consent has no consentUpdatedAt: the state has held since creation.
  const occurredAt = date(consent.consentUpdatedAt) ?? date(node.createdAt) ?? date(node.updatedAt)!;
  return {
    email,
    purpose,
    state: mapped.state,
    level: mapped.level,
    occurredAt,
    sourceEventId: `${id}:${consent.marketingState}:${occurredAt.toISOString()}`,
    method: 'sync',
    rawState: consent.marketingState,
  };
}

export function toCustomerRecord(node: CustomerNode, purpose: string): CustomerRecord {
  return {
    id: fromGid(node.id),
    email: normaliseEmail(node.defaultEmailAddress?.emailAddress),
    firstName: node.firstName ?? null,
    lastName: node.lastName ?? null,
    phone: node.defaultPhoneNumber?.phoneNumber ?? null,
    country: node.defaultAddress?.countryCodeV2 ?? null,
    region: node.defaultAddress?.province ?? null,
    city: node.defaultAddress?.city ?? null,
    tags: node.tags ?? [],
    createdAt: date(node.createdAt),
    updatedAt: date(node.updatedAt) ?? date(node.createdAt)!,
    emailConsent: consentFromCustomer(node, purpose),
  };
}

/** Lines without a product (custom items, deleted products) are dropped: the model works at product level. */
export function toOrderLines(lines: LineItemNode[]): OrderLine[] {
  const out: OrderLine[] = [];
  for (const line of lines) {
    if (!line.product?.id) continue;
    const price = line.originalUnitPriceSet?.shopMoney?.amount;
    out.push({
      productId: fromGid(line.product.id),
      variantId: line.variant?.id ? fromGid(line.variant.id) : null,
      title: line.title,
      quantity: line.quantity,
      ...(price ? { price } : {}),
    });
  }
  return out;
}

export function toOrderRecord(node: OrderNode, lines: LineItemNode[]): OrderRecord {
  const total = node.totalPriceSet?.shopMoney?.amount;
  return {
    id: fromGid(node.id),
    ...(node.name ? { name: node.name } : {}),
    customerId: node.customer?.id ? fromGid(node.customer.id) : null,
    email: normaliseEmail(node.email),
    createdAt: date(node.createdAt)!,
    updatedAt: date(node.updatedAt) ?? date(node.createdAt)!,
    cancelledAt: date(node.cancelledAt) ?? null,
    refunded: node.displayFinancialStatus === 'REFUNDED',
    ...(node.currencyCode ? { currency: node.currencyCode } : {}),
    ...(total ? { totalPrice: total } : {}),
    lines: toOrderLines(lines),
  };
}

const productStatus = (status: string): ProductRecord['status'] => {
  switch (status.toUpperCase()) {
    case 'DRAFT':
      return 'draft';
    case 'ARCHIVED':
      return 'archived';
    default:
      return 'active';
  }
};

export function toProductRecord(node: ProductNode): ProductRecord {
  const status = productStatus(node.status);
  const inStock = !node.tracksInventory || (node.totalInventory ?? 0) > 0;
  const price = node.priceRangeV2?.minVariantPrice?.amount;
  const url = node.onlineStoreUrl ?? undefined;
  return {
    id: fromGid(node.id),
    title: node.title,
    ...(node.handle ? { handle: node.handle } : {}),
    ...(url ? { url } : {}),
    imageUrl: node.featuredMedia?.preview?.image?.url ?? null,
    ...(price ? { price } : {}),
    category: node.productType ? node.productType : null,
    available: status === 'active' && url !== undefined && inStock,
    status,
    ...(node.updatedAt ? { updatedAt: new Date(node.updatedAt) } : {}),
  };
}
