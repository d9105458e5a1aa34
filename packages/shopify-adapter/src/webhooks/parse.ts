/**
 * Turns a verified Shopify webhook body into Tactful's InboundEvent. Ids are read without losing digits
 * (they exceed 2^53), from `admin_graphql_api_id` when the body has one. Since API 2025-01 the customer
 * topics carry no consent: consent arrives on `customers_email_marketing_consent/update`.
 */
import { TactfulError } from '@tactful/core';
import type { CustomerRecord, InboundEvent, OrderLine, OrderRecord, ProductRecord } from '@tactful/core';
import { mapShopifyConsent } from '../consent-mapping.js';
import { idString, parseJsonLossless } from '../lossless-json.js';
import { normaliseEmail } from '../records.js';

/** Topics Tactful subscribes to (besides the three mandatory compliance topics). */
export const shopifyWebhookTopics = [
  'app/uninstalled',
  'orders/create',
  'orders/paid',
  'orders/updated',
  'orders/cancelled',
  'customers/create',
  'customers/update',
  'customers_email_marketing_consent/update',
  'products/create',
  'products/update',
  'products/delete',
  'bulk_operations/finish',
] as const;

export const shopifyComplianceTopics = ['customers/data_request', 'customers/redact', 'shop/redact'] as const;

export interface ParseContext {
  purpose: string;
  /**
   * X-Shopify-Shop-Domain. The header is not signed: a body that names its shop (the compliance topics,
   * app/uninstalled) must name this one.
   */
  shop?: string | undefined;
  /** X-Shopify-Webhook-Id: the request id of compliance topics that carry none. */
  webhookId: string;
  /** X-Shopify-Triggered-At: when Shopify says the event happened. */
  triggeredAt?: Date | undefined;
  receivedAt: Date;
}

type Json = Record<string, unknown>;

const obj = (value: unknown): Json =>
  value && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
const str = (value: unknown): string | null => (typeof value === 'string' && value.length > 0 ? value : null);
const date = (value: unknown): Date | undefined => {
  if (typeof value !== 'string' || !value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d;
};
/** Prefers the exact global id; falls back to the (losslessly parsed) numeric id. */
const entityId = (json: Json): string | null => idString(json.admin_graphql_api_id) ?? idString(json.id);
const idList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(idString).filter((x): x is string => x !== null) : [];

function invalid(topic: string, what: string): never {
  throw new TactfulError('SHOPIFY.WEBHOOK_INVALID', `The ${topic} webhook body ${what}.`);
}

type Need = 'array' | 'object' | 'string' | 'id' | 'key';

/**
 * What each topic's body must carry, and the keys that only other topics' bodies carry (REST payloads of API
 * 2025-10, as in Shopify's samples). Shopify signs the body but not the topic header, so a body captured on
 * one topic and replayed under another (a products/create as shop/redact, a customers/redact as
 * customers/data_request) must fail here.
 */
export interface TopicShape {
  needs: Array<[string, Need]>;
  refuses: string[];
  /** The field that names the shop, when the body has one. */
  shopField?: string;
}

const others = {
  order: 'line_items',
  product: 'variants',
  consent: 'email_marketing_consent',
  compliance: 'shop_domain',
  shop: 'myshopify_domain',
} as const;
const allBut = (...keep: Array<keyof typeof others>) =>
  (Object.keys(others) as Array<keyof typeof others>).filter((k) => !keep.includes(k)).map((k) => others[k]);

const orderShape: TopicShape = {
  needs: [
    ['id', 'id'],
    ['line_items', 'array'],
  ],
  refuses: allBut('order'),
};
const customerShape: TopicShape = {
  needs: [
    ['id', 'id'],
    ['email', 'key'],
  ],
  refuses: [...allBut(), 'customer', 'customer_id'],
};
const productShape: TopicShape = {
  needs: [
    ['id', 'id'],
    ['title', 'string'],
    ['variants', 'array'],
  ],
  refuses: allBut('product'),
};
const complianceNeeds: Array<[string, Need]> = [
  ['shop_id', 'id'],
  ['shop_domain', 'string'],
];

export const shopifyTopicShapes: Readonly<Record<string, TopicShape>> = {
  'orders/create': orderShape,
  'orders/updated': orderShape,
  'orders/paid': orderShape,
  'orders/cancelled': orderShape,
  'orders/fulfilled': orderShape,
  'orders/edited': orderShape,
  'customers/create': customerShape,
  'customers/update': customerShape,
  'customers_email_marketing_consent/update': {
    needs: [
      ['customer_id', 'id'],
      ['email_marketing_consent', 'object'],
    ],
    refuses: allBut('consent'),
  },
  'products/create': productShape,
  'products/update': productShape,
  // Shopify sends only the id: a body with a product's fields is a products/create|update replayed.
  'products/delete': { needs: [['id', 'id']], refuses: [...allBut(), 'title', 'email', 'customer'] },
  'customers/redact': {
    needs: [...complianceNeeds, ['customer', 'object'], ['orders_to_redact', 'array']],
    refuses: ['orders_requested', 'data_request', ...allBut('compliance')],
    shopField: 'shop_domain',
  },
  'customers/data_request': {
    needs: [...complianceNeeds, ['customer', 'object'], ['orders_requested', 'array'], ['data_request', 'object']],
    refuses: ['orders_to_redact', ...allBut('compliance')],
    shopField: 'shop_domain',
  },
  'shop/redact': {
    needs: complianceNeeds,
    refuses: ['customer', 'orders_to_redact', 'orders_requested', 'data_request', ...allBut('compliance')],
    shopField: 'shop_domain',
  },
  'app/uninstalled': {
    needs: [
      ['id', 'id'],
      ['myshopify_domain', 'string'],
    ],
    refuses: allBut('shop'),
    shopField: 'myshopify_domain',
  },
};

function has(json: Json, key: string, need: Need): boolean {
  if (!Object.hasOwn(json, key)) return false;
  const value = json[key];
  switch (need) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'string':
      return typeof value === 'string' && value.length > 0;
    case 'id':
      return idString(value) !== null;
    case 'key':
      return true;
  }
}

