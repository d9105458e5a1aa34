/**
 * The adapter contract. A commerce platform (Shopify, WooCommerce, ...) and an email provider
 * (Mailchimp, ...) are plain objects built by a factory; what they can do beyond the required methods is
 * declared in `capabilities`. Everything that crosses this boundary is normalised: emails trimmed and
 * lower-cased, ids as strings, times as `Date` in the source's own event time (never "now").
 *
 * Errors: throw `TactfulError` with `retryable: true` (and `retryAfter` when known) for 429, 5xx,
 * timeouts and resets; `retryable: false` for anything repeating cannot fix.
 */

// The consent vocabulary every system is translated into: adapters map their own words onto these.
/** The consent states (docs/architecture.md, "Consent rules"): `pending` awaits a double opt-in confirmation. */
export const consentStates = ['granted', 'pending', 'withdrawn', 'none'] as const;
export type ConsentState = (typeof consentStates)[number];

export const optInLevels = ['single', 'confirmed', 'unknown'] as const;
export type OptInLevel = (typeof optInLevels)[number];

/** How a consent event came about. Only `form` and `double_opt_in_confirmation` are first-party opt-ins. */
export const consentMethods = [
  'form',
  'checkout',
  'import',
  'admin',
  'api',
  'sync',
  'double_opt_in_confirmation',
] as const;
export type ConsentMethod = (typeof consentMethods)[number];

/** A page of results. `nextCursor` is undefined on the last page. Pages never overlap or skip. */
export interface Page<T> {
  items: T[];
  nextCursor?: string | undefined;
}

export interface PageRequest {
  cursor?: string | undefined;
  /** Upper bound; an adapter may return fewer. */
  limit?: number | undefined;
}

/** A consent fact as another system holds it, normalised to Tactful's vocabulary. */
export interface ExternalConsent {
  email: string;
  purpose: string;
  state: ConsentState;
  level: OptInLevel;
  /** When the system says the consent last changed: the original event time. */
  occurredAt: Date;
  /** A stable id for this fact in the source system (dedupe key), e.g. `${customerId}:${consentUpdatedAt}`. */
  sourceEventId: string;
  method: ConsentMethod;
  /** The system's own state word (SUBSCRIBED, cleaned, ...) kept for the audit log. */
  rawState?: string | undefined;
}

export interface CustomerRecord {
  /** The platform's id for the customer (string even when numeric; Shopify's exceed 2^53). */
  id: string;
  email: string | null;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  phone?: string | null | undefined;
  country?: string | null | undefined;
  region?: string | null | undefined;
  city?: string | null | undefined;
  tags?: string[] | undefined;
  createdAt?: Date | undefined;
  updatedAt: Date;
  /** Email marketing consent as the platform holds it, when it has one. */
  emailConsent?: ExternalConsent | null | undefined;
}

export interface OrderLine {
  productId: string;
  variantId?: string | null | undefined;
  title: string;
  quantity: number;
  /** Unit price in the order's currency, as a decimal string ("12.50"). */
  price?: string | undefined;
}

export interface OrderRecord {
  id: string;
  /** Human name of the order (#1001), when the platform has one. */
  name?: string | undefined;
  customerId?: string | null | undefined;
  email?: string | null | undefined;
  createdAt: Date;
  updatedAt: Date;
  /** Set when the order was cancelled: it no longer counts in the model. */
  cancelledAt?: Date | null | undefined;
  /** Fully refunded orders no longer count either. */
  refunded?: boolean | undefined;
  currency?: string | undefined;
  totalPrice?: string | undefined;
  lines: OrderLine[];
}

export interface ProductRecord {
  id: string;
  title: string;
  handle?: string | undefined;
  url?: string | undefined;
  imageUrl?: string | null | undefined;
  price?: string | undefined;
  category?: string | null | undefined;
  available: boolean;
  status?: 'active' | 'draft' | 'archived' | undefined;
  updatedAt?: Date | undefined;
}

/** A consent change Tactful pushes to another system, carrying the ORIGINAL event time. */
export interface ConsentPush {
  email: string;
  externalId?: string | undefined;
  purpose: string;
  state: ConsentState;
  level: OptInLevel;
  occurredAt: Date;
  /** True when the change comes from fresh first-party evidence (a form, a double opt-in confirmation). */
  firstParty: boolean;
}

