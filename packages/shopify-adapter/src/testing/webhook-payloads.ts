/**
 * REST-shaped webhook bodies, as Shopify sends them for API version 2025-10 (compare the samples in
 * this package's data/webhooks/): numeric ids written as bare JSON integers — above 2^53, so a reader
 * that uses JSON.parse loses digits — next to `admin_graphql_api_id`.
 */
import { toGid } from '../ids.js';
import type { SandboxCustomer, SandboxOrder, SandboxProduct, ShopState } from './state.js';

const BIG = '\u0000bigint:';

/** Marks a numeric id so `rawJson` writes it as an unquoted integer. */
export function bigId(id: string): string {
  return BIG + id;
}

/** JSON.stringify, then turns every marked id into a bare integer literal. */
export function rawJson(value: unknown): string {
  // JSON.stringify escapes U+0000 as \u0000.
  return JSON.stringify(value).replace(/"\\u0000bigint:(\d+)"/g, '$1');
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function customerPayload(c: SandboxCustomer) {
  return {
    id: bigId(c.id),
    admin_graphql_api_id: toGid('Customer', c.id),
    email: c.email,
    first_name: c.firstName,
    last_name: c.lastName,
    phone: c.phone,
    created_at: iso(c.createdAt),
    updated_at: iso(c.updatedAt),
    state: 'enabled',
    verified_email: true,
    tags: c.tags.join(', '),
    currency: 'USD',
    tax_exemptions: [],
    default_address:
      c.city || c.countryCode
        ? { city: c.city, province: c.province, province_code: c.province, country_code: c.countryCode }
        : null,
  };
}

export function consentPayload(c: SandboxCustomer) {
  return {
    customer_id: bigId(c.id),
    email_address: c.email,
    email_marketing_consent: {
      state: c.consent.marketingState.toLowerCase(),
      opt_in_level: c.consent.marketingOptInLevel?.toLowerCase() ?? null,
      consent_updated_at: iso(c.consent.consentUpdatedAt),
    },
  };
}

export function orderPayload(state: ShopState, o: SandboxOrder) {
  const customer = o.customerId ? state.customers.get(o.customerId) : undefined;
  const total = o.lines.reduce((sum, line) => sum + Number(line.price) * line.quantity, 0).toFixed(2);
  return {
    id: bigId(o.id),
    admin_graphql_api_id: toGid('Order', o.id),
    name: o.name,
    email: o.email,
    contact_email: o.email,
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
    processed_at: iso(o.createdAt),
    cancelled_at: iso(o.cancelledAt),
    cancel_reason: o.cancelledAt ? 'customer' : null,
    financial_status: o.financialStatus.toLowerCase(),
    currency: o.currency,
    total_price: total,
    customer: customer ? customerPayload(customer) : null,
    line_items: o.lines.map((line) => ({
      id: bigId(line.id),
      admin_graphql_api_id: toGid('LineItem', line.id),
      product_id: line.productId ? bigId(line.productId) : null,
      variant_id: line.variantId ? bigId(line.variantId) : null,
      title: line.title,
      name: line.title,
      quantity: line.quantity,
      price: line.price,
    })),
    refunds: [],
  };
}

export function productPayload(state: ShopState, p: SandboxProduct) {
  return {
    id: bigId(p.id),
    admin_graphql_api_id: toGid('Product', p.id),
    title: p.title,
    handle: p.handle,
    status: p.status.toLowerCase(),
    product_type: p.productType,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    published_at: p.status === 'ACTIVE' ? iso(p.createdAt) : null,
    image: p.imageUrl ? { src: p.imageUrl } : null,
    variants: [
      {
        price: p.price,
        inventory_quantity: p.totalInventory,
        inventory_management: p.tracksInventory ? 'shopify' : null,
      },
    ],
    shop_url: `https://${state.shop}`,
  };
}

export function complianceShopId(shop: string): number {
  let h = 0;
  for (const ch of shop) h = (h * 31 + ch.charCodeAt(0)) % 1_000_000_000;
  return h;
}
