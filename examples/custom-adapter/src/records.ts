/**
 * WooCommerce's REST shapes (wc/v3) as far as Tactful reads them, and their mapping to the port's records.
 * Every time comes from the `*_gmt` field (WooCommerce writes it without a zone: it is UTC).
 */
import {
  TactfulError,
  type CustomerRecord,
  type ExternalConsent,
  type OrderRecord,
  type ProductRecord,
} from '@tactful/core';
import { z } from 'zod';

const gmt = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/)
  .transform((s) => new Date(/(Z|[+-]\d{2}:\d{2})$/.test(s) ? s : `${s}Z`));

const address = z.object({
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  city: z.string().optional(),
  state: z.string().optional(),
  country: z.string().optional(),
  email: z.string().optional(),
  phone: z.string().optional(),
});

const metaEntry = z.object({ id: z.number().optional(), key: z.string(), value: z.unknown() });

export const wooCustomer = z.object({
  id: z.number().int(),
  date_created_gmt: gmt.nullable().optional(),
  date_modified_gmt: gmt.nullable().optional(),
  email: z.string(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  billing: address.optional(),
  meta_data: z.array(metaEntry).default([]),
});
export type WooCustomer = z.output<typeof wooCustomer>;

const lineItem = z.object({
  id: z.number().optional(),
  name: z.string(),
  product_id: z.number().int(),
  variation_id: z.number().int().optional(),
  quantity: z.number().int(),
  price: z.union([z.number(), z.string()]).optional(),
});

export const wooOrderStatuses = [
  'pending',
  'processing',
  'on-hold',
  'completed',
  'cancelled',
  'refunded',
  'failed',
  'trash',
  'checkout-draft',
] as const;

export const wooOrder = z.object({
  id: z.number().int(),
  number: z.string().optional(),
  status: z.string(),
  currency: z.string().optional(),
  total: z.string().optional(),
  customer_id: z.number().int(),
  date_created_gmt: gmt,
  date_modified_gmt: gmt,
  billing: address.optional(),
  line_items: z.array(lineItem),
});
export type WooOrder = z.output<typeof wooOrder>;

export const wooProduct = z.object({
  id: z.number().int(),
  name: z.string(),
  slug: z.string().optional(),
  permalink: z.string().optional(),
  date_modified_gmt: gmt.nullable().optional(),
  status: z.string(),
  price: z.string().optional(),
  purchasable: z.boolean().optional(),
  stock_status: z.string().optional(),
  images: z.array(z.object({ src: z.string() })).default([]),
  categories: z.array(z.object({ id: z.number(), name: z.string() })).default([]),
});
export type WooProduct = z.output<typeof wooProduct>;

/**
 * The newsletter consent this adapter keeps in one customer meta entry (WooCommerce has none of its own).
 * One entry, so state, level and time change together in one write.
 */
export const newsletterMeta = z.object({
  state: z.enum(['subscribed', 'pending', 'unsubscribed']),
  level: z.enum(['single', 'confirmed', 'unknown']).default('unknown'),
  /** When the consent last changed, in the source's own time (ISO 8601, UTC). */
  updated_at: z.iso.datetime({ offset: true }),
});
export type NewsletterMeta = z.output<typeof newsletterMeta>;

export const tactfulToNewsletterState = {
  granted: 'subscribed',
  pending: 'pending',
  withdrawn: 'unsubscribed',
} as const;
const newsletterToTactfulState = { subscribed: 'granted', pending: 'pending', unsubscribed: 'withdrawn' } as const;

export function parseRow<S extends z.ZodType>(schema: S, row: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (parsed.success) return parsed.data;
  throw new TactfulError(
    'WOOCOMMERCE.BAD_RESPONSE',
    `WooCommerce sent a ${what} Tactful cannot read (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): is the REST API wc/v3?`,
    { body: row },
  );
}

const normEmail = (email: string | undefined | null) => {
  const e = (email ?? '').trim().toLowerCase();
  return e === '' ? null : e;
};
const orNull = (s: string | undefined) => (s === undefined || s.trim() === '' ? null : s);

/** Reads the newsletter meta entry; a malformed entry counts as no consent known (never as a grant). */
export function readNewsletter(customer: Pick<WooCustomer, 'meta_data'>, metaKey: string): NewsletterMeta | null {
  const entry = customer.meta_data.find((m) => m.key === metaKey);
  if (!entry) return null;
  const parsed = newsletterMeta.safeParse(entry.value);
  return parsed.success ? parsed.data : null;
}

export function toCustomerRecord(raw: WooCustomer, ctx: { metaKey: string; purpose: string }): CustomerRecord {
  const email = normEmail(raw.email);
  const newsletter = readNewsletter(raw, ctx.metaKey);
  const at = newsletter ? new Date(newsletter.updated_at) : null;
  const consent: ExternalConsent | null =
    email && newsletter && at
      ? {
          email,
          purpose: ctx.purpose,
          state: newsletterToTactfulState[newsletter.state],
          level: newsletter.level,
          occurredAt: at,
          // Stable while the fact is unchanged: re-reading it is a duplicate, not a new event.
          sourceEventId: `${raw.id}:${at.toISOString()}`,
          method: 'sync',
          rawState: newsletter.state,
        }
      : null;
  const createdAt = raw.date_created_gmt ?? undefined;
  return {
    id: String(raw.id),
    email,
    firstName: orNull(raw.first_name),
    lastName: orNull(raw.last_name),
    phone: orNull(raw.billing?.phone),
    country: orNull(raw.billing?.country),
    region: orNull(raw.billing?.state),
    city: orNull(raw.billing?.city),
    ...(createdAt ? { createdAt } : {}),
    updatedAt: raw.date_modified_gmt ?? createdAt ?? new Date(0),
    emailConsent: consent,
  };
}

const decimal = (value: number | string | undefined): string | undefined => {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? String(value) : undefined;
};

export function toOrderRecord(raw: WooOrder): OrderRecord {
  // WooCommerce keeps no cancellation time: a cancelled order's last modification is when it was cancelled
  // (an order edited after cancelling reports that later time; Tactful only needs "cancelled, and since about when").
  const cancelled = raw.status === 'cancelled' || raw.status === 'failed' || raw.status === 'trash';
  return {
    id: String(raw.id),
    ...(raw.number ? { name: `#${raw.number}` } : {}),
    customerId: raw.customer_id > 0 ? String(raw.customer_id) : null,
    email: normEmail(raw.billing?.email),
    createdAt: raw.date_created_gmt,
    updatedAt: raw.date_modified_gmt,
    cancelledAt: cancelled ? raw.date_modified_gmt : null,
    refunded: raw.status === 'refunded',
    ...(raw.currency ? { currency: raw.currency } : {}),
    ...(decimal(raw.total) ? { totalPrice: decimal(raw.total)! } : {}),
    lines: raw.line_items
      .filter((l) => l.product_id > 0)
      .map((l) => ({
        productId: String(l.product_id),
        variantId: l.variation_id && l.variation_id > 0 ? String(l.variation_id) : null,
        title: l.name,
        quantity: l.quantity,
        ...(decimal(l.price) ? { price: decimal(l.price)! } : {}),
      })),
  };
}

const productStatus = (status: string): ProductRecord['status'] =>
  status === 'publish' ? 'active' : status === 'draft' || status === 'pending' ? 'draft' : 'archived';

export function toProductRecord(raw: WooProduct): ProductRecord {
  const price = raw.price !== undefined && /^\d+(\.\d+)?$/.test(raw.price) ? raw.price : undefined;
  return {
    id: String(raw.id),
    title: raw.name,
    ...(raw.slug ? { handle: raw.slug } : {}),
    ...(raw.permalink ? { url: raw.permalink } : {}),
    imageUrl: raw.images[0]?.src ?? null,
    ...(price ? { price } : {}),
    category: raw.categories[0]?.name ?? null,
    available: raw.status === 'publish' && raw.stock_status !== 'outofstock' && raw.purchasable !== false,
    status: productStatus(raw.status),
    ...(raw.date_modified_gmt ? { updatedAt: raw.date_modified_gmt } : {}),
  };
}
