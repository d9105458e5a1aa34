// The engine's contract, written out: what `createTactful` returns. Each part is built by its own folder's
// factory (`consent/api.ts` builds `Tactful['consent']`, …) and `engine.ts` only wires them together.
import type { Actor, AuditQuery } from './audit/log.js';
import type { AuditExportFormat } from './privacy/audit-export.js';
import type { AuditRowView } from './audit/page.js';
import type { ChainVerification } from './audit/chain.js';
import type { CampaignRunResult, RunCampaignInput } from './campaign/run.js';
import type { CampaignStats } from './campaign/stats.js';
import type { ConsentEvidence } from './consent/event.js';
import type { MailAllowance } from './consent/mail-throttle.js';
import type { Purpose, PurposeInput } from './consent/purposes.js';
import type { HistoryEntry, OptInRequest, OptInTicket, PurposeConsentView, RecordOutcome } from './consent/service.js';
import type { TokenPayload } from './consent/tokens.js';
import type { FlowConfig } from './flows/config.js';
import type { StepPreview } from './flows/preview.js';
import type { FlowReport } from './flows/report.js';
import type { FlowRunReport, RunDueOptions } from './flows/run.js';
import type { ContactDecision, ContactPolicy, ContactPolicyInput } from './contact/policy.js';
import type { PreferenceChange, PreferenceChangeResult } from './preferences/preferences.js';
import type { PreferencesView } from './profile/preference-centre.js';
import type { CompactionReport } from './privacy/compact.js';
import type { DataRequestBundle } from './privacy/data-requests.js';
import type { EraseRequest, EraseResult } from './privacy/erase.js';
import type { SubjectExport } from './privacy/export.js';
import type { ProcessingRegister } from './privacy/register.js';
import type { StaleSubject } from './privacy/retention.js';
import type { MergePreview, MergeResult } from './consent/merge.js';
import type { OrderIngestResult } from './recommend/orders.js';
import type { AttributeUpdate, ProfileAttributesInput } from './profile/attributes.js';
import type { ProfileView } from './profile/view.js';
import type { CustomerEmail, CustomerListPage, CustomerQuery } from './profile/customers.js';
import type { TestSendInput, TestSendResult, TestEmail } from './campaign/test-send.js';
import type { SubjectOrder, SubjectRecord } from './profile/record.js';
import type {
  CommercePlatform,
  CustomerRecord,
  EmailProvider,
  InboundEvent,
  InboundSink,
  OrderRecord,
  ProductRecord,
} from './ports.js';
import type { CoPurchaseModel } from './recommend/model.js';
import type { EaseFit } from './recommend/ease.js';
import type { CatalogProduct } from './recommend/parse.js';
import type { RecommendOptions } from './recommend/recommender.js';
import type { CustomerRecommendations, RelatedProduct } from './recommend/service.js';
import type { LeftOut, MerchandisingChange, MerchandisingRules } from './recommend/merchandising.js';
import type { ConnectionInput, ConnectionView } from './shop/connections.js';
import type { PairStats } from './recommend/stats.js';
import type { ActivityReport } from './reports/activity.js';
import type { ParetoReport, RfmReport, SegmentPreview } from './segment/evaluate.js';
import type { Segment } from './segment/language.js';
import type { ShopSettings, ShopSettingsInput } from './shop/settings.js';
import type { KeyValueStore, ShopKeyValueStore } from './store/kv.js';
import type { Store } from './store/open.js';
import type { DeliverBatch, DispatcherOptions, DispatchReport } from './sync/dispatcher.js';
import type { InboundHandler, InboxReport } from './sync/inbox.js';
import type { OutboxCounts } from './sync/outbox.js';
import type { SyncAdapters, SyncReport, SyncRunOptions } from './sync/run-types.js';