/** Throws SHOPIFY.WEBHOOK_INVALID unless the body has its topic's shape and names the header's shop. */
function checkShape(topic: string, json: Json, shop: string | undefined): void {
  const shape = shopifyTopicShapes[topic];
  if (!shape) return;
  const missing = shape.needs.filter(([key, need]) => !has(json, key, need)).map(([key]) => key);
  if (missing.length > 0) invalid(topic, `lacks ${missing.join(', ')}: it is not a ${topic} body`);
  const foreign = shape.refuses.filter((key) => Object.hasOwn(json, key));
  if (foreign.length > 0)
    invalid(topic, `carries ${foreign.join(', ')}, which only other topics' bodies do: it is not a ${topic} body`);
  if (shape.shopField && shop !== undefined) {
    const named = String(json[shape.shopField]).trim().toLowerCase();
    if (named !== shop) invalid(topic, `names the shop ${named}, but X-Shopify-Shop-Domain says ${shop}`);
  }
}

export function parseOrderPayload(topic: string, json: Json, ctx: ParseContext): OrderRecord {
  const id = entityId(json) ?? invalid(topic, 'has no order id');
  const createdAt =
    date(json.created_at) ?? date(json.processed_at) ?? ctx.triggeredAt ?? invalid(topic, 'has no created_at');
  const customer = obj(json.customer);
  const lines: OrderLine[] = [];
  for (const raw of Array.isArray(json.line_items) ? json.line_items : []) {
    const line = obj(raw);
    const productId = idString(line.product_id);
    if (!productId) continue;
    const price = str(line.price);
    lines.push({
      productId,
      variantId: idString(line.variant_id),
      title: str(line.title) ?? str(line.name) ?? '',
      quantity: typeof line.quantity === 'number' ? line.quantity : Number(line.quantity ?? 1),
      ...(price ? { price } : {}),
    });
  }
  const totalPrice = str(json.total_price);
  const currency = str(json.currency);
  const name = str(json.name);
  return {
    id,
    ...(name ? { name } : {}),
    customerId: Object.keys(customer).length > 0 ? entityId(customer) : null,
    email: normaliseEmail(str(json.email) ?? str(json.contact_email) ?? str(customer.email)),
    createdAt,
    updatedAt: date(json.updated_at) ?? createdAt,
    cancelledAt: date(json.cancelled_at) ?? null,
    refunded: json.financial_status === 'refunded',
    ...(currency ? { currency } : {}),
    ...(totalPrice ? { totalPrice } : {}),
    lines,
  };
}

function parseCustomerPayload(topic: string, json: Json, ctx: ParseContext): CustomerRecord {
  const id = entityId(json) ?? invalid(topic, 'has no customer id');
  const address = obj(json.default_address);
  const createdAt = date(json.created_at);
  const tags =
    typeof json.tags === 'string'
      ? json.tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : Array.isArray(json.tags)
        ? json.tags.map(String)
        : [];
  return {
    id,
    email: normaliseEmail(str(json.email)),
    firstName: str(json.first_name),
    lastName: str(json.last_name),
    phone: str(json.phone),
    country: str(address.country_code) ?? str(address.country),
    region: str(address.province_code) ?? str(address.province),
    city: str(address.city),
    tags,
    ...(createdAt ? { createdAt } : {}),
    updatedAt: date(json.updated_at) ?? createdAt ?? ctx.triggeredAt ?? ctx.receivedAt,
  };
}

