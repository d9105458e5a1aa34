// The public door of @tactful/shopify. Named exports only, listed by hand.
export { createShopifyPlatform } from './platform.js';
export type { ShopifyPlatform } from './platform.js';
export { shopifyOptionsSchema } from './options.js';
export type { ShopifyOptions } from './options.js';
export {
  shopifyConsentTable,
  shopifyLevelTable,
  tactfulToShopifyState,
  tactfulToShopifyLevel,
  mapShopifyConsent,
} from './consent-mapping.js';
export type { ConsentMappingRow, MappedConsent, ShopifyMarketingState, ShopifyOptInLevel } from './consent-mapping.js';
export { memoryCheckpointStore } from './bulk/import.js';
export type { BulkImportCheckpoint, BulkImportCheckpointStore } from './bulk/import.js';
export { storeCheckpointStore } from './bulk/checkpoint-store.js';
export type { StoreCheckpointOptions } from './bulk/checkpoint-store.js';
export { createAdminClient } from './client.js';
export type { AdminClient, AdminClientOptions, ThrottleStatus } from './client.js';
export { shopifyRoutes, shopifyContentHash } from './webhooks/routes.js';
export type { ShopifyRoutesOptions } from './webhooks/routes.js';
export { verifyShopifyHmac, signShopifyBody } from './webhooks/hmac.js';
export {
  parseShopifyWebhook,
  shopifyWebhookTopics,
  shopifyComplianceTopics,
  shopifyTopicShapes,
} from './webhooks/parse.js';
export type { ParseContext } from './webhooks/parse.js';
export { createEncryptedSessionStorage, memorySessionStorage, memoryKeyValueStore } from './install/session-storage.js';
export type { ShopifySessionStorage, KeyValueStore } from './install/session-storage.js';
export { createShopifyAuth, shopifyAuthOptionsSchema } from './install/auth.js';
export type { ShopifyAuth, ShopifyAuthOptions } from './install/auth.js';
export { allDocuments as shopifyGraphqlDocuments, API_VERSION as SHOPIFY_API_VERSION } from './queries.js';
export { parseJsonLossless } from './lossless-json.js';
