/**
 * The whole database of Tactful, one PostgreSQL dialect for PGlite and server Postgres. Every primary key
 * leads with `shop_id` and every query is scoped by it, so the schema distributes by tenant (Citus:
 * `create_distributed_table(t, 'shop_id')`) without change. Direct identifiers are never stored in plain
 * text: `*_enc` columns hold AES-256-GCM ciphertext under the subject's data key, and lookups by email go
 * through `email_index`, a keyed hash (blind index).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** bytea as a Node Buffer on both drivers (PGlite returns Uint8Array, pg returns Buffer). */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const shops = pgTable('shops', {
  shopId: text('shop_id').primaryKey(),
  /** The shop's key, wrapped by the app's master secret. */
  wrappedKey: bytea('wrapped_key').notNull(),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
  /** Head of the consent ledger's hash chain: detects a truncated tail. */
  ledgerSeq: bigint('ledger_seq', { mode: 'number' }).notNull().default(0),
  ledgerHead: text('ledger_head').notNull().default(''),
  auditSeq: bigint('audit_seq', { mode: 'number' }).notNull().default(0),
  auditHead: text('audit_head').notNull().default(''),
  createdAt: tstz('created_at').notNull(),
});

export const purposes = pgTable(
  'purposes',
  {
    shopId: text('shop_id').notNull(),
    key: text('key').notNull(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    documentUrl: text('document_url').notNull(),
    clause: text('clause').notNull(),
    version: text('version').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.key] })],
);

/** Every clause version a purpose ever pointed at: consent given under v1 stays provable after v2. */
export const purposeVersions = pgTable(
  'purpose_versions',
  {
    shopId: text('shop_id').notNull(),
    key: text('key').notNull(),
    version: text('version').notNull(),
    documentUrl: text('document_url').notNull(),
    clause: text('clause').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.key, t.version] })],
);

export const subjects = pgTable(
  'subjects',
  {
    shopId: text('shop_id').notNull(),
    subjectId: text('subject_id').notNull(),
    /** HMAC of the normalised email under the shop's index key. */
    emailIndex: bytea('email_index').notNull(),
    emailEnc: bytea('email_enc').notNull(),
    /** The subject's data key wrapped by the shop key; null once erased (crypto-shredding). */
    wrappedKey: bytea('wrapped_key'),
    /** Ids in other systems, e.g. { shopify: "gid://shopify/Customer/1" }: pseudonymous, not direct identifiers. */
    externalIds: jsonb('external_ids').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    createdAt: tstz('created_at').notNull(),
    erasedAt: tstz('erased_at'),
    /** The provider reported the address undeliverable (Mailchimp `cleaned`): not a withdrawal, but nothing is sent. */
    undeliverableAt: tstz('undeliverable_at'),
    /** Set when this subject turned out to be the same person as another and was merged into it. */
    mergedInto: text('merged_into'),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.subjectId] }),
    uniqueIndex('subjects_email_index').on(t.shopId, t.emailIndex),
  ],
);

/**
 * Every identifier a subject has had: each email address and each id in another system, with the time span it
 * was theirs. `value_index` is the blind index (HMAC under the shop's index key) of the value, `value_enc` the
 * value sealed with the subject's own key. At most one subject holds an identifier at a time (`valid_to` null);
 * past ones stay so that a late event, an erasure or a data request naming an old address finds the person.
 */
export const subjectIdentifiers = pgTable(
  'subject_identifiers',
  {
    shopId: text('shop_id').notNull(),
    subjectId: text('subject_id').notNull(),
    /** `email`, or the system the id belongs to (`shopify`, `mailchimp`, ...). */
    kind: text('kind').notNull(),
    valueIndex: bytea('value_index').notNull(),
    valueEnc: bytea('value_enc').notNull(),
    validFrom: tstz('valid_from').notNull(),
    validTo: tstz('valid_to'),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.subjectId, t.kind, t.valueIndex, t.validFrom] }),
    uniqueIndex('subject_identifiers_current').on(t.shopId, t.kind, t.valueIndex).where(sql`valid_to is null`),
    index('subject_identifiers_value').on(t.shopId, t.valueIndex),
  ],
);