/** The engine of one shop: the only door an application has into Tactful's data. */
export interface Tactful {
  /** The shop this engine acts for, normalised (e.g. `my-shop.myshopify.com`). */
  readonly shopId: string;
  /** The store the engine works on (its kind and location; closing it is the caller's job). */
  readonly store: Store;
  /** The engine's clock (tests pass a fixed one). */
  readonly now: () => Date;
  /** Consent per purpose: recording it, showing it, double opt-in and one-click unsubscribe. */
  readonly consent: TactfulConsent;
  /** The purposes consent is asked for, versioned; two defaults are created with the shop. */
  readonly purposes: TactfulPurposes;
  /** Signed links (`<payload>.<HMAC>` under the shop's token key) for pages that show before acting. */
  readonly links: TactfulLinks;
  /** Emails the public forms may trigger to one address (see consent/mail-throttle.ts). */
  readonly mailThrottle: TactfulMailThrottle;
  /** People the shop holds: attributes, address changes, merges, rectification, and what their pages show. */
  readonly profiles: TactfulProfiles;
  /** The owner's customer list (search by address through its blind index, filters, pages) and audited views. */
  readonly customers: TactfulCustomers;
  /** What customers say about their own personalisation: "not this" exclusions and sensitive-category opt-ins. */
  readonly preferences: TactfulPreferences;
  /** Audiences described by rules: parsed, previewed, saved; Pareto and RFM reports. */
  readonly segments: TactfulSegments;
  /** How often and when a person may be mailed (caps, quiet hours, product resend), and each send recorded. */
  readonly contact: TactfulContact;
  /** Orders from connected platforms (the recommendation model learns from them). */
  readonly orders: TactfulOrders;
  /** The shop's catalogue. */
  readonly products: TactfulProducts;
  /** Co-purchase recommendations: the model, its fit, per-customer and per-product lists. */
  readonly recommend: TactfulRecommend;
  /** What the shop never recommends and what it favours; every recommendation honours it. */
  readonly merchandising: TactfulMerchandising;
  /** Related-product campaigns: who gets one, what it says, sending it exactly once, and what it did. */
  readonly campaign: TactfulCampaigns;
  /** Automated flows (related products some days after a paid order): settings, the runner, its holdout report. */
  readonly flows: TactfulFlows;
  /** Data-subject rights and retention: export, erasure, the processing register, platform data requests. */
  readonly privacy: TactfulPrivacy;
  /** The shop's audit log: export, verification of both hash chains, pages for the admin. */
  readonly audit: TactfulAudit;
  /** The shop's settings (double opt-in, connected systems, sender, …); every change is audited. */
  readonly settings: TactfulSettings;
  /** Connections to other systems made from the admin: secrets sealed under the shop's key, changes audited. */
  readonly connections: TactfulConnections;
  /** Server-side sessions of the admin dashboard: signing out ends them (see shop/admin-sessions.ts). */
  readonly adminSessions: TactfulAdminSessions;
  /** What the shop's dashboard shows: the consent funnel, consent changes, attributed revenue. */
  readonly reports: TactfulReports;
  /** Pulling changes from connected systems and delivering Tactful's changes back (see api/sync-run.ts). */
  readonly sync: TactfulSync;
  /** Changes waiting to be delivered to connected systems. */
  readonly outbox: TactfulOutbox;
  /** Where webhooks and pulls hand inbound deliveries (stored first, processed by `processInbox`). */
  readonly inbox: InboundSink;
  /** Processes stored inbound deliveries (all shops of the store, or this one). */
  processInbox(options?: {
    extra?: Partial<Record<InboundEvent['kind'], InboundHandler>>;
    allShops?: boolean;
    limit?: number;
    /** How long one claim (one transaction) may keep handling, in ms; the rest waits for the next claim. */
    budgetMs?: number;
    /** false: one delivery at a time, none in batches (the bench's baseline). */
    batches?: boolean;
    /** The most deliveries handled in one batch (default 500). */
    batchSize?: number;
  }): Promise<InboxReport>;
  /** Delivery functions for the dispatcher, one per connected adapter (keyed by its `system`). */
  targets(adapters: { platform?: CommercePlatform; provider?: EmailProvider }): Record<string, DeliverBatch>;
  /** Key-value storage in the store, for adapters and the application (sessions, checkpoints, leases). */
  readonly storage: TactfulStorage;
  /** Resolves when the database answers (a readiness check); rejects otherwise. */
  ping(): Promise<void>;
}

