// @tactful/mailchimp/testing: the Mailchimp sandbox and helpers for tests of other packages.
export { createMailchimpSandbox, mailchimpTime, DEFAULT_CONTACT } from './sandbox.js';
export type {
  MailchimpSandbox,
  MailchimpSandboxJourneys,
  MailchimpSandboxOptions,
  SandboxAudience,
  SandboxAudienceSeed,
  SandboxMember,
  SandboxCampaign,
  SandboxJourneyStep,
  SandboxJourneyTrigger,
  SandboxEmail,
  SandboxWebhook,
  MemberStatus,
  ChangeSource,
  FaultKind,
  WebhookDelivery,
  AudienceContact,
} from './sandbox.js';
export { renderMergeTags } from './render.js';
export {
  createMailchimpFaultPlan,
  mailchimpFaultKinds,
  mailchimpRequestFaultKinds,
  mailchimpBatchFaultKinds,
  mailchimpWebhookFaultKinds,
} from './fault-plan.js';
export type {
  MailchimpFaultPlan,
  MailchimpFaultPlanOptions,
  MailchimpFaultKind,
  MailchimpRequestFaultKind,
  MailchimpBatchFaultKind,
  MailchimpWebhookFaultKind,
} from './fault-plan.js';
export { serveMailchimpSandbox } from './http-host.js';
export type { MailchimpSandboxHost } from './http-host.js';
export type { SandboxTestEmail } from './state.js';
export { loadSpecValidator, defaultSpecPath } from './openapi.js';
export { mailchimpDataPath } from './data.js';
export { createMemoryInboundSink } from './memory-sink.js';
