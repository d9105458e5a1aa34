// The public door of @tactful/core. Named exports only, listed by hand.
export { TactfulError, isTactfulError, isRetryable } from './errors/tactful-error.js';
export type { TactfulErrorOptions } from './errors/tactful-error.js';
export { formatZodIssues, parseOrThrow } from './errors/zod.js';
export {
  ADAPTER_ERROR_REASONS,
  TACTFUL_ERRORS,
  httpStatusOf,
  isTactfulErrorCode,
  meaningOf,
  tactfulErrorCodes,
} from './errors/catalogue.js';
export type { AdapterErrorCode, AdapterErrorReason, TactfulErrorCode } from './errors/catalogue.js';
export { firstPartyOptInMethods, consentEventInput, purposeKey, subjectRef } from './consent/event.js';
export { consentStates, optInLevels, consentMethods } from './ports.js';
export { emailAddress } from './identity/email.js';
export type {
  ConsentEvent,
  ConsentEventInput,
  ConsentEventData,
  ConsentEvidence,
  ConsentSource,
  SubjectRef,
} from './consent/event.js';
export type { ConsentState, OptInLevel, ConsentMethod } from './ports.js';
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
  CustomerUpdate,
  MemberRecord,
  MemberChange,
  EmailProvider,
  EmailProviderCapabilities,
  CampaignContent,
  CampaignMessage,
  CampaignProductContent,
  CampaignSender,
  CampaignRequest,
  CampaignResult,
  CampaignReport,
  JourneyTriggerRequest,
  JourneyTriggerResult,
  TestEmailRequest,
  CampaignActivity,
  InboundEvent,
  InboundMeta,
  InboundSink,
} from './ports.js';
// store, keys and the engine
export { openStore, DEFAULT_STORE_URL } from './store/open.js';
export { collectGarbage } from './store/collect-garbage.js';
export type { Store, OpenStoreOptions } from './store/open.js';
export { createTactful, normaliseShop, bodyDeliveryId } from './engine.js';
export type { CreateTactfulOptions } from './engine.js';
// the engine's contract: one interface per part (see tactful.ts)
export type {
  Tactful,
  TactfulAdminSessions,
  TactfulAudit,
  TactfulCampaigns,
  TactfulFlows,
  FlowDelivery,
  TactfulConsent,
  TactfulContact,
  TactfulCustomers,
  TactfulLinks,
  TactfulMailThrottle,
  TactfulOrders,
  TactfulOutbox,
  TactfulPreferences,
  TactfulPrivacy,
  TactfulProducts,
  TactfulProfiles,
  TactfulPurposes,
  TactfulRecommend,
  TactfulReports,
  TactfulSegments,
  TactfulSettings,
  TactfulMerchandising,
  TactfulConnections,
  TactfulStorage,
  TactfulSync,
} from './tactful.js';
// read models (what an application shows)
export type { AuditRowView } from './audit/page.js';
export type { SubjectOrder, SubjectRecord } from './profile/record.js';
export type { ActivityReport, DayCount } from './reports/activity.js';
export type { KeyValueStore, ShopKeyValueStore } from './store/kv.js';
export { SYNC_OVERLAP_MS } from './sync/run-types.js';
export type {
  SyncAdapters,
  SyncReport,
  SystemSyncReport,
  SyncProgress,
  SyncProgressRunner,
  SyncRunOptions,
} from './sync/run-types.js';
export type { InboxReport, InboundHandler } from './sync/inbox.js';
export { parseMasterSecret } from './crypto/master-secret.js';
export { KeyRing } from './store/keyring.js';
export { shopSettings } from './shop/settings.js';
export { formatMoney } from './shop/money.js';
export { consentMethodLabel, ONE_CLICK_UNSUBSCRIBE_FORM } from './consent/method-label.js';
export type { ShopSettings, ShopSettingsInput } from './shop/settings.js';
// consent
export { foldConsent, compareEvents, isFirstPartyOptIn, initialConsent } from './consent/fold.js';
export type { FoldableEvent, FoldedConsent } from './consent/fold.js';
export { purposeDefinition, defaultPurposes } from './consent/purposes.js';
export type { Purpose, PurposeDefinition, PurposeInput } from './consent/purposes.js';
export { MAX_CLOCK_SKEW_MS } from './consent/service.js';
export { parseEmail } from './identity/email.js';
export { PREFERENCES_LINK_TTL_HOURS } from './consent/tokens.js';
export { RECIPIENT_MAIL_LIMITS } from './consent/mail-throttle.js';
export type { AttributeLoser, MergePreview, MergePreviewPerson, MergeResult } from './consent/merge.js';
export type { MailAllowance, MailWindow } from './consent/mail-throttle.js';
export { webUrl } from './profile/web-url.js';
export { fromExternalConsent } from './consent/external.js';
export type { RecordOutcome, PurposeConsentView, HistoryEntry, OptInRequest, OptInTicket } from './consent/service.js';
// audit
export { auditActions } from './audit/log.js';
export type { Actor, AuditAction, AuditQuery, AuditRow } from './audit/log.js';
export { auditCsvColumns } from './privacy/audit-export.js';
export type { AuditExportFormat, ExportedAuditEntry } from './privacy/audit-export.js';
export type { ChainBreak, ChainVerification } from './audit/chain.js';
// sync
export { backoffDelay } from './sync/backoff.js';
export type {
  Dispatcher,
  DispatcherOptions,
  DispatchReport,
  DeliverBatch,
  DeliveryOutcome,
} from './sync/dispatcher.js';
export type { OutboxItem, OutboxCounts } from './sync/outbox.js';
// recommend
export {
  CoPurchaseModel,
  createCoPurchaseModel,
  modelFromSnapshot,
  buildModel,
  defaultNeighbourOptions,
} from './recommend/model.js';
export type {
  OrderBasket,
  NeighbourOptions,
  ModelOptions,
  ProductCountRow,
  PairCountRow,
  OrderBasketRow,
  ModelSnapshot,
  ModelDelta,
  Neighbour,
  NeighbourTable,
  PairRule,
} from './recommend/model.js';
export { mineRules } from './recommend/rules.js';
export type { MinedRules } from './recommend/rules.js';
export { pairStats, logLikelihoodRatio, pairScore, scoreBaseline, scoreNames } from './recommend/stats.js';
export type { PairStats, ScoreName } from './recommend/stats.js';
export {
  basketFormats,
  isBasketFormat,
  detectBasketFormat,
  readBaskets,
  readItemCatalog,
  parseBasketCsv,
  parseFimi,
  parseJsonl,
  parseShopifyCsv,
} from './recommend/parse.js';
export type { BasketFormat, CatalogProduct, OrderLineInput } from './recommend/parse.js';
export {
  recommendForCustomer,
  relatedProducts,
  estimateRepurchaseIntervals,
  blendRanking,
  rankCandidates,
  easeReasons,
  statedReason,
} from './recommend/recommender.js';
export type {
  PurchaseRecord,
  SentRecord,
  CustomerHistory,
  RecommendOptions,
  RecommendationReason,
  Recommendation,
  RankedCandidate,
} from './recommend/recommender.js';
export {
  evaluateRecommendations,
  evaluateNextOrder,
  evaluatedModels,
  fitWithValidation,
} from './recommend/evaluate.js';
export { seededRandom } from './random.js';
export {
  fitEase,
  easeWeights,
  invertSpd,
  tuneEaseLambda,
  DEFAULT_EASE_ITEMS,
  DEFAULT_LAMBDA_SHARE,
} from './recommend/ease.js';
export type { EaseFit, FitEaseOptions } from './recommend/ease.js';
export { defaultFitPolicy, fitModel } from './recommend/service.js';
export type { FitPolicy } from './recommend/service.js';
export type { ExplainedRecommendation, CustomerRecommendations, RelatedProduct } from './recommend/service.js';
export { isGiftCard } from './recommend/merchandising.js';
export type { LeftOut, LeftOutRule, MerchandisingChange, MerchandisingRules } from './recommend/merchandising.js';
export type { ConnectionDetail, ConnectionInput, ConnectionView } from './shop/connections.js';
export type {
  EvaluationOptions,
  EvaluationMetrics,
  EvaluationResult,
  EvaluatedModel,
  NextOrderOptions,
  NextOrderResult,
} from './recommend/evaluate.js';
export { orderCounts, basketFromOrder, applyOrderEvent, catalogProduct } from './recommend/order-events.js';
// profiles, segments, contact, privacy
export { rfmLabels } from './profile/rfm.js';
export { CUSTOMER_PAGE_SIZE } from './profile/customers.js';
export type { CustomerEmail, CustomerListPage, CustomerListRow, CustomerQuery } from './profile/customers.js';
export { ageAt } from './profile/ages.js';
export { profileAttributeNames, profileAttributesInput } from './profile/attributes.js';
export { PROFILE_PURPOSE } from './profile/lifecycle.js';
export type { ProfileView } from './profile/view.js';
export type { RfmLabel } from './profile/rfm.js';
export type {
  ProfileAttributeName,
  ProfileAttributesInput,
  ProfileAttributes,
  AttributeValue,
  AttributeUpdate,
} from './profile/attributes.js';
// customers correct and shape what is known about them
export { CUSTOMER_SOURCE } from './profile/attributes.js';
export { PROFILE_PUSH, pushedAttributes } from './profile/service.js';
export type { ProfilePushPayload } from './profile/service.js';
export { basisRules } from './preferences/preferences.js';
export type { CustomerPreferences, PreferenceChange, PreferenceChangeResult } from './preferences/preferences.js';
export type { PreferencesView } from './profile/preference-centre.js';
export { parseSegment, parseSegmentJson, predicateSchemas, ageBands, segmentAttributes } from './segment/language.js';
export type { Segment, Predicate, PredicateKind, AgeBand, SegmentAttribute } from './segment/language.js';
export type { SegmentPreview, ParetoReport, RfmReport } from './segment/evaluate.js';
export { contactPolicySchema, decideContact, endOfQuietHours } from './contact/policy.js';
export type { ContactPolicy, ContactPolicyInput, ContactDecision, SendRecord } from './contact/policy.js';
export type { EraseRequest, EraseResult } from './privacy/erase.js';
export { EXPORT_FORMAT } from './privacy/export.js';
export type { SubjectExport } from './privacy/export.js';
export { DEFAULT_RETENTION_MONTHS } from './privacy/retention.js';
export type { StaleSubject } from './privacy/retention.js';
export { registerMarkdown } from './privacy/register.js';
export type { ProcessingRegister, ProcessingActivity } from './privacy/register.js';
export type { CompactionReport } from './privacy/compact.js';
// campaigns
export { runCampaignSchema, campaignName, exclusionLabels } from './campaign/run.js';
export type { RunCampaignInput, CampaignRunResult, CampaignPreview, ExclusionReason } from './campaign/run.js';
export { TEST_NOTE } from './campaign/test-send.js';
export type { TestEmail, TestSendInput, TestSendResult } from './campaign/test-send.js';
export { renderPreview, reasonLine, consentLine, utmLink } from './campaign/content.js';
export { ATTRIBUTION_DAYS } from './campaign/stats.js';
export type { CampaignStats } from './campaign/stats.js';
// flows
export { FLOW_IDS, defaultFlowSettings, flowSettingsSchema } from './flows/config.js';
export type { FlowConfig, FlowId, FlowSettings } from './flows/config.js';
export { COMPARISON_METHOD } from './flows/report.js';
export type { FlowComparison, FlowReport, FunnelDay, GroupOutcome, Interval } from './flows/report.js';
export type { FlowRunReport, RunDueOptions } from './flows/run.js';
export type { StepPreview } from './flows/preview.js';