export interface TactfulConsent {
  /** Records one consent event (validated; CONSENT.* / VALIDATION errors otherwise); idempotent on its source id. */
  record(input: unknown, actor?: Actor): Promise<RecordOutcome>;
  /** Records many events, one outcome each, in order. */
  recordBatch(inputs: readonly unknown[], actor?: Actor): Promise<RecordOutcome[]>;
  /** The person's current consent per purpose. */
  show(email: string): Promise<{ subjectId: string; email: string; purposes: PurposeConsentView[] }>;
  /** Every consent event of the person, oldest first. */
  history(email: string): Promise<{ subjectId: string; events: HistoryEntry[] }>;
  /** Starts a double opt-in: a pending consent and the token of the confirmation link. */
  requestOptIn(request: OptInRequest, actor?: Actor): Promise<OptInTicket>;
  /** Confirms a double opt-in from its link's token. */
  confirmOptIn(
    token: string,
    evidence?: ConsentEvidence,
    actor?: Actor,
  ): Promise<{ subjectId: string; purposes: string[] }>;
  /** The token of a one-click unsubscribe link for the person and purpose. */
  unsubscribeToken(email: string, purpose: string): Promise<string>;
  /** Withdraws the consent named by an unsubscribe token. */
  unsubscribe(
    token: string,
    evidence?: ConsentEvidence,
    actor?: Actor,
  ): Promise<{ subjectId: string; purpose: string; alreadyWithdrawn: boolean }>;
}

export interface TactfulPurposes {
  /** The shop's purposes, each at its newest version. */
  list(): Promise<Purpose[]>;
  /** Defines a purpose, or a new version of one when its text changed (audited). */
  define(input: PurposeInput, actor?: Actor): Promise<{ purpose: Purpose; newVersion: boolean }>;
}

export interface TactfulLinks {
  /**
   * The payload of a link of `kind` issued by this shop; CONSENT.TOKEN_FORGED / CONSENT.TOKEN_EXPIRED
   * otherwise. `allowExpired` skips only the expiry: for "mail me a fresh link", which goes to the address
   * on file and shows nothing.
   */
  read<K extends TokenPayload['kind']>(
    token: unknown,
    kind: K,
    options?: { allowExpired?: boolean },
  ): Promise<Extract<TokenPayload, { kind: K }>>;
  /** A link to the subject's preference centre, issued now and valid `ttlHours` (default 24). */
  preferences(subjectId: string, ttlHours?: number): Promise<string>;
}

export interface TactfulMailThrottle {
  /** Takes one email to `email` if its allowance has one left; otherwise when the next may go. */
  take(email: string): Promise<MailAllowance>;
}

