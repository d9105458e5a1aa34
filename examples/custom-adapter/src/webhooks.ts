/**
 * WooCommerce webhooks (topics customer.*, order.*, product.*) into Tactful's inbox. WooCommerce signs each
 * delivery with the webhook's secret: `X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body. The
 * handler is framework-neutral: give it the headers and the raw bytes, answer with the status it returns.
 * Nothing is stored unless the signature holds.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { bodyDeliveryId, isTactfulError, type InboundEvent, type InboundSink } from '@tactful/core';
import {
  parseRow,
  toCustomerRecord,
  toOrderRecord,
  toProductRecord,
  wooCustomer,
  wooOrder,
  wooProduct,
} from './records.js';

export interface WooCommerceWebhookOptions {
  /** The secret set on the webhook in WooCommerce > Settings > Advanced > Webhooks. */
  secret: string;
  /** The shop the inbox stores the event for (`tactful.shopId`). */
  shop: string;
  purpose?: string;
  consentMetaKey?: string;
  now?: () => Date;
}

export interface WooCommerceWebhookRequest {
  headers: Headers | Record<string, string | string[] | undefined>;
  rawBody: Buffer | string;
}

export interface WooCommerceWebhookAnswer {
  status: number;
  outcome: 'accepted' | 'duplicate' | 'ignored' | 'ping' | 'refused';
  message: string;
}

function header(headers: WooCommerceWebhookRequest['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name.toLowerCase()] ?? headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function signWooCommerceBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}

function signatureHolds(rawBody: Buffer | string, secret: string, signature: string | undefined): boolean {
  if (!signature || secret === '') return false;
  const expected = Buffer.from(signWooCommerceBody(rawBody, secret));
  const given = Buffer.from(signature.trim());
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** The normalised event of a topic, or null for a topic Tactful has no use for. */
function toEvent(
  topic: string,
  body: unknown,
  options: WooCommerceWebhookOptions,
  receivedAt: Date,
): InboundEvent | null {
  const ctx = {
    metaKey: options.consentMetaKey ?? 'tactful_newsletter',
    purpose: options.purpose ?? 'email_marketing',
  };
  switch (topic) {
    case 'customer.created':
    case 'customer.updated':
      return { kind: 'customer', customer: toCustomerRecord(parseRow(wooCustomer, body, 'customer'), ctx) };
    case 'order.created':
    case 'order.updated':
      return { kind: 'order', order: toOrderRecord(parseRow(wooOrder, body, 'order')) };
    case 'product.created':
    case 'product.updated':
      return { kind: 'product', product: toProductRecord(parseRow(wooProduct, body, 'product')) };
    case 'product.deleted': {
      const id = (body as { id?: unknown } | null)?.id;
      return typeof id === 'number' ? { kind: 'product_deleted', productId: String(id), occurredAt: receivedAt } : null;
    }
    default:
      // customer.deleted and order.deleted carry only an id: a deletion in the shop is not an erasure request.
      return null;
  }
}

export async function receiveWooCommerceWebhook(
  sink: InboundSink,
  request: WooCommerceWebhookRequest,
  options: WooCommerceWebhookOptions,
): Promise<WooCommerceWebhookAnswer> {
  const topic = header(request.headers, 'x-wc-webhook-topic');
  // On creation WooCommerce pings the URL with `webhook_id=N` (form-encoded, unsigned): answer 200 so it activates.
  if (topic === undefined && /^webhook_id=\d+$/.test(request.rawBody.toString().trim()))
    return { status: 200, outcome: 'ping', message: 'ping received' };
  if (!signatureHolds(request.rawBody, options.secret, header(request.headers, 'x-wc-webhook-signature'))) {
    return {
      status: 401,
      outcome: 'refused',
      message: 'The X-WC-Webhook-Signature does not match this body: check the webhook secret. Nothing was stored.',
    };
  }
  if (topic === undefined)
    return { status: 400, outcome: 'refused', message: 'X-WC-Webhook-Topic is missing. Nothing was stored.' };
  const receivedAt = options.now?.() ?? new Date();
  let event: InboundEvent | null;
  try {
    event = toEvent(topic, JSON.parse(request.rawBody.toString()), options, receivedAt);
  } catch (error) {
    if (error instanceof SyntaxError || isTactfulError(error, 'WOOCOMMERCE.BAD_RESPONSE'))
      return {
        status: 400,
        outcome: 'refused',
        message: `The ${topic} body cannot be read (${(error as Error).message}). Nothing was stored.`,
      };
    throw error;
  }
  if (!event) return { status: 200, outcome: 'ignored', message: `${topic} is not used by Tactful` };
  const deliveryId = header(request.headers, 'x-wc-webhook-delivery-id') ?? bodyDeliveryId(request.rawBody);
  const outcome = await sink.receive(options.shop, event, { system: 'woocommerce', deliveryId, receivedAt, topic });
  return { status: 200, outcome, message: outcome === 'duplicate' ? 'already received' : 'stored' };
}
