import { createHash } from 'node:crypto';
import type { Actor, AuditQuery } from './audit/log.js';
import { appendAudit, verifyAudit } from './audit/log.js';
import { exportAudit, type AuditExportFormat } from './privacy/audit-export.js';
import type { ChainVerification } from './audit/chain.js';
import { KeyRing } from './store/keyring.js';
import { TactfulError, isTactfulError } from './errors/tactful-error.js';
import type { ConsentEvidence } from './consent/event.js';
import { verifyLedger } from './consent/ledger.js';
import { fromExternalConsent } from './consent/external.js';
import { PREFERENCES_LINK_TTL_HOURS, preferencesToken, verifyToken, type TokenPayload } from './consent/tokens.js';
import { takeRecipientMail } from './consent/mail-throttle.js';
import { adminSessionValid, createAdminSession, endAdminSession } from './shop/admin-sessions.js';
import { defaultPurposes, definePurpose, listPurposes, type PurposeInput } from './consent/purposes.js';
import {
  confirmOptIn,
  consentHistory,
  recordConsent,
  recordConsentBatch,
  requestOptIn,
  showConsent,
  unsubscribe,
  unsubscribeToken,
  type OptInRequest,
} from './consent/service.js';
import { withShopTransaction, type ShopContext } from './shop/context.js';
import { findSubjectByEmail } from './profile/subjects.js';
import { backfillIdentifiers } from './identity/identifiers.js';
import { mergeSubjects } from './consent/merge.js';
import type { InboundEvent, InboundMeta, InboundSink } from './ports.js';
import { readShopSettings, writeShopSettings, type ShopSettingsInput } from './shop/settings.js';
import { assertShopErasable, recordInstalled, recordUninstalled } from './shop/lifecycle.js';
import type { Store } from './store/open.js';
import { createDispatcher, type DispatcherOptions } from './sync/dispatcher.js';
import { outboxCounts } from './sync/outbox.js';
import { processInbox, type InboundHandler } from './sync/inbox.js';
import { createInboxWriter } from './sync/inbox-writer.js';
import { platformTarget, providerTarget } from './sync/targets.js';
import type { CommercePlatform, EmailProvider } from './ports.js';
import { products as productsTable } from './store/schema.js';
import { and, eq } from 'drizzle-orm';
import { deleteOrders, ingestOrders, upsertProducts } from './recommend/orders.js';
import {
  fitCache,
  modelCache,
  recommendForCustomerRef,
  relatedToProduct,
  type FitPolicy,
} from './recommend/service.js';
import type { OrderRecord, ProductRecord } from './ports.js';
import type { RecommendOptions } from './recommend/recommender.js';
// profiles, segments, contact, privacy (issue 4)
import {
  changeEmail,
  ingestCustomerAttributes,
  noteCustomerAddress,
  requireChange,
  rectifyProfile,
  requireSubjectByEmail,
  setProfileAttributes,
  showProfile,
} from './profile/service.js';
import { changePreferencesByEmail, showPreferences } from './profile/preference-centre.js';
import type { PreferenceChange } from './preferences/preferences.js';
import { rescoreProfiles } from './profile/rfm.js';
import type { ProfileAttributesInput } from './profile/attributes.js';
import type { CustomerRecord } from './ports.js';
import { parseSegment } from './segment/language.js';
import { paretoReport, previewSegment, rfmReport, segmentMembers } from './segment/evaluate.js';
import { deleteSegment, listSegments, saveSegment } from './segment/saved.js';
import {
  canContact,
  readContactPolicy,
  recordSend,
  writeContactPolicy,
  type ContactPolicyInput,
} from './contact/policy.js';
import { eraseSubject, type EraseRequest } from './privacy/erase.js';
import { exportSubject } from './privacy/export.js';
import { eraseShop } from './privacy/shop-erasure.js';
import { storeDataRequest, readDataRequests } from './privacy/data-requests.js';
import { applyRetention, DEFAULT_RETENTION_MONTHS, findStale } from './privacy/retention.js';
import { processingRegister } from './privacy/register.js';
import { compactAfterErasure } from './privacy/compact.js';
import { runCampaign, type RunCampaignInput } from './campaign/run.js';
import { campaignStats, refreshCampaignReports } from './campaign/stats.js';
import { subjects as subjectsTable } from './store/schema.js';