export interface TactfulProfiles {
  /** The person's profile: attributes with their sources, RFM, ages. */
  show(email: string): Promise<ProfileView>;
  /** Sets attributes from `source` (lower-ranked sources never overwrite a customer's own values). */
  setAttributes(
    email: string,
    attributes: ProfileAttributesInput | unknown,
    source?: string,
    actor?: Actor,
  ): Promise<AttributeUpdate>;
  /** Stores names and location of customers with personalisation granted; the others are skipped. */
  ingestCustomers(
    records: readonly CustomerRecord[],
    source: string,
    actor?: Actor,
  ): Promise<{ stored: number; skipped: number }>;
  /** The person's address changes (their own correction); PROFILE.CONFLICT / PROFILE.SUPPRESSED when refused. */
  changeEmail(oldEmail: string, newEmail: string, actor?: Actor): Promise<{ subjectId: string }>;
  /**
   * Two people in Tactful who are one: `mergeEmail`'s history, addresses, ids, orders and sends join
   * `keepEmail`'s person, consent is folded again over both, and the step is audited (`subject.merged`).
   */
  merge(keepEmail: string, mergeEmail: string, actor?: Actor): Promise<MergeResult>;
  /**
   * What `merge` would do, changing nothing: both people (consents, orders, attributes, preferences, past
   * addresses) and the result by the merge's rules. Refuses as `merge` does; the view is audited for both.
   */
  previewMerge(keepEmail: string, mergeEmail: string, actor?: Actor): Promise<MergePreview>;
  /**
   * Rectification (Art. 16): values the customer corrects, stored with source `customer` (they outrank
   * imports and syncs), audited, and pushed to connected systems (names) through the outbox.
   */
  rectify(email: string, attributes: ProfileAttributesInput | unknown, actor: Actor): Promise<AttributeUpdate>;
  /** Recomputes every profile's RFM scores. */
  rescore(): Promise<void>;
  /** When and how the subject came into the records, and their ids elsewhere; null when unknown or erased. */
  record(subjectId: string): Promise<SubjectRecord | null>;
  /** The subject's newest orders (default 50) with their lines and product titles. */
  orders(subjectId: string, limit?: number): Promise<SubjectOrder[]>;
  /** The subject's current email; null once erased (their key is gone) or when unknown. */
  emailOf(subjectId: string): Promise<string | null>;
}

export interface TactfulCustomers {
  /**
   * A page of customers, newest first: `email` finds one address (current or earlier) by its blind index;
   * `consent` (purpose → state), `rfmLabel` and `segment` (a saved segment's name) filter; `after` is the
   * previous page's `next`. INPUT.INVALID (every problem named) or SEGMENT.NOT_FOUND otherwise.
   */
  list(query?: CustomerQuery & { segment?: string | undefined }): Promise<CustomerListPage>;
  /**
   * Records that `actor` looked at the customer (`subject.viewed`, `what` they opened): the audit log and the
   * person's own export then say who looked and when. False for an unknown or erased customer.
   */
  viewed(subjectId: string, actor: Actor, what?: string): Promise<boolean>;
  /** Records an owner's action on the customer that no other part audits (`admin.action`, e.g. a link sent). */
  acted(subjectId: string, actor: Actor, action: string): Promise<boolean>;
  /** The campaign emails the customer was picked for, newest first, with their wave's opens and clicks. */
  emails(subjectId: string): Promise<CustomerEmail[]>;
}

export interface TactfulPreferences {
  /** The person's exclusions and sensitive-category opt-ins. */
  show(email: string): Promise<PreferencesView>;
  /** Excludes a past purchase or a whole category from personalisation; `undo` takes the exclusion back. */
  exclude(
    email: string,
    target: { productId: string } | { category: string },
    options?: { undo?: boolean },
    actor?: Actor,
  ): Promise<PreferenceChangeResult>;
  /** Allows (or with `undo`, stops) purchases in one sensitive category to be used for recommendations. */
  allowSensitive(
    email: string,
    category: string,
    options?: { undo?: boolean },
    actor?: Actor,
  ): Promise<PreferenceChangeResult>;
  /** Applies one change of any kind. */
  change(email: string, change: PreferenceChange, actor?: Actor): Promise<PreferenceChangeResult>;
}