export const consentLedger = pgTable(
  'consent_ledger',
  {
    shopId: text('shop_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    eventId: text('event_id').notNull(),
    subjectId: text('subject_id').notNull(),
    purpose: text('purpose').notNull(),
    state: text('state').notNull(),
    level: text('level').notNull(),
    occurredAt: tstz('occurred_at').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
    sourceSystem: text('source_system').notNull(),
    sourceEventId: text('source_event_id').notNull(),
    method: text('method').notNull(),
    /** Evidence that is not personal (form id, policy version, clause, token id). */
    evidence: jsonb('evidence').$type<Record<string, string>>().notNull(),
    /** Personal evidence (IP, user agent), encrypted under the subject's key. */
    evidenceEnc: bytea('evidence_enc'),
    echo: boolean('echo').notNull().default(false),
    /** sha256 of the event's content, to tell a replay (same id, same content) from a conflict. */
    contentHash: text('content_hash').notNull(),
    prevHash: text('prev_hash').notNull(),
    rowHash: text('row_hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.seq] }),
    uniqueIndex('consent_ledger_source').on(t.shopId, t.sourceSystem, t.sourceEventId),
    index('consent_ledger_subject').on(t.shopId, t.subjectId, t.purpose),
  ],
);

/** The fold's result per subject and purpose: a projection, rebuilt from the ledger at any time. */
export const consentState = pgTable(
  'consent_state',
  {
    shopId: text('shop_id').notNull(),
    subjectId: text('subject_id').notNull(),
    purpose: text('purpose').notNull(),
    state: text('state').notNull(),
    level: text('level').notNull(),
    since: tstz('since').notNull(),
    decidedBy: text('decided_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.subjectId, t.purpose] }),
    index('consent_state_purpose').on(t.shopId, t.purpose, t.state),
  ],
);

export const auditLog = pgTable(
  'audit_log',
  {
    shopId: text('shop_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    at: tstz('at').notNull(),
    action: text('action').notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id').notNull(),
    subjectId: text('subject_id'),
    /** Non-personal details (purpose, state, counts, request ids). */
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    rowHash: text('row_hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.seq] }),
    index('audit_log_subject').on(t.shopId, t.subjectId),
    index('audit_log_at').on(t.shopId, t.at),
  ],
);

export const optInTokens = pgTable(
  'opt_in_tokens',
  {
    shopId: text('shop_id').notNull(),
    tokenId: text('token_id').notNull(),
    subjectId: text('subject_id').notNull(),
    purposes: jsonb('purposes').$type<string[]>().notNull(),
    issuedAt: tstz('issued_at').notNull(),
    expiresAt: tstz('expires_at').notNull(),
    usedAt: tstz('used_at'),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.tokenId] })],
);

export const outbox = pgTable(
  'outbox',
  {
    shopId: text('shop_id').notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    target: text('target').notNull(),
    kind: text('kind').notNull(),
    subjectId: text('subject_id'),
    /** What to deliver, encrypted under the shop key (may name a person). Nulled once delivered. */
    payloadEnc: bytea('payload_enc'),
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: tstz('next_attempt_at').notNull(),
    lastError: text('last_error'),
    createdAt: tstz('created_at').notNull(),
    deliveredAt: tstz('delivered_at'),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.id] }),
    index('outbox_due').on(t.status, t.nextAttemptAt),
    // A person's changes reach each system in the order they happened: a row waits while an earlier one for the
    // same person and system is pending (see `claimDue`), found by this index.
    index('outbox_pending_subject').on(t.shopId, t.target, t.subjectId, t.id).where(sql`${t.status} = 'pending'`),
  ],
);

/**
 * Per subject, system and purpose: the last state Tactful wrote to that system (`state`, `pushed_at`), whether
 * that write is still in flight (the system has not reported anything since), and the last state the system
 * itself reported. Only a report matching a write still in flight is an echo.
 */
