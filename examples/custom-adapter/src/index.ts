// @tactful-examples/woocommerce: a CommercePlatform for WooCommerce (REST API wc/v3), built only on @tactful/core's public API.
export { createWooCommercePlatform } from './platform.js';
export { wooCommerceOptionsSchema, parseWooCommerceOptions } from './options.js';
export type { WooCommerceOptions, ResolvedWooCommerceOptions } from './options.js';
export { newsletterMeta, readNewsletter, tactfulToNewsletterState } from './records.js';
export type { NewsletterMeta } from './records.js';
export { receiveWooCommerceWebhook, signWooCommerceBody } from './webhooks.js';
export type { WooCommerceWebhookOptions, WooCommerceWebhookRequest, WooCommerceWebhookAnswer } from './webhooks.js';