export interface TactfulSegments {
  /** Validates a segment definition (SEGMENT.INVALID otherwise). */
  parse(input: unknown): Segment;
  /** How many match, with a sample. */
  preview(segment: unknown, sampleSize?: number): Promise<SegmentPreview>;
  /** The subject ids that match. */
  members(segment: unknown): Promise<string[]>;
  /** Saves (or replaces) a named definition (SEGMENT.INVALID otherwise); audited. */
  save(name: string, segment: unknown, actor?: Actor): Promise<Segment>;
  list(): Promise<Array<{ name: string; definition: Segment; updatedAt: Date }>>;
  /** One saved segment by name (campaigns and flows select their audience with it); null when none. */
  get(name: string): Promise<{ name: string; definition: Segment; updatedAt: Date } | null>;
  /** False when no segment had that name; audited when one was deleted. */
  delete(name: string, actor?: Actor): Promise<boolean>;
  /** Which share of customers brings `threshold` (default 80 %) of revenue. */
  pareto(threshold?: number): Promise<ParetoReport>;
  /** Customers per RFM label. */
  rfm(): Promise<RfmReport>;
}

export interface TactfulContact {
  policy(): Promise<ContactPolicy>;
  setPolicy(input: ContactPolicyInput | unknown): Promise<ContactPolicy>;
  /** Whether the person may be mailed at `at`; `subject` is an email or a subject id. */
  canContact(subject: string, at?: Date, options?: { productIds?: readonly string[] }): Promise<ContactDecision>;
  /** Records a send (for caps and product resend); returns its id. `subject` is an email or a subject id. */
  recordSend(
    subject: string,
    send?: { sentAt?: Date; campaign?: string; productIds?: string[]; sendId?: string },
  ): Promise<string>;
}

export interface TactfulOrders {
  /** Upserts orders (idempotent on id, newest version wins) and applies their model deltas. */
  ingest(records: readonly OrderRecord[], source: string): Promise<OrderIngestResult>;
}

export interface TactfulProducts {
  /** Upserts catalogue products; returns how many were written. */
  upsert(records: readonly ProductRecord[], extra?: { replenishDays?: ReadonlyMap<string, number> }): Promise<number>;
  /** Catalogue titles of these products (unknown ids are left out). */
  titles(ids: readonly string[]): Promise<Map<string, string>>;
}

export interface TactfulRecommend {
  /** The co-purchase model (counts), cached. */
  model(): Promise<CoPurchaseModel>;
  /** The newest fitted model (refitted first when missing or stale), or null while there is too little data. */
  fit(): Promise<EaseFit | null>;
  /** Refits now from the current counts and stores the fit for every instance. */
  refit(): Promise<EaseFit | null>;
  /** Personal recommendations of one customer (an email or a subject id), with their reasons. */
  forCustomer(customer: string, options?: RecommendOptions): Promise<CustomerRecommendations>;
  /** Products bought together with `productId`, strongest first; what the shop never recommends left out. */
  related(
    productId: string,
    k?: number,
  ): Promise<Array<{ product: CatalogProduct | null; productId: string; score: number; stats: PairStats }>>;
  /** `related`, and the products the shop's rules left out of that list (with the rule). */
  relatedExplained(productId: string, k?: number): Promise<{ related: RelatedProduct[]; leftOut: LeftOut[] }>;
  /** The most bought products (by the model's counts) with their titles, for a picker. */
  topProducts(limit?: number): Promise<Array<{ productId: string; title: string; count: number }>>;
}

export interface TactfulCampaigns {
  /** Evaluates (dry run) or sends a campaign; a send reaches each recipient exactly once. */
  run(
    input: RunCampaignInput,
    deps?: {
      provider?: EmailProvider;
      actor?: Actor;
      onProgress?: (phase: 'evaluate' | 'send', done: number, total: number) => void;
    },
  ): Promise<CampaignRunResult>;
  /** Sends, opens, clicks, unsubscribes and attributed revenue per campaign. */
  stats(attributionDays?: number): Promise<CampaignStats[]>;
  /** Reads the provider's reports (opens, clicks) of the shop's campaigns. */
  refreshReports(provider: EmailProvider, options?: { campaign?: string }): Promise<{ refreshed: number }>;
  /**
   * Sends the email one customer would get now to the shop's own reply address, marked as a test, through the
   * provider's test email (or `mailbox`, the demo inbox); audited, never counted as a send to the customer.
   * CAMPAIGN.NO_SENDER, CAMPAIGN.NOT_ELIGIBLE (with the reason) or CAMPAIGN.NO_PROVIDER otherwise.
   */
  testSend(
    input: TestSendInput,
    deps: {
      provider?: EmailProvider | undefined;
      mailbox?: ((mail: TestEmail) => Promise<void>) | undefined;
      actor?: Actor;
    },
  ): Promise<TestSendResult>;
  /** The products the campaign's email featured to each recipient it was sent to (subject id → product ids). */
  featured(campaign: string): Promise<Map<string, string[]>>;
}