export const pushedConsent = pgTable(
  'pushed_consent',
  {
    shopId: text('shop_id').notNull(),
    system: text('system').notNull(),
    subjectId: text('subject_id').notNull(),
    purpose: text('purpose').notNull(),
    state: text('state').notNull(),
    occurredAt: tstz('occurred_at').notNull(),
    pushedAt: tstz('pushed_at').notNull(),
    inFlight: boolean('in_flight').notNull().default(false),
    reportedState: text('reported_state'),
    reportedAt: tstz('reported_at'),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.system, t.subjectId, t.purpose] })],
);

/**
 * Keyed hashes of every address and id of erased people: a later sync cannot silently bring the person back.
 * `email_index` holds the blind index of the value (an address, or `<system>:<id>` for an id); `kind` says which.
 */
export const suppression = pgTable(
  'suppression',
  {
    shopId: text('shop_id').notNull(),
    emailIndex: bytea('email_index').notNull(),
    kind: text('kind').notNull().default('email'),
    reason: text('reason').notNull(),
    requestId: text('request_id'),
    at: tstz('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.emailIndex] })],
);

/** Durable inbox of verified webhook deliveries, deduplicated on (system, delivery id). */
export const inbox = pgTable(
  'inbox',
  {
    shopId: text('shop_id').notNull(),
    system: text('system').notNull(),
    deliveryId: text('delivery_id').notNull(),
    topic: text('topic').notNull(),
    payloadEnc: bytea('payload_enc'),
    receivedAt: tstz('received_at').notNull(),
    processedAt: tstz('processed_at'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.system, t.deliveryId] }),
    index('inbox_pending').on(t.processedAt, t.receivedAt),
  ],
);

/** Small keyed values per shop (adapter sessions, sync cursors, checkpoints); encrypt what is secret. */
export const kv = pgTable(
  'kv',
  {
    shopId: text('shop_id').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.key] })],
);

/** The shop's catalogue as the model and the emails need it. Not personal data. */
export const products = pgTable(
  'products',
  {
    shopId: text('shop_id').notNull(),
    productId: text('product_id').notNull(),
    title: text('title').notNull(),
    handle: text('handle'),
    url: text('url'),
    imageUrl: text('image_url'),
    price: text('price'),
    category: text('category'),
    available: boolean('available').notNull().default(true),
    status: text('status').notNull().default('active'),
    /** Usual days between repurchases when the store marks the product replenishable; null otherwise. */
    replenishDays: integer('replenish_days'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.productId] })],
);

/**
 * Order history, kept on the basis of the sales contract (not consent). `subject_id` links an order to its
 * customer so erasure finds it; the model counts an order only while `counted` (not cancelled or refunded).
 */
export const orders = pgTable(
  'orders',
  {
    shopId: text('shop_id').notNull(),
    orderId: text('order_id').notNull(),
    name: text('name'),
    subjectId: text('subject_id'),
    customerRef: text('customer_ref'),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
    cancelledAt: tstz('cancelled_at'),
    refunded: boolean('refunded').notNull().default(false),
    currency: text('currency'),
    totalPrice: text('total_price'),
    counted: boolean('counted').notNull().default(false),
    source: text('source').notNull(),
    /** The model revision that last wrote this order: a copy of the model catching up reads what changed since. */
    modelRevision: bigint('model_revision', { mode: 'number' }),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.orderId] }),
    index('orders_subject').on(t.shopId, t.subjectId),
    index('orders_customer_ref').on(t.shopId, t.customerRef),
    index('orders_model_revision').on(t.shopId, t.modelRevision),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    shopId: text('shop_id').notNull(),
    orderId: text('order_id').notNull(),
    lineNo: integer('line_no').notNull(),
    productId: text('product_id').notNull(),
    quantity: integer('quantity').notNull(),
    price: text('price'),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.orderId, t.lineNo] })],
);