/** The outcome of one item of a batch push. */
export type PushResult =
  | { email: string; ok: true }
  | { email: string; ok: false; code: string; message: string; retryable: boolean };

export interface CommercePlatformCapabilities {
  /** Can stream the whole order history (e.g. Shopify Bulk Operations). */
  bulkOrders: boolean;
  /** Can write email marketing consent back to the platform. */
  consentWrite: boolean;
  /** Can delete or redact a customer on request. */
  erasure: boolean;
  /** Delivers webhooks for orders, customers and consent. */
  webhooks: boolean;
  /** Can correct a customer's own fields (names) on request: `updateCustomer`. Absent means no. */
  customerUpdate?: boolean | undefined;
  /**
   * `updateCustomer` also takes `newEmail`: the customer's address changes there (the same customer, another
   * address). Absent means no: the platform keeps the address it has.
   */
  emailChange?: boolean | undefined;
}

/**
 * A customer's correction of what the platform holds (GDPR Art. 16 rectification), pushed by Tactful. Only
 * the fields present change; `null` clears one. A customer the platform does not hold is no error.
 */
export interface CustomerUpdate {
  /** The address the platform holds the customer under (their old one, for an address change). */
  email: string;
  externalId?: string | undefined;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  /**
   * With `capabilities.emailChange`: the customer's new address (their address changed in another system or
   * by their own correction). Nothing else about the customer changes, their marketing consent included. An
   * address another customer of the platform holds is refused (not retryable).
   */
  newEmail?: string | undefined;
}

export interface CommercePlatform {
  /** The system name used in `source.system` of every event this adapter produces: `shopify`, ... */
  readonly system: string;
  readonly capabilities: CommercePlatformCapabilities;
  /**
   * Customers in a stable order; `updatedSince` narrows to those changed since then (a consent change counts),
   * which an incremental sync relies on. An adapter that cannot narrow returns them all (correct, only slower).
   */
  listCustomers(request?: PageRequest & { updatedSince?: Date | undefined }): Promise<Page<CustomerRecord>>;
  listOrders(request?: PageRequest & { updatedSince?: Date | undefined }): Promise<Page<OrderRecord>>;
  listProducts(request?: PageRequest): Promise<Page<ProductRecord>>;
  /** Streams every order; only with `capabilities.bulkOrders`. */
  streamAllOrders?(options?: { signal?: AbortSignal }): AsyncIterable<OrderRecord>;
  /** Writes consent back; only with `capabilities.consentWrite`. */
  pushConsent?(changes: ConsentPush[]): Promise<PushResult[]>;
  /** Erases the customer in the platform; only with `capabilities.erasure`. */
  eraseCustomer?(ref: { email: string; externalId?: string | undefined }): Promise<void>;
  /** Applies a customer's correction of their fields; only with `capabilities.customerUpdate`. */
  updateCustomer?(update: CustomerUpdate): Promise<void>;
}

export interface MemberRecord {
  email: string;
  /** The provider's own status word: subscribed, unsubscribed, cleaned, pending, transactional, archived. */
  status: string;
  consent: ExternalConsent;
  mergeFields?: Record<string, string> | undefined;
  tags?: string[] | undefined;
  updatedAt: Date;
  /**
   * The provider's own record of the person's opt-in (with `capabilities.memberOptIn`): when it happened,
   * and the IP address it saw when the person opted in themselves (its form or confirmation link); no IP
   * means the account added them. Webhooks that carry no signature are checked against this.
   */
  optIn?: { at: Date; ip: string | null } | undefined;
}

/** What Tactful wants the provider to hold for one person. */
export interface MemberChange {
  email: string;
  /**
   * The consent change to apply; `erased` deletes the member permanently. Absent: only the merge fields and
   * tags change, for a member the audience already holds (a profile correction never adds anyone).
   */
  consent?: ConsentPush | { erased: true } | undefined;
  mergeFields?: Record<string, string> | undefined;
  tags?: string[] | undefined;
  /**
   * An address change: the member held under `email` (the old address) is moved to this one, keeping its
   * status, history and fields (Mailchimp: PATCH the old subscriber hash with the new `email_address`). It
   * never adds or resubscribes anyone: no member under `email` is no error (nothing to follow), and a
   * change carrying `newEmail` carries no consent. An address another member holds is refused (not retryable).
   */
  newEmail?: string | undefined;
}

