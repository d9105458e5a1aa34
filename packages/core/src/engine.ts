import { createHash } from 'node:crypto';
import { auditApi } from './api/audit.js';
import { systemActor } from './audit/actors.js';
import { campaignsApi } from './api/campaign.js';
import { consentApi, linksApi, mailThrottleApi, purposesApi } from './api/consent.js';
import { defaultPurposes, definePurpose, listPurposes } from './consent/purposes.js';
import { withShopTransaction, type ShopContext } from './shop/context.js';
import { contactApi } from './api/contact.js';
import { flowsApi } from './api/flows.js';
import { KeyRing } from './store/keyring.js';
import { TactfulError } from './errors/tactful-error.js';
import { backfillIdentifiers } from './identity/identifiers.js';
import { handleInbound } from './inbound.js';
import type { InboundEvent, InboundMeta } from './ports.js';
import { preferencesApi } from './api/preferences.js';
import { privacyApi } from './api/privacy.js';
import { profilesApi } from './api/profile.js';
import { customersApi } from './api/customers.js';
import { ordersApi, productsApi, recommendApi } from './api/recommend.js';
import type { FitPolicy } from './recommend/service.js';
import { reportsApi } from './api/reports.js';
import { segmentsApi } from './api/segment.js';
import { adminSessionsApi, settingsApi } from './api/shop.js';
import { connectionsApi, merchandisingApi } from './api/merchandising.js';
import { storageApi } from './api/store.js';
import { pingStore } from './store/kv.js';
import { rawStore, type Store } from './store/open.js';
import { outboxApi, syncApi, targetsApi } from './api/sync.js';
import { processInbox } from './sync/inbox.js';
import { createInboxWriter } from './sync/inbox-writer.js';
import type { Tactful } from './tactful.js';

export type { Tactful } from './tactful.js';

export interface CreateTactfulOptions {
  /** A store opened by `openStore`. */
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

/**
 * Wires the engine of one shop from its parts (each built by its own folder's factory; the contract is
 * `interface Tactful` in tactful.ts). Creates the shop (its key and its two default purposes) on first use.
 */
export async function createTactful(options: CreateTactfulOptions): Promise<Tactful> {
  const { store } = options;
  const { db, masterKey } = rawStore(store);
  const shopId = normaliseShop(options.shop);
  const keys = options.keys ?? new KeyRing(masterKey);
  const now = options.now ?? (() => new Date());
  const ctx: ShopContext = { db, keys, shopId, now, server: store.kind === 'postgres' };

  const shopKeys = await keys.shop(db, shopId, now());
  await backfillIdentifiers(db, { keys, shopKeys, shopId });
  if ((await listPurposes(db, shopId)).length === 0) {
    await withShopTransaction(ctx, systemActor, async (s) => {
      for (const p of defaultPurposes(shopId)) await definePurpose(s.tx, shopId, s.head, p, systemActor, s.recordedAt);
    });
  }

  const inboxWriter = createInboxWriter(db, keys);
  const handlers = handleInbound(keys, now);
  const recommend = recommendApi(ctx, options.fitPolicy);
  const tactful: Tactful = {
    shopId,
    store,
    now,
    consent: consentApi(ctx),
    purposes: purposesApi(ctx),
    links: linksApi(ctx),
    mailThrottle: mailThrottleApi(ctx),
    profiles: profilesApi(ctx),
    customers: customersApi(ctx),
    preferences: preferencesApi(ctx),
    segments: segmentsApi(ctx),
    contact: contactApi(ctx),
    orders: ordersApi(ctx),
    products: productsApi(ctx),
    recommend,
    merchandising: merchandisingApi(ctx),
    campaign: campaignsApi(ctx, recommend),
    flows: flowsApi(ctx, recommend),
    privacy: privacyApi(ctx),
    audit: auditApi(ctx),
    settings: settingsApi(ctx),
    connections: connectionsApi(ctx),
    adminSessions: adminSessionsApi(ctx),
    reports: reportsApi(ctx),
    sync: syncApi(() => tactful),
    outbox: outboxApi(ctx),
    inbox: {
      receive: (shop: string, event: InboundEvent, meta: InboundMeta) =>
        inboxWriter.receive(normaliseShop(shop), event, meta),
    },
    processInbox: (opts = {}) =>
      processInbox(db, keys, handlers(opts.extra), {
        now,
        limit: opts.limit,
        budgetMs: opts.budgetMs,
        batches: opts.batches,
        batchSize: opts.batchSize,
        shopId: opts.allShops ? undefined : shopId,
      }),
    targets: targetsApi,
    storage: storageApi(db, shopId, masterKey),
    ping: () => pingStore(db),
  };
  internals.set(tactful, { ctx, keys });
  return tactful;
}

const internals = new WeakMap<Tactful, { ctx: ShopContext; keys: KeyRing }>();

/** The engine's shop context and key ring, for core's own tests and benchmarks (through `@tactful/core/testing`). */
export function engineInternals(tactful: Tactful): { ctx: ShopContext; keys: KeyRing } {
  const found = internals.get(tactful);
  if (!found) throw new TactfulError('CONFIG.INVALID', 'Not an engine made by createTactful.');
  return found;
}

/** A delivery id for systems that send none: the hash of the raw body. */
export function bodyDeliveryId(raw: string | Buffer): string {
  return createHash('sha256').update(raw).digest('hex');
}