export interface CreateTactfulOptions {
  store: Store;
  /** The shop this engine acts for (its domain, e.g. `my-shop.myshopify.com`). */
  shop: string;
  /** The clock (tests pass a fixed one). */
  now?: () => Date;
  /** One key ring per store is enough; engines of several shops may share it. */
  keys?: KeyRing;
  /** When the jointly fitted recommendation model is refreshed (see docs/recommendations.md). */
  fitPolicy?: Partial<FitPolicy> | undefined;
}

const shopPattern = /^[a-z0-9][a-z0-9.-]{0,253}$/;

export function normaliseShop(shop: string): string {
  const value = shop.trim().toLowerCase();
  if (!shopPattern.test(value))
    throw new TactfulError(
      'CONFIG.INVALID',
      `"${shop}" is not a shop domain: use lower-case letters, digits, dots and dashes, e.g. my-shop.myshopify.com.`,
    );
  return value;
}

const systemActor: Actor = { type: 'system', id: 'tactful' };

/**
 * Wires the core for one shop: consent, purposes, settings, the audit log, the outbox and the inbox. Creates
 * the shop (its key and its two default purposes) on first use.
 */
export async function createTactful(options: CreateTactfulOptions) {
  const { store } = options;
  const shopId = normaliseShop(options.shop);
  const keys = options.keys ?? new KeyRing(store.masterKey);
  const now = options.now ?? (() => new Date());
  const ctx: ShopContext = { db: store.db, keys, shopId, now };

  const shopKeys = await keys.shop(store.db, shopId, now());
  await backfillIdentifiers(store.db, { keys, shopKeys, shopId });
  if ((await listPurposes(store.db, shopId)).length === 0) {
    await withShopTransaction(ctx, systemActor, async (s) => {
      for (const p of defaultPurposes(shopId)) await definePurpose(s.tx, shopId, s.head, p, systemActor, s.recordedAt);
    });
  }

  const inboxWriter = createInboxWriter(store.db, keys);
  const inboxSink: InboundSink = {
    receive: (shop: string, event: InboundEvent, meta: InboundMeta) =>
      inboxWriter.receive(normaliseShop(shop), event, meta),
  };

  const getModel = modelCache(ctx);
  const fits = fitCache(ctx, getModel, options.fitPolicy);
  /** Personal recommendations of one customer: every caller (pages, CLI, campaigns) goes through this one. */
  const forCustomer = (customer: string, options?: RecommendOptions) =>
    recommendForCustomerRef(ctx, getModel, customer, options, fits.current);

  /**
   * What each kind of inbound event does. Privacy requests (erasure, data requests, shop redaction) are
   * handled by `extra` handlers registered by the privacy module; without one the delivery stays pending.
   */
  const handleInbound =
    (extra: Partial<Record<InboundEvent['kind'], InboundHandler>> = {}): InboundHandler =>
    async (event, meta, db) => {
      const c: ShopContext = { db, keys, shopId: meta.shopId, now };
      const actor: Actor = { type: 'webhook', id: meta.system };
      const own = extra[event.kind];
      if (own) return own(event, meta, db);
      switch (event.kind) {
        case 'consent':
          await recordConsent(c, fromExternalConsent(meta.system, event.consent, event.externalId), actor);
          return;
        case 'customer': {
          // The same customer id with another address: the person's address changed in that system.
          if (event.customer.id && event.customer.email)
            await noteCustomerAddress(c, meta.system, event.customer.id, event.customer.email, actor);
          const x = event.customer.emailConsent;
          if (x && event.customer.email)
            await recordConsent(
              c,
              fromExternalConsent(meta.system, { ...x, email: event.customer.email }, event.customer.id),
              actor,
            );
          // Names and location are kept only for customers with personalization granted (checked inside).
          await ingestCustomerAttributes(c, [event.customer], meta.system, actor);
          return;
        }
        case 'customer_email_changed':
          // A refusal (the new address is suppressed or another person's) is audited inside; nothing to retry.
          await changeEmail(c, event.oldEmail, event.newEmail, actor, meta.system).catch((error: unknown) => {
            // An address Tactful never held has nothing to follow.
            if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
          });
          return;
        case 'erase_customer': {
          // customers/redact: the person and the orders named by the request. Compaction (VACUUM) cannot run
          // inside this transaction; `tactful privacy erase` and retention compact.
          if (event.email || event.externalId) {
            await eraseSubject(
              c,
              { email: event.email, ids: event.externalId ? { [meta.system]: event.externalId } : undefined },
              { reason: `${meta.system} ${meta.topic}`, requestId: event.requestId },
              actor,
            ).catch((error: unknown) => {
              if (!isTactfulError(error, 'SUBJECT.NOT_FOUND')) throw error;
            });
          }
          await deleteOrders(db, meta.shopId, event.orderIds);
          return;
        }
        case 'data_request': {
          // customers/data_request: the bundle is stored for the merchant, encrypted under the shop key.
          const named = { email: event.email, ids: event.externalId ? { [meta.system]: event.externalId } : undefined };
          const bundle =
            event.email || event.externalId
              ? await exportSubject(c, named, actor, { requestId: event.requestId }).catch((error: unknown) => {
                  if (isTactfulError(error, 'SUBJECT.NOT_FOUND'))
                    return { subject: null, note: 'Tactful holds no data about this customer.' };
                  throw error;
                })
              : { subject: null, note: 'The request named no email; Tactful keys its data by email.' };
          await storeDataRequest(db, keys, meta.shopId, event.requestId, bundle, now());
          return;
        }
        case 'erase_shop':
          await assertShopErasable(db, meta.shopId, {
            receivedAt: meta.receivedAt,
            platformShopId: event.platformShopId,
          });
          await eraseShop(db, meta.shopId);
          keys.forgetShop(meta.shopId);
          return;
        case 'uninstalled':
          // Sessions are removed by the platform's route; the data stays until the shop asks for redaction,
          // which from now on (and until an install) may be honoured.
          await recordUninstalled(db, meta.shopId, meta.receivedAt, event.platformShopId);
          return;
        case 'installed':
          await recordInstalled(db, meta.shopId);
          return;
        case 'order':
          await ingestOrders(c, [event.order], meta.system);
          return;
        case 'product':
          await upsertProducts(c, [event.product]);
          return;
        case 'product_deleted':
          await db
            .update(productsTable)
            .set({ available: false, status: 'archived', updatedAt: event.occurredAt })
            .where(and(eq(productsTable.shopId, meta.shopId), eq(productsTable.productId, event.productId)));
          return;
        case 'undeliverable': {
          // Not a withdrawal of consent; the address just cannot be mailed until a fresh opt-in.
          const shopKeys = await keys.shop(db, meta.shopId);
          const subject = await findSubjectByEmail(
            db,
            { keys, shopKeys, shopId: meta.shopId },
            event.email.trim().toLowerCase(),
          );
          if (subject) {
            await db
              .update(subjectsTable)
              .set({ undeliverableAt: event.occurredAt })
              .where(and(eq(subjectsTable.shopId, meta.shopId), eq(subjectsTable.subjectId, subject.subjectId)));
          }
          await withShopTransaction(c, actor, (s) =>
            appendAudit(s.tx, meta.shopId, s.head, {
              action: 'admin.action',
              actor,
              subjectId: subject?.subjectId ?? null,
              at: s.recordedAt,
              details: { event: event.kind, topic: meta.topic, deliveryId: meta.deliveryId },
            }),
          );
          return;
        }
        case 'campaign_sent':
          await withShopTransaction(c, actor, (s) =>
            appendAudit(s.tx, meta.shopId, s.head, {
              action: 'admin.action',
              actor,
              at: s.recordedAt,
              details: { event: event.kind, topic: meta.topic, deliveryId: meta.deliveryId },
            }),
          );
          return;
        default:
          // A kind this version does not know (stored by a newer instance): kept until one that knows it runs.
          event satisfies never;
          throw new TactfulError(
            'SYNC.NO_HANDLER',
            `No handler for "${(event as { kind: string }).kind}" deliveries yet: the delivery is kept and processed once one is registered.`,
            { retryable: true },
          );
      }
    };

  return {
    shopId,
    store,
    keys,
    now,
    context: ctx,
    consent: {
      record: (input: unknown, actor: Actor = systemActor) => recordConsent(ctx, input, actor),
      recordBatch: (inputs: readonly unknown[], actor: Actor = systemActor) => recordConsentBatch(ctx, inputs, actor),
      show: (email: string) => showConsent(ctx, email),
      history: (email: string) => consentHistory(ctx, email),
      requestOptIn: (request: OptInRequest, actor: Actor = { type: 'customer', id: 'form' }) =>
        requestOptIn(ctx, request, actor),
      confirmOptIn: (
        token: string,
        evidence: ConsentEvidence = {},
        actor: Actor = { type: 'customer', id: 'confirm-link' },
      ) => confirmOptIn(ctx, token, evidence, actor),
      unsubscribeToken: async (email: string, purpose: string) => {
        const shopKeys = await keys.shop(store.db, shopId);
        const subject = await findSubjectByEmail(store.db, { keys, shopKeys, shopId }, email.trim().toLowerCase());
        if (!subject) throw new TactfulError('SUBJECT.NOT_FOUND', `No customer with email ${email} in shop ${shopId}.`);
        return unsubscribeToken(ctx, subject.subjectId, purpose);
      },
      unsubscribe: (
        token: string,
        evidence: ConsentEvidence = {},
        actor: Actor = { type: 'customer', id: 'one-click' },
      ) => unsubscribe(ctx, token, evidence, actor),
    },
    /** Signed links (`<payload>.<HMAC>` under the shop's token key) for pages that show before acting. */
    links: {
      /**
       * The payload of a link of `kind` issued by this shop; CONSENT.TOKEN_FORGED / CONSENT.TOKEN_EXPIRED
       * otherwise. `allowExpired` skips only the expiry: for "mail me a fresh link", which goes to the address
       * on file and shows nothing.
       */
      read: async <K extends TokenPayload['kind']>(
        token: unknown,
        kind: K,
        options: { allowExpired?: boolean } = {},
      ): Promise<Extract<TokenPayload, { kind: K }>> => {
        const shopKeys = await keys.shop(store.db, shopId);
        const payload = verifyToken(shopKeys.tokenKey, token as string, kind);
        if (payload.shop !== shopId)
          throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link belongs to another shop.');
        if (!options.allowExpired && 'exp' in payload && payload.exp * 1000 < now().getTime())
          throw new TactfulError('CONSENT.TOKEN_EXPIRED', 'This link has expired: ask for a new one.');
        return payload;
      },
      /** A link to the subject's preference centre, issued now and valid `ttlHours` (default 24). */
      preferences: async (subjectId: string, ttlHours = PREFERENCES_LINK_TTL_HOURS): Promise<string> => {
        const shopKeys = await keys.shop(store.db, shopId);
        return preferencesToken(shopKeys.tokenKey, shopId, subjectId, now(), ttlHours);
      },
    },
    /** Emails the public forms may trigger to one address (see consent/mail-throttle.ts). */
    mailThrottle: {
      /** Takes one email to `email` if its allowance has one left; otherwise when the next may go. */
      take: (email: string) => takeRecipientMail(ctx, email),
    },
    /** Server-side sessions of the admin dashboard: signing out ends them (see shop/admin-sessions.ts). */
    adminSessions: {
      create: (ttlHours: number) =>
        createAdminSession(store.db, shopId, now(), new Date(now().getTime() + ttlHours * 3600_000)),
      valid: (id: string) => adminSessionValid(store.db, shopId, id, now()),
      end: (id: string) => endAdminSession(store.db, shopId, id),
    },
    purposes: {
      list: () => listPurposes(store.db, shopId),
      define: (input: PurposeInput, actor: Actor = systemActor) =>
        withShopTransaction(ctx, actor, (s) => definePurpose(s.tx, shopId, s.head, input, actor, s.recordedAt)),
    },
    settings: {
      get: () => readShopSettings(store.db, shopId),
      update: async (patch: ShopSettingsInput, actor: Actor = systemActor) => {
        const next = await writeShopSettings(store.db, shopId, patch);
        await withShopTransaction(ctx, actor, (s) =>
          appendAudit(s.tx, shopId, s.head, {
            action: 'settings.changed',
            actor,
            at: s.recordedAt,
            details: { changed: Object.keys(patch) },
          }),
        );
        return next;
      },
    },
    audit: {
      export: (format: AuditExportFormat, query: AuditQuery = {}) => exportAudit(store.db, keys, shopId, format, query),
      /** Verifies both hash chains: the consent ledger and the audit log. */
      verify: async (): Promise<{ ledger: ChainVerification; audit: ChainVerification }> => ({
        ledger: await verifyLedger(store.db, shopId),
        audit: await verifyAudit(store.db, shopId),
      }),
      subjectIdOf: async (email: string) => {
        const shopKeys = await keys.shop(store.db, shopId);
        return (
          (await findSubjectByEmail(store.db, { keys, shopKeys, shopId }, email.trim().toLowerCase()))?.subjectId ??
          null
        );
      },
    },
    outbox: {
      /** A dispatcher for this shop's rows (pass `shopId: undefined` to serve every shop of the store). */
      dispatcher: (opts: Omit<DispatcherOptions, 'db' | 'keys'>) =>
        createDispatcher({ db: store.db, keys, shopId, now, ...opts }),
      counts: () => outboxCounts(store.db, shopId),
    },
    inbox: inboxSink,
    /** Processes stored inbound deliveries (all shops of the store, or this one). */
    processInbox: (
      options: {
        extra?: Partial<Record<InboundEvent['kind'], InboundHandler>>;
        allShops?: boolean;
        limit?: number;
      } = {},
    ) =>
      processInbox(store.db, keys, handleInbound(options.extra), {
        now,
        limit: options.limit,
        shopId: options.allShops ? undefined : shopId,
      }),
    /** Delivery functions for the dispatcher, one per connected adapter. */
    targets: (adapters: { platform?: CommercePlatform; provider?: EmailProvider }) => {
      const out: Record<string, ReturnType<typeof platformTarget>> = {};
      if (adapters.platform) out[adapters.platform.system] = platformTarget(adapters.platform);
      if (adapters.provider) out[adapters.provider.system] = providerTarget(adapters.provider);
      return out;
    },
    orders: {
      /** Upserts orders (idempotent on id, newest version wins) and applies their model deltas. */
      ingest: (records: readonly OrderRecord[], source: string) => ingestOrders(ctx, records, source),
    },
    products: {
      upsert: (records: readonly ProductRecord[], extra?: { replenishDays?: ReadonlyMap<string, number> }) =>
        upsertProducts(ctx, records, extra),
    },
    // profiles, segments, contact, privacy (issue 4)
    profiles: {
      show: (email: string) => showProfile(ctx, email),
      setAttributes: (
        email: string,
        attributes: ProfileAttributesInput | unknown,
        source = 'api',
        actor: Actor = systemActor,
      ) => setProfileAttributes(ctx, email, attributes, source, actor),
      ingestCustomers: (records: readonly CustomerRecord[], source: string, actor: Actor = systemActor) =>
        ingestCustomerAttributes(ctx, records, source, actor),
      /** The person's address changes (their own correction); PROFILE.CONFLICT / PROFILE.SUPPRESSED when refused. */
      changeEmail: async (oldEmail: string, newEmail: string, actor: Actor = systemActor) =>
        requireChange(
          await changeEmail(ctx, oldEmail, newEmail, actor, actor.type === 'customer' ? 'customer' : 'tactful'),
        ),
      /**
       * Two people in Tactful who are one: `mergeEmail`'s history, addresses, ids, orders and sends join
       * `keepEmail`'s person, consent is folded again over both, and the step is audited (`subject.merged`).
       */
      merge: (keepEmail: string, mergeEmail: string, actor: Actor = systemActor) =>
        mergeSubjects(ctx, keepEmail, mergeEmail, actor),
      /**
       * Rectification (Art. 16): values the customer corrects, stored with source `customer` (they outrank
       * imports and syncs), audited, and pushed to connected systems (names) through the outbox.
       */
      rectify: (email: string, attributes: ProfileAttributesInput | unknown, actor: Actor) =>
        rectifyProfile(ctx, email, attributes, actor),
      rescore: () => rescoreProfiles(store.db, keys, shopId, now()),
    },
    /** What customers say about their own personalisation: "not this" exclusions and sensitive-category opt-ins. */
    preferences: {
      show: (email: string) => showPreferences(ctx, email),
      /** Excludes a past purchase or a whole category from personalisation; `undo` takes the exclusion back. */
      exclude: (
        email: string,
        target: { productId: string } | { category: string },
        options: { undo?: boolean } = {},
        actor: Actor = systemActor,
      ) =>
        changePreferencesByEmail(
          ctx,
          email,
          'productId' in target
            ? { kind: 'exclude-product', productId: target.productId, undo: options.undo }
            : { kind: 'exclude-category', category: target.category, undo: options.undo },
          actor,
        ),
      /** Allows (or with `undo`, stops) purchases in one sensitive category to be used for recommendations. */
      allowSensitive: (email: string, category: string, options: { undo?: boolean } = {}, actor: Actor = systemActor) =>
        changePreferencesByEmail(ctx, email, { kind: 'allow-sensitive', category, undo: options.undo }, actor),
      change: (email: string, change: PreferenceChange, actor: Actor = systemActor) =>
        changePreferencesByEmail(ctx, email, change, actor),
    },
    segments: {
      parse: (input: unknown) => parseSegment(input),
      preview: (segment: unknown, sampleSize?: number) => previewSegment(ctx, parseSegment(segment), sampleSize),
      members: (segment: unknown) => segmentMembers(ctx, parseSegment(segment)),
      save: (name: string, segment: unknown) => saveSegment(store.db, shopId, name, segment, now()),
      list: () => listSegments(store.db, shopId),
      delete: (name: string) => deleteSegment(store.db, shopId, name),
      pareto: (threshold?: number) => paretoReport(ctx, threshold),
      rfm: () => rfmReport(ctx),
    },
    contact: {
      policy: () => readContactPolicy(store.db, shopId),
      setPolicy: (input: ContactPolicyInput | unknown) => writeContactPolicy(store.db, shopId, input, now()),
      /** `subject` is an email or a subject id. */
      canContact: async (subject: string, at: Date = now(), options?: { productIds?: readonly string[] }) =>
        canContact(
          ctx,
          subject.includes('@') ? (await requireSubjectByEmail(ctx, subject)).subjectId : subject,
          at,
          options,
        ),
      recordSend: async (
        subject: string,
        send: { sentAt?: Date; campaign?: string; productIds?: string[]; sendId?: string } = {},
      ) =>
        recordSend(
          store.db,
          shopId,
          subject.includes('@') ? (await requireSubjectByEmail(ctx, subject)).subjectId : subject,
          { ...send, sentAt: send.sentAt ?? now() },
        ),
    },
    privacy: {
      export: (email: string, actor: Actor = systemActor, options?: { requestId?: string }) =>
        exportSubject(ctx, email, actor, options),
      /** Erases, then compacts inbox/outbox and the WAL unless `compact: false` (see privacy/compact.ts). */
      erase: async (email: string, request: EraseRequest & { compact?: boolean }, actor: Actor = systemActor) => {
        const result = await eraseSubject(ctx, email, request, actor);
        return { ...result, compaction: request.compact === false ? null : await compactAfterErasure(store.db) };
      },
      retention: (months = DEFAULT_RETENTION_MONTHS) => findStale(ctx, months),
      applyRetention: async (months = DEFAULT_RETENTION_MONTHS, actor: Actor = systemActor) => {
        const result = await applyRetention(ctx, months, actor);
        return { ...result, compaction: result.erased.length > 0 ? await compactAfterErasure(store.db) : null };
      },
      register: (months = DEFAULT_RETENTION_MONTHS) => processingRegister(store.db, shopId, now(), months),
      /** Export bundles prepared for platform data requests (customers/data_request), for the merchant. */
      dataRequests: async () =>
        (await readDataRequests(store.db, keys, shopId)).map(({ requestId, preparedAt }) => ({
          requestId,
          preparedAt,
        })),
      /** One prepared bundle, for the merchant to hand over; each download is audited. */
      dataRequest: async (requestId: string, actor: Actor = systemActor) => {
        const found = (await readDataRequests(store.db, keys, shopId)).find((r) => r.requestId === requestId);
        if (!found)
          throw new TactfulError('PRIVACY.NOT_FOUND', `No prepared data request "${requestId}" in shop ${shopId}.`);
        await withShopTransaction(ctx, actor, (s) =>
          appendAudit(s.tx, shopId, s.head, {
            action: 'data.exported',
            actor,
            at: s.recordedAt,
            details: { requestId, to: 'merchant', reason: 'platform data request' },
          }),
        );
        return found;
      },
    },
    /** Related-product campaigns: who gets one, what it says, sending it exactly once, and what it did. */
    campaign: {
      run: (
        input: RunCampaignInput,
        deps: {
          provider?: EmailProvider;
          actor?: Actor;
          onProgress?: (phase: 'evaluate' | 'send', done: number, total: number) => void;
        } = {},
      ) =>
        runCampaign(
          {
            ctx,
            provider: deps.provider,
            recommend: forCustomer,
            segmentMembers: (segment) => segmentMembers(ctx, parseSegment(segment)),
            ...(deps.actor ? { actor: deps.actor } : {}),
            ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
          },
          input,
        ),
      stats: (attributionDays?: number) => campaignStats(ctx, attributionDays),
      refreshReports: (provider: EmailProvider, options?: { campaign?: string }) =>
        refreshCampaignReports(ctx, provider, options),
    },
    recommend: {
      model: getModel,
      /** The newest fitted model (refitted first when missing or stale), or null while there is too little data. */
      fit: fits.current,
      /** Refits now from the current counts and stores the fit for every instance. */
      refit: fits.refresh,
      forCustomer,
      related: (productId: string, k?: number) => relatedToProduct(ctx, getModel, productId, k),
    },
  };
}

export type Tactful = Awaited<ReturnType<typeof createTactful>>;

/** A delivery id for systems that send none: the hash of the raw body. */
export function bodyDeliveryId(raw: string | Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