/** Where a flow's email goes and whose links it carries, for the runner and the preview. */
export interface FlowDelivery {
  /** The connected email provider (journeys when it declares them and the flow has a journey, else campaign waves). */
  provider?: EmailProvider | undefined;
  /** The app's public URL: preference-centre and unsubscribe links start with it. */
  publicUrl: string;
  /** Who runs or looks (the preview is audited when given). */
  actor?: Actor | undefined;
}

export interface TactfulFlows {
  /** Every flow with its settings (defaults for one never configured: off, 7 days, 09:00-20:00, 10 % holdout). */
  list(): Promise<FlowConfig[]>;
  /** One flow's settings; FLOW.NOT_FOUND for an unknown name. */
  show(flowId: string): Promise<FlowConfig>;
  /** Changes some settings (validated as a whole, FLOW.INVALID naming every problem, nothing changed) and audits which. */
  set(flowId: string, patch: unknown, actor?: Actor): Promise<{ flow: FlowConfig; changed: string[] }>;
  /**
   * Runs the steps due by `until` (default now) of every enabled flow: leased (two instances never hold one step),
   * checked again now (consents, erasure, the order, purchases since, caps, the send window), then sent exactly
   * once, held out, or left waiting / skipped / exited with the reason stored.
   */
  runDue(deps: FlowDelivery, options?: RunDueOptions): Promise<FlowRunReport>;
  /** The next steps due, each decided as of its due time without sending: who, when, what, or why not. */
  preview(flowId: string, deps: FlowDelivery, limit?: number): Promise<StepPreview[]>;
  /** Recipients against the holdout within the attribution window (with 95 % intervals) and the funnel per day. */
  report(flowId: string, attributionDays?: number): Promise<FlowReport>;
}

export interface TactfulPrivacy {
  /** The person's data (Art. 15), audited. */
  export(email: string, actor?: Actor, options?: { requestId?: string }): Promise<SubjectExport>;
  /** Erases, then compacts inbox/outbox and the WAL unless `compact: false` (see privacy/compact.ts). */
  erase(
    email: string,
    request: EraseRequest & { compact?: boolean },
    actor?: Actor,
  ): Promise<EraseResult & { compaction: CompactionReport | null }>;
  /** People with no activity for `months` (default 24). */
  retention(months?: number): Promise<StaleSubject[]>;
  /** Erases those people (and compacts when any were erased). */
  applyRetention(
    months?: number,
    actor?: Actor,
  ): Promise<{ erased: StaleSubject[]; compaction: CompactionReport | null }>;
  /** The record of processing activities (Art. 30). */
  register(months?: number): Promise<ProcessingRegister>;
  /** Export bundles prepared for platform data requests (customers/data_request), for the merchant; who each names. */
  dataRequests(): Promise<Array<{ requestId: string; preparedAt: string; subjectId: string | null }>>;
  /** One prepared bundle, for the merchant to hand over; each download is audited. */
  dataRequest(requestId: string, actor?: Actor): Promise<DataRequestBundle>;
}