/** The co-purchase model's counts, persisted so a restart needs no rebuild. */
export const modelState = pgTable('model_state', {
  shopId: text('shop_id').primaryKey(),
  basketCount: integer('basket_count').notNull().default(0),
  /** Bumped on every change: an instance whose cached model is older reloads it. */
  revision: bigint('revision', { mode: 'number' }).notNull().default(0),
});

/**
 * What each recent change did to the stored model's counts (products, pairs, baskets; no order, customer or
 * person), by the revision it made: a copy of the model a few revisions behind applies them, with the orders
 * written since (`orders.model_revision`), instead of reading the whole model again. A cache, not a record: only
 * the last changes are kept, a change too large to be worth it (a bulk import's batch) leaves a gap, and erasing
 * orders clears the shop's changes.
 */
export const modelChanges = pgTable(
  'model_changes',
  {
    shopId: text('shop_id').notNull(),
    revision: bigint('revision', { mode: 'number' }).notNull(),
    delta: jsonb('delta').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.revision] })],
);

export const modelProducts = pgTable(
  'model_products',
  {
    shopId: text('shop_id').notNull(),
    productId: text('product_id').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.productId] })],
);

export const modelPairs = pgTable(
  'model_pairs',
  {
    shopId: text('shop_id').notNull(),
    productA: text('product_a').notNull(),
    productB: text('product_b').notNull(),
    count: integer('count').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.productA, t.productB] })],
);

/**
 * The jointly fitted model (EASE) of a shop, refreshed from the counts when enough has changed: the fitted
 * products and the weight matrix as little-endian float32 bytes. Every instance reads the newest row.
 */
export const modelFit = pgTable('model_fit', {
  shopId: text('shop_id').primaryKey(),
  /** The counts' revision and basket count the fit was made from. */
  revision: bigint('revision', { mode: 'number' }).notNull(),
  basketCount: integer('basket_count').notNull(),
  lambda: doublePrecision('lambda').notNull(),
  productIds: jsonb('product_ids').$type<string[]>().notNull(),
  weights: bytea('weights').notNull(),
  fittedAt: timestamp('fitted_at', { withTimezone: true, mode: 'date' }).notNull(),
  fitMs: doublePrecision('fit_ms').notNull(),
});

/**
 * Customer profiles: one row per subject, present ONLY while the subject's `personalization`
 * consent is granted (withdrawal deletes it in the same transaction; a fresh grant rebuilds it from orders).
 *
 * What is plain and why — everything else personal is inside `attrs_enc`:
 * - `attrs_enc`: every attribute value with its provenance ({ value, source, updatedAt }), JSON sealed with
 *   the subject's data key (sealForSubject, field `profile`): names, gender, birth date, city, job title,
 *   time zone... Unreadable once the subject key is destroyed.
 * - `attr_index`: per encrypted attribute, a keyed hash (the shop's blind-index key) of the normalised
 *   value, so segments can test equality (`firstName eq "Ada"`) in SQL without the value being stored.
 * - `attr_keys`: the NAMES of the attributes present (for `exists`), never values.
 * - `gender`, `age` (whole years, recomputed when `age_valid_until` passes), `country` (ISO code),
 *   `region` and `interests` (declared interest tags): coarse, non-identifying derived values that
 *   segments filter and range over in SQL. The exact birth date and the city stay encrypted.
 * - the order summary and RFM scores/label: derived from order history, not identifying.
 */