export interface EmailProviderCapabilities {
  /** Can create and send a campaign to a chosen set of members. */
  campaigns: boolean;
  /** Reports opens, clicks and unsubscribes per campaign. */
  reports: boolean;
  /** Delivers webhooks for changes made in the provider. */
  webhooks: boolean;
  /** Largest batch `pushMembers` accepts in one call. */
  maxBatch: number;
  /** `getMember` reports the provider's record of the opt-in (`optIn`). Absent means no. */
  memberOptIn?: boolean | undefined;
  /**
   * Can deliver one person's email through a one-to-one automation the provider runs (Mailchimp's Customer
   * Journeys: set the member's merge fields, then trigger a journey step). Absent means no: automated flows
   * then go out in daily waves through `sendCampaign`.
   */
  journeys?: boolean | undefined;
}

/** One product of a related-product email; `url` already carries the campaign's UTM parameters. */
export interface CampaignProductContent {
  productId: string;
  title: string;
  url: string;
  imageUrl?: string | null | undefined;
  price?: string | undefined;
}

/**
 * What one recipient's email says, already decided by Tactful: the provider only lays it out in its own
 * template language (merge fields, ...) and must show every line.
 */
export interface CampaignContent {
  /** One to three products, strongest first. */
  products: CampaignProductContent[];
  /** Why these products, true of this person: "Because you bought Coffee and Whole milk". */
  reason: string;
  /** "You receive this because you agreed to Email offers on 12 March 2026 (clause 4.2, version 3)." */
  consentLine: string;
  /** Signed link to the person's preference centre. */
  preferencesUrl: string;
  /** Tactful's one-click unsubscribe link (a provider with its own unsubscribe link may use that one instead). */
  unsubscribeUrl: string;
}

export interface CampaignMessage {
  email: string;
  content: CampaignContent;
}

/** Who the email is from: the name shown, the reply address, and the postal address every email must carry. */
export interface CampaignSender {
  name: string;
  email: string;
  postalAddress: string;
}

export interface CampaignRequest {
  /** Idempotency: the same key never sends a second time (a retry after a crash finds the first send). */
  key: string;
  subject: string;
  sender: CampaignSender;
  recipients: CampaignMessage[];
}

export interface CampaignResult {
  campaignId: string;
  sent: string[];
  failed: Array<{ email: string; code: string; message: string }>;
}

/** One person's email through a provider-run automation step (see `EmailProviderCapabilities.journeys`). */
export interface JourneyTriggerRequest {
  /** Idempotency: the same key never triggers a second time (a retry after a crash finds the first trigger). */
  key: string;
  /** The provider's automation (Mailchimp: the Customer Journey id), configured per shop. */
  journeyId: string;
  /** The step of that automation that sends the email (Mailchimp: the journey's step id). */
  stepId: string;
  /** Who it goes to and what it says; the provider lays `content` out in its merge fields. */
  message: CampaignMessage;
}

export interface JourneyTriggerResult {
  /** `triggered` now, or `already` when this key was triggered before (nothing sent twice). */
  status: 'triggered' | 'already';
}

/**
 * A test of one customer's email sent to the shop's own address (the owner checks what the customer would get):
 * the provider sends it as its own test email (Mailchimp: a campaign's "send a test"), never to the customer,
 * never counted in the audience's reports.
 */
export interface TestEmailRequest {
  /** The owner's address (the sender's reply address). */
  to: string;
  /** Already marked as a test ("[TEST] …"). */
  subject: string;
  sender: CampaignSender;
  /** What the customer's email says. */
  content: CampaignContent;
  /** A line the email shows above everything else, saying it is a test and for whom it was made. */
  note: string;
}

/** Who opened and who clicked one campaign: the recipients' addresses as the provider holds them. */
export interface CampaignActivity {
  opened: string[];
  clicked: string[];
}

export interface CampaignReport {
  campaignId: string;
  sends: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
}