export interface TactfulAudit {
  /** The log as CSV or JSON Lines, a page at a time; emails decrypted while their subject's key exists. */
  export(format: AuditExportFormat, query?: AuditQuery): AsyncGenerator<string>;
  /** Verifies both hash chains: the consent ledger and the audit log. */
  verify(): Promise<{ ledger: ChainVerification; audit: ChainVerification }>;
  /** The subject id of an email; null when the shop holds no such person. */
  subjectIdOf(email: string): Promise<string | null>;
  /** A page of the log, newest first, and how many entries the filter matches. */
  page(filter: AuditQuery, page: { limit: number; offset: number }): Promise<{ rows: AuditRowView[]; total: number }>;
}

export interface TactfulSettings {
  get(): Promise<ShopSettings>;
  /** Changes some settings (validated) and audits which. */
  update(patch: ShopSettingsInput, actor?: Actor): Promise<ShopSettings>;
}

export interface TactfulMerchandising {
  /** The rules: products and categories never recommended, products favoured (first first). */
  rules(): Promise<MerchandisingRules>;
  /** Applies one change (RECOMMEND.RULE_INVALID and nothing changed when it names nothing the catalogue holds). */
  change(change: MerchandisingChange, actor?: Actor): Promise<MerchandisingRules>;
  /** Every catalogue product a rule keeps out of recommendations, with the rule (shop's own and automatic). */
  keptOut(): Promise<LeftOut[]>;
  /** Catalogue products whose title (or id) contains `query`, for pickers. */
  search(
    query: string,
    limit?: number,
  ): Promise<
    Array<{ productId: string; title: string; category: string | null; imageUrl: string | null; price: string | null }>
  >;
  /** The catalogue's categories, alphabetically. */
  categories(): Promise<string[]>;
}

export interface TactfulConnections {
  /** One connection (never its secrets: their last four characters only); null when not connected. */
  get(system: string): Promise<ConnectionView | null>;
  list(): Promise<ConnectionView[]>;
  /** The secrets in clear, for the application to call the system with (never show or log them). */
  secrets(system: string): Promise<Record<string, string> | null>;
  /** Creates or changes a connection; audited without its secrets. */
  save(system: string, input: ConnectionInput, actor?: Actor): Promise<ConnectionView>;
  /** Forgets the connection and its secrets; audited. */
  remove(system: string, actor?: Actor): Promise<void>;
}

export interface TactfulAdminSessions {
  /** A new session valid `ttlHours`; returns its id. */
  create(ttlHours: number): Promise<string>;
  valid(id: string): Promise<boolean>;
  end(id: string): Promise<void>;
}

export interface TactfulReports {
  /** The consent funnel, consent changes and attributed revenue per day since `since`, and current consent. */
  activity(since: Date): Promise<ActivityReport>;
}

export interface TactfulSync {
  /**
   * Pulls what changed in each connected system since its cursor (through the inbox, like webhooks),
   * processes the inbox, delivers the outbox to those systems and moves each cursor whose pull succeeded.
   * Never throws for a vendor failure: it is in the report.
   */
  run(adapters: SyncAdapters, options?: SyncRunOptions): Promise<SyncReport>;
  /** When the last successful pull from `system` started; null before the first. */
  cursor(system: string): Promise<Date | null>;
}

export interface TactfulOutbox {
  /** A dispatcher for this shop's rows (pass `shopId: undefined` to serve every shop of the store). */
  dispatcher(opts: Omit<DispatcherOptions, 'db' | 'keys'>): {
    runOnce(): Promise<DispatchReport>;
    drain(maxRounds?: number): Promise<DispatchReport>;
  };
  counts(): Promise<OutboxCounts>;
}

export interface TactfulStorage {
  /** This shop's keys (adapter checkpoints, leases); rows go with the shop when it is erased. */
  readonly shop: ShopKeyValueStore;
  /** The application's own keys, shared by every shop (e.g. platform sessions). */
  readonly app: KeyValueStore;
  /** A 32-byte key derived from the master secret for `label`, for values the application encrypts itself. */
  secretKey(label: string): Buffer;
}