export const profiles = pgTable(
  'profiles',
  {
    shopId: text('shop_id').notNull(),
    subjectId: text('subject_id').notNull(),
    attrsEnc: bytea('attrs_enc'),
    attrIndex: jsonb('attr_index').$type<Record<string, string>>().notNull().default(sql`'{}'::jsonb`),
    attrKeys: jsonb('attr_keys').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    gender: text('gender'),
    age: integer('age'),
    ageValidUntil: tstz('age_valid_until'),
    country: text('country'),
    region: text('region'),
    interests: jsonb('interests').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    /**
     * What the customer said about personalisation ("not this" exclusions of purchases and categories, opt-ins
     * to sensitive categories), JSON sealed with the subject's data key (field `preferences`). See
     * preferences/preferences.ts.
     */
    preferencesEnc: bytea('preferences_enc'),
    orderCount: integer('order_count').notNull().default(0),
    /** Sum of counted orders' totals, in the shop currency (mixed currencies are summed as they are). */
    revenue: numeric('revenue', { precision: 14, scale: 2, mode: 'number' }).notNull().default(0),
    firstOrderAt: tstz('first_order_at'),
    lastOrderAt: tstz('last_order_at'),
    recencyScore: smallint('recency_score'),
    frequencyScore: smallint('frequency_score'),
    monetaryScore: smallint('monetary_score'),
    rfmLabel: text('rfm_label'),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.subjectId] }),
    index('profiles_country').on(t.shopId, t.country),
    index('profiles_rfm').on(t.shopId, t.rfmLabel),
    index('profiles_revenue').on(t.shopId, t.revenue),
    // Every profile view asks whether an age went stale (profile/rfm.ts ensureScored): found by index, not by a scan
    // of the shop's profiles on each preference centre page.
    index('profiles_age_valid_until').on(t.shopId, t.ageValidUntil).where(sql`${t.ageValidUntil} is not null`),
  ],
);

/** Saved segment definitions (the JSON language of src/segment). Not personal data. */
export const segments = pgTable(
  'segments',
  {
    shopId: text('shop_id').notNull(),
    name: text('name').notNull(),
    definition: jsonb('definition').$type<unknown>().notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.name] })],
);

/** Marketing emails sent per subject: the contact policy's frequency caps and re-send windows read it. */
export const contactSends = pgTable(
  'contact_sends',
  {
    shopId: text('shop_id').notNull(),
    subjectId: text('subject_id').notNull(),
    sendId: text('send_id').notNull(),
    sentAt: tstz('sent_at').notNull(),
    campaign: text('campaign'),
    /** Products the email featured (catalogue ids, not personal). */
    productIds: jsonb('product_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.subjectId, t.sendId] }),
    index('contact_sends_at').on(t.shopId, t.subjectId, t.sentAt),
  ],
);

/** A named campaign of a shop: what it was asked to do. Re-running a name resumes or tops it up. */
export const campaigns = pgTable(
  'campaigns',
  {
    shopId: text('shop_id').notNull(),
    name: text('name').notNull(),
    subject: text('subject').notNull(),
    /** The segment JSON it was restricted to, if any. */
    segment: jsonb('segment').$type<unknown>(),
    createdAt: tstz('created_at').notNull(),
    lastRunAt: tstz('last_run_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.name] })],
);

/**
 * One send call to the provider: a batch of recipients claimed together under the idempotency key
 * `<campaign>#<wave>`. A wave `claimed` past its lease was interrupted; the next run re-sends it under the
 * same key, which the provider recognises, so nobody gets it twice. Report figures are refreshed from the
 * provider.
 */
export const campaignWaves = pgTable(
  'campaign_waves',
  {
    shopId: text('shop_id').notNull(),
    campaign: text('campaign').notNull(),
    wave: integer('wave').notNull(),
    status: text('status').$type<'claimed' | 'sent'>().notNull(),
    system: text('system').notNull(),
    claimedBy: text('claimed_by').notNull(),
    leaseUntil: tstz('lease_until').notNull(),
    createdAt: tstz('created_at').notNull(),
    sentAt: tstz('sent_at'),
    providerCampaignId: text('provider_campaign_id'),
    sends: integer('sends').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    opens: integer('opens').notNull().default(0),
    clicks: integer('clicks').notNull().default(0),
    unsubscribes: integer('unsubscribes').notNull().default(0),
    reportAt: tstz('report_at'),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.campaign, t.wave] }),
    index('campaign_waves_status').on(t.shopId, t.status, t.leaseUntil),
  ],
);