export interface EmailProvider {
  readonly system: string;
  readonly capabilities: EmailProviderCapabilities;
  /** Applies up to `capabilities.maxBatch` changes; one result per change, in order. */
  pushMembers(changes: MemberChange[]): Promise<PushResult[]>;
  /** Pages through the audience; `changedSince` narrows to members changed since then. */
  listMembers(request?: PageRequest & { changedSince?: Date | undefined }): Promise<Page<MemberRecord>>;
  getMember(email: string): Promise<MemberRecord | null>;
  sendCampaign?(request: CampaignRequest): Promise<CampaignResult>;
  campaignReport?(campaignId: string): Promise<CampaignReport>;
  /** With `reports`, optionally: which recipients opened and which clicked (per person, not only counts). */
  campaignActivity?(campaignId: string): Promise<CampaignActivity>;
  /**
   * With `capabilities.journeys`: sends one person's email through the provider's automation. Refuses (a
   * `<VENDOR>.<REASON>` TactfulError) when the member is not subscribed there; never subscribes anyone.
   */
  triggerJourney?(request: JourneyTriggerRequest): Promise<JourneyTriggerResult>;
  /** Sends one test email to the shop's own address (see `TestEmailRequest`); nobody in the audience gets it. */
  sendTest?(request: TestEmailRequest): Promise<{ testId: string }>;
}

/**
 * What an adapter's webhook route hands to Tactful after it verified the source and parsed the body.
 * The receiver stores it durably (an inbox row, deduplicated on `(system, deliveryId)`) before the route
 * answers, and processes it afterwards, so a webhook never waits on another vendor.
 */
export type InboundEvent =
  | { kind: 'consent'; consent: ExternalConsent; externalId?: string | undefined }
  | { kind: 'customer'; customer: CustomerRecord }
  | { kind: 'customer_email_changed'; oldEmail: string; newEmail: string; occurredAt: Date }
  | { kind: 'order'; order: OrderRecord }
  | { kind: 'product'; product: ProductRecord }
  | { kind: 'product_deleted'; productId: string; occurredAt: Date }
  /** Undeliverable address (Mailchimp `cleaned`): not a withdrawal of consent. */
  | { kind: 'undeliverable'; email: string; reason: string; occurredAt: Date }
  | { kind: 'campaign_sent'; campaignId: string; occurredAt: Date }
  | {
      kind: 'erase_customer';
      email: string | null;
      externalId?: string | undefined;
      orderIds: string[];
      requestId: string;
    }
  | {
      kind: 'data_request';
      email: string | null;
      externalId?: string | undefined;
      orderIds: string[];
      requestId: string;
    }
  /**
   * Erase every row of the shop (Shopify's `shop/redact`). Honoured only after the platform said the app was
   * uninstalled (`uninstalled`, not followed by `installed`), a day or more before, and for the same
   * platform shop id when both name one: the request carries no secret of its own, so a replayed one
   * must not erase a shop that is still using the app.
   */
  | { kind: 'erase_shop'; requestId: string; platformShopId?: string | undefined }
  /** The app was uninstalled from the shop (the shop's own id on the platform, when the body names it). */
  | { kind: 'uninstalled'; platformShopId?: string | undefined }
  /** The app was installed (again) on the shop: a pending uninstall no longer allows an erasure. */
  | { kind: 'installed' };

export interface InboundMeta {
  /** The system that sent it: `shopify`, `mailchimp`, ... */
  system: string;
  /** The delivery's own id (X-Shopify-Webhook-Id, or a hash of the body when the system sends none). */
  deliveryId: string;
  receivedAt: Date;
  /** The topic or type as the vendor named it (`orders/create`, `unsubscribe`). */
  topic: string;
  /**
   * A digest of what the delivery says (e.g. SHA-256 of topic and raw body), for sources whose delivery id
   * is not covered by their signature: a second delivery with the same digest under a new id is a replay,
   * answered `duplicate` like a repeated id.
   */
  contentHash?: string | undefined;
}

export interface InboundSink {
  /**
   * Stores the event durably for `shop`. Returns `duplicate` when `(system, deliveryId)` — or
   * `(system, contentHash)` when given — was seen before (the route still answers 200: a replay is not an
   * error).
   */
  receive(shop: string, event: InboundEvent, meta: InboundMeta): Promise<'accepted' | 'duplicate'>;
}
