// The public door of @tactful/core. Named exports only, listed by hand.
export { TactfulError, isTactfulError, isRetryable } from './errors/tactful-error.js';
export type { TactfulErrorOptions } from './errors/tactful-error.js';
export { formatZodIssues, parseOrThrow } from './errors/zod.js';
export {
  consentStates,
  optInLevels,
  consentMethods,
  firstPartyOptInMethods,
  consentEventInput,
  emailAddress,
  purposeKey,
  subjectRef,
} from './consent/event.js';
export type {
  ConsentState,
  OptInLevel,
  ConsentMethod,
  ConsentEvent,
  ConsentEventInput,
  ConsentEventData,
  ConsentEvidence,
  ConsentSource,
  SubjectRef,
} from './consent/event.js';
export type {
  Page,
  PageRequest,
  ExternalConsent,
  CustomerRecord,
  OrderLine,
  OrderRecord,
  ProductRecord,
  ConsentPush,
  PushResult,
  CommercePlatform,
  CommercePlatformCapabilities,
  MemberRecord,
  MemberChange,
  EmailProvider,
  EmailProviderCapabilities,
  CampaignMessage,
  CampaignRequest,
  CampaignResult,
  CampaignReport,
  InboundEvent,
  InboundMeta,
  InboundSink,
} from './ports.js';