function parseProductPayload(topic: string, json: Json): ProductRecord {
  const id = entityId(json) ?? invalid(topic, 'has no product id');
  const status = json.status === 'draft' ? 'draft' : json.status === 'archived' ? 'archived' : 'active';
  const variants = Array.isArray(json.variants) ? json.variants.map(obj) : [];
  const prices = variants.map((v) => Number(v.price)).filter((p) => Number.isFinite(p));
  const tracked = variants.some((v) => v.inventory_management === 'shopify');
  const stock = variants.reduce(
    (sum, v) => sum + (typeof v.inventory_quantity === 'number' ? v.inventory_quantity : 0),
    0,
  );
  const handle = str(json.handle);
  const shopUrl = str(json.shop_url);
  const published = json.published_at !== null && json.published_at !== undefined;
  const image = obj(json.image);
  const updatedAt = date(json.updated_at);
  return {
    id,
    title: str(json.title) ?? '',
    ...(handle ? { handle } : {}),
    ...(handle && shopUrl && published ? { url: `${shopUrl}/products/${handle}` } : {}),
    imageUrl: str(image.src),
    ...(prices.length > 0 ? { price: prices.reduce((a, b) => Math.min(a, b)).toFixed(2) } : {}),
    category: str(json.product_type),
    available: status === 'active' && published && (!tracked || stock > 0),
    status,
    ...(updatedAt ? { updatedAt } : {}),
  };
}

/**
 * The event a delivery means, or null when it means nothing to Tactful (an empty consent payload, SMS
 * consent, a customer deleted by the merchant, bulk_operations/finish which the route handles itself).
 * Throws SHOPIFY.WEBHOOK_INVALID on a body that is not JSON or lacks what the topic needs.
 */
export function parseShopifyWebhook(topic: string, rawBody: string | Buffer, ctx: ParseContext): InboundEvent | null {
  let parsed: unknown;
  try {
    parsed = parseJsonLossless(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch (cause) {
    throw new TactfulError('SHOPIFY.WEBHOOK_INVALID', `The ${topic} webhook body is not JSON.`, { cause });
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) invalid(topic, 'is not a JSON object');
  const json = parsed as Json;
  checkShape(topic, json, ctx.shop);
  switch (topic) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/cancelled':
    case 'orders/fulfilled':
    case 'orders/edited':
      return { kind: 'order', order: parseOrderPayload(topic, json, ctx) };
    case 'customers/create':
    case 'customers/update':
      return { kind: 'customer', customer: parseCustomerPayload(topic, json, ctx) };
    case 'customers_email_marketing_consent/update': {
      const consent = obj(json.email_marketing_consent);
      const email = normaliseEmail(str(json.email_address));
      const externalId = idString(json.customer_id) ?? undefined;
      if (!email) return null;
      const mapped = mapShopifyConsent(str(consent.state), str(consent.opt_in_level));
      const occurredAt = date(consent.consent_updated_at) ?? ctx.triggeredAt;
      if (mapped.kind === 'unknown' || !occurredAt) return null;
      if (mapped.kind === 'undeliverable')
        return { kind: 'undeliverable', email, reason: 'shopify: invalid email address', occurredAt };
      return {
        kind: 'consent',
        externalId,
        consent: {
          email,
          purpose: ctx.purpose,
          state: mapped.state,
          level: mapped.level,
          occurredAt,
          sourceEventId: `${externalId ?? email}:${String(consent.state).toUpperCase()}:${occurredAt.toISOString()}`,
          method: 'sync',
          rawState: String(consent.state).toUpperCase(),
        },
      };
    }
    case 'products/create':
    case 'products/update':
      return { kind: 'product', product: parseProductPayload(topic, json) };
    case 'products/delete': {
      const productId = entityId(json) ?? invalid(topic, 'has no product id');
      return { kind: 'product_deleted', productId, occurredAt: ctx.triggeredAt ?? ctx.receivedAt };
    }
    case 'customers/data_request':
    case 'customers/redact': {
      const customer = obj(json.customer);
      const email = normaliseEmail(str(customer.email));
      const externalId = idString(customer.id) ?? undefined;
      if (!email && !externalId) invalid(topic, 'names no customer');
      if (topic === 'customers/redact') {
        return {
          kind: 'erase_customer',
          email,
          externalId,
          orderIds: idList(json.orders_to_redact),
          requestId: ctx.webhookId,
        };
      }
      const requestId = idString(obj(json.data_request).id) ?? ctx.webhookId;
      return { kind: 'data_request', email, externalId, orderIds: idList(json.orders_requested), requestId };
    }
    case 'shop/redact':
      return { kind: 'erase_shop', requestId: ctx.webhookId, platformShopId: idString(json.shop_id) ?? undefined };
    case 'app/uninstalled':
      return { kind: 'uninstalled', platformShopId: idString(json.id) ?? undefined };
    default:
      return null;
  }
}
