// @tactful/shopify/testing: the Shopify sandbox — a stateful fake of the Admin API (2025-10) served through
// msw — and what it can be seeded from. The demo and the end-to-end tests use it too.
export { createShopifySandbox } from './sandbox.js';
export {
  createShopifyFaultPlan,
  shopifyFaultKinds,
  shopifyRequestFaultKinds,
  shopifyWebhookFaultKinds,
} from './fault-plan.js';
export type {
  ShopifyFaultPlan,
  ShopifyFaultPlanOptions,
  ShopifyFaultKind,
  ShopifyRequestFaultKind,
  ShopifyWebhookFaultKind,
} from './fault-plan.js';
export { serveShopifySandbox, shopifySandboxFetch } from './http-host.js';
export type { SandboxHttpHost } from './http-host.js';
export type {
  ShopifySandbox,
  ShopifySandboxOptions,
  BucketOptions,
  SandboxFault,
  SandboxRequestLog,
  DeliveredWebhook,
  CustomerSeed,
  ProductSeed,
  OrderSeed,
} from './sandbox.js';
export type {
  ShopState,
  SandboxCustomer,
  SandboxOrder,
  SandboxLine,
  SandboxProduct,
  SandboxConsent,
  SandboxBulkOperation,
  MarketingState,
  MarketingOptInLevel,
} from './state.js';
export { seedFromGroceries, seedFromOrdersCsv, parseCsv } from './seed.js';
export type { GroceriesData, GroceriesSeedOptions, SeedSummary } from './seed.js';
export { shopifyDataPath } from './data.js';
export { loadAdminSchema, validateDocument, adminSchemaPath } from './schema.js';