/** Who a campaign is for: one row per (campaign, subject), the send's idempotency key. */
export const campaignRecipients = pgTable(
  'campaign_recipients',
  {
    shopId: text('shop_id').notNull(),
    campaign: text('campaign').notNull(),
    subjectId: text('subject_id').notNull(),
    wave: integer('wave').notNull(),
    status: text('status').$type<'claimed' | 'sent'>().notNull(),
    /** Products the email featured (catalogue ids, not personal): revenue attribution reads them. */
    productIds: jsonb('product_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    sentAt: tstz('sent_at'),
    /** The provider reported this recipient opened / clicked the email (per person, when it reports activity). */
    opened: boolean('opened').notNull().default(false),
    clicked: boolean('clicked').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.campaign, t.subjectId] }),
    index('campaign_recipients_wave').on(t.shopId, t.campaign, t.wave),
    index('campaign_recipients_subject').on(t.shopId, t.subjectId),
  ],
);

/**
 * A shop's automated flow (today one: `post-purchase`, related products some days after a paid order): whether it
 * runs, when it sends (delay, the send window in the customer's time zone), the share held out to measure it,
 * and where it is delivered (a provider journey step, else daily campaign waves).
 */
export const flows = pgTable(
  'flows',
  {
    shopId: text('shop_id').notNull(),
    flowId: text('flow_id').notNull(),
    enabled: boolean('enabled').notNull().default(false),
    delayDays: integer('delay_days').notNull(),
    /** Local send window, HH:MM (24 h) in the customer's time zone, else the shop's. */
    windowStart: text('window_start').notNull(),
    windowEnd: text('window_end').notNull(),
    /** 0..0.5: the share of eligible steps kept back (held out) to measure what the flow earns. */
    holdoutShare: doublePrecision('holdout_share').notNull(),
    journeyId: text('journey_id'),
    stepId: text('step_id'),
    maxProducts: integer('max_products').notNull(),
    subject: text('subject').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.flowId] })],
);

/**
 * One (flow, order): its due time, what became of it and why. The row is the claim: a runner leases it
 * (`lease_until`, `FOR UPDATE SKIP LOCKED`), writes `send_key` (the provider's idempotency key) and status
 * `sending` before calling the provider, and `sent` after; a step left `sending` by a crash is re-sent under the
 * same key once its lease ran out, which the provider recognises.
 */
export const flowSteps = pgTable(
  'flow_steps',
  {
    shopId: text('shop_id').notNull(),
    flowId: text('flow_id').notNull(),
    orderId: text('order_id').notNull(),
    subjectId: text('subject_id'),
    orderedAt: tstz('ordered_at').notNull(),
    dueAt: tstz('due_at').notNull(),
    status: text('status')
      .$type<'scheduled' | 'held_out' | 'sending' | 'sent' | 'skipped' | 'waiting' | 'exited'>()
      .notNull(),
    /** Why it waits, was skipped or exited, in words an owner reads. */
    reason: text('reason'),
    /** How many times it had to wait (caps, quiet hours, a pending confirmation). */
    waits: integer('waits').notNull().default(0),
    sendKey: text('send_key'),
    /** `journey` or `wave:<campaign>#<wave>`. */
    delivery: text('delivery'),
    claimedBy: text('claimed_by'),
    leaseUntil: tstz('lease_until'),
    /** Products the email featured (catalogue ids). */
    productIds: jsonb('product_ids').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    /** When it was sent or held out: the start of its attribution window. */
    decidedAt: tstz('decided_at'),
    createdAt: tstz('created_at').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.flowId, t.orderId] }),
    index('flow_steps_due').on(t.shopId, t.status, t.dueAt),
    index('flow_steps_subject').on(t.shopId, t.subjectId),
  ],
);

export const schema = {
  shops,
  purposes,
  purposeVersions,
  subjects,
  subjectIdentifiers,
  consentLedger,
  consentState,
  auditLog,
  optInTokens,
  outbox,
  pushedConsent,
  suppression,
  inbox,
  kv,
  products,
  orders,
  orderLines,
  modelState,
  modelChanges,
  modelProducts,
  modelPairs,
  modelFit,
  profiles,
  segments,
  contactSends,
  campaigns,
  campaignWaves,
  campaignRecipients,
  flows,
  flowSteps,
};
