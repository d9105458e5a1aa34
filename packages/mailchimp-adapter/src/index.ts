// The public door of @tactful/mailchimp. Named exports only, listed by hand.
export { createMailchimpProvider, memberToInboundEvent, sanitiseMergeValue, MAILCHIMP_MAX_BATCH } from './provider.js';
export type { MailchimpProvider, MailchimpRuntime } from './provider.js';
export { mailchimpOptionsSchema, parseMailchimpOptions } from './options.js';
export { mailchimpAccount } from './account.js';
export type { MailchimpAccount, MailchimpAccountOptions, MailchimpAudience } from './account.js';
export type { MailchimpOptions, MailchimpOptionsInput } from './options.js';
export { statusMappingTable, mapConsentToStatus, memberToConsent } from './sync/status-mapping.js';
export type { StatusDecision } from './sync/status-mapping.js';
export { createMemoryHashStore } from './sync/hash-store.js';
export { reconcileMailchimpAudience } from './sync/reconcile.js';
export type { ReconcileResult } from './sync/reconcile.js';
export type { MemberHashStore } from './sync/hash-store.js';
export { subscriberHash, normaliseEmail } from './subscriber-hash.js';
export { mailchimpWebhookRoutes } from './webhooks/router.js';
export type { MailchimpWebhookRouteOptions, MailchimpWebhookTenant } from './webhooks/router.js';
export { parseMailchimpWebhook, decodeWebhookBody, mailchimpWebhookSchema } from './webhooks/parse.js';
export type { MailchimpWebhook, ParsedWebhook } from './webhooks/parse.js';
export {
  renderCampaignHtml,
  campaignFieldsFor,
  campaignMergeFields,
  defaultMergeTags,
  MAX_PRODUCTS,
} from './campaign/template.js';
export type { CampaignTemplateOptions, CampaignMergeTags } from './campaign/template.js';
