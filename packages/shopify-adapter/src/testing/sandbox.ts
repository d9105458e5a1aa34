/**
 * A stateful, in-process fake of the Shopify Admin API, served through msw: a shop with customers,
 * orders, products and email marketing consent. Every GraphQL document is parsed and validated against
 * the 2025-10 schema (graphql-js) and refused the way Shopify refuses it; answers come from executing the
 * document against the state, so they have the schema's shapes. It charges each query its calculated cost
 * from a leaky bucket and answers THROTTLED when the bucket is short, runs bulk operations (JSONL at a
 * result URL, generated lazily so a 100 k-order shop streams in bounded memory), serves the OAuth
 * endpoints, and delivers signed webhooks.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  execute,
  type GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type OperationDefinitionNode,
} from 'graphql';
import { getResponse, http, HttpResponse, type HttpHandler } from 'msw';
import { fromGid, gidResource, toGid } from '../ids.js';
import { actualQueryCost, requestedQueryCost } from './cost.js';
import {
  bulkOperationView,
  createRoot,
  sortKeys,
  sortedBy,
  type ConsentUpdateInput,
  type CustomerUpdateInput,
  type ExecutionContext,
  type SandboxMutations,
} from './resolvers.js';
import { loadAdminSchema } from './schema.js';
import {
  createShopState,
  findCustomerByEmail,
  normaliseEmail,
  putCustomer,
  putOrder,
  removeCustomer,
  type MarketingOptInLevel,
  type MarketingState,
  type SandboxBulkOperation,
  type SandboxCustomer,
  type SandboxLine,
  type SandboxOrder,
  type SandboxProduct,
  type ShopState,
} from './state.js';
import {
  shopifyWebhookFaultKinds,
  type ShopifyFaultPlan,
  type ShopifyRequestFaultKind,
  type ShopifyWebhookFaultKind,
} from './fault-plan.js';
import {
  complianceShopId,
  consentPayload,
  customerPayload,
  orderPayload,
  productPayload,
  rawJson,
} from './webhook-payloads.js';

export interface BucketOptions {
  /** Points the bucket holds when full (Shopify Standard: 2000). */
  maximumAvailable: number;
  /** Points restored per second (Standard: 100). */
  restoreRate: number;
}

export interface ShopifySandboxOptions {
  shop?: string;
  shopName?: string;
  currency?: string;
  apiKey?: string;
  apiSecret?: string;
  /** The offline access token the sandbox accepts from the start (more are issued by OAuth). */
  accessToken?: string;
  scopes?: string;
  bucket?: Partial<BucketOptions>;
  /** Largest cost one query may request (Shopify: 1000). */
  maxQueryCost?: number;
  /** How many polls a bulk operation stays RUNNING before it completes. */
  bulkPollsToComplete?: number;
  /** Root objects rendered per graphql-js execution while generating a bulk JSONL. */
  bulkChunkSize?: number;
  /**
   * With `groupObjects: false`, children are written this many parents after their own (they "need not
   * follow their parent directly"). 0 keeps them right after.
   */
  ungroupedChildDelay?: number;
  /** Where `bulk_operations/finish` and change webhooks go, when set. */
  webhookUrl?: string;
  /** The clock (tests pass a controllable one). */
  now?: () => Date;
  /** The fetch used to deliver webhooks. */
  fetch?: typeof fetch;
  /** Seeded faults drawn on every request and webhook delivery (see `createShopifyFaultPlan`); none by default. */
  faultPlan?: ShopifyFaultPlan | null;
}

export type SandboxFault =
  | { status: 429; retryAfter?: number }
  | { status: 500 | 502 | 503 | 504 }
  | { status: 400 | 401 | 403 | 404 | 422 }
  | { graphqlThrottled: true };

export interface SandboxRequestLog {
  operationName: string | null;
  /** The GraphQL document as sent (empty for requests refused before parsing the body). */
  document: string;
  requestedCost: number;
  outcome: 'ok' | 'throttled' | 'invalid' | 'fault' | 'unauthorized' | 'too_costly';
  availableBefore: number;
}

export interface DeliveredWebhook {
  topic: string;
  url: string;
  webhookId: string;
  /** The HTTP status the receiver answered; 0 while a reordered delivery is held back. */
  status: number;
  /** The injected fault this delivery carries, when a fault plan drew one. */
  fault?: ShopifyWebhookFaultKind;
  /** The shop domain sent in X-Shopify-Shop-Domain (another shop for `webhook_unknown_shop`). */
  shop?: string;
}

export interface ShopifySandbox {
  readonly shop: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly accessToken: string;
  readonly adminUrl: string;
  readonly state: ShopState;
  readonly handlers: HttpHandler[];
  /**
   * A fetch that answers from this sandbox directly, without intercepting the process's network: pass it
   * as `createShopifyPlatform({ fetch })` (the demo, the bench). Unlike an msw server it never tees a
   * streamed body, so a bulk result is streamed end to end. A request for anything
   * else fails like a network error.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  readonly requests: SandboxRequestLog[];
  /** JSONL lines the bulk result URLs have served so far (shows that results are generated as they are read). */
  readonly stats: { bulkLinesServed: number };
  readonly webhooks: DeliveredWebhook[];
  /** The bucket as the sandbox sees it right now. */
  throttleStatus(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
  /** Queues faults answered to the next GraphQL requests, in order. */
  failNext(fault: SandboxFault, times?: number): void;
  clearFaults(): void;
  /** Replaces the seeded fault plan (null: no drawn faults). Queued `failNext` faults still come first. */
  setFaultPlan(plan: ShopifyFaultPlan | null): void;
  readonly faultPlan: ShopifyFaultPlan | null;
  /** Delivers webhooks a `webhook_reorder` fault is still holding back. */
  flushWebhooks(): Promise<void>;
  /**
   * Held-back deliveries that failed when released (the receiver was down), removed from the sandbox: Shopify
   * would retry them; a test delivers them again.
   */
  takeUndeliveredWebhooks(): Array<{ topic: string; body: string; webhookId: string; error: string }>;
  /** Makes the next bulk operation fail with this error code. */
  failNextBulkOperation(errorCode?: 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | 'ACCESS_DENIED'): void;
  addCustomer(input: CustomerSeed): SandboxCustomer;
  addProduct(input: ProductSeed): SandboxProduct;
  addOrder(input: OrderSeed): SandboxOrder;
  /** Changes consent as the merchant (or the customer at checkout) would, and fires the consent webhook when a URL is set. */
  setConsent(
    email: string,
    consent: { state: MarketingState; level?: MarketingOptInLevel | null; at: Date },
  ): Promise<SandboxCustomer>;
  cancelOrder(orderId: string, at: Date): Promise<SandboxOrder>;
  readConsent(email: string): {
    marketingState: MarketingState;
    marketingOptInLevel: MarketingOptInLevel | null;
    consentUpdatedAt: Date | null;
  } | null;
  /** REST-shaped webhook body for a topic and an entity id (order, customer or product id), as raw JSON text. */
  webhookBody(topic: string, id?: string, extra?: { ordersToRedact?: string[]; dataRequestId?: string }): string;
  /** Delivers `topic` for an entity to the configured `webhookUrl`, as Shopify would after a change. */
  notify(
    topic: string,
    id?: string,
    extra?: { ordersToRedact?: string[]; dataRequestId?: string },
  ): Promise<DeliveredWebhook>;
  /** Signs `body` (a string is sent byte for byte) and POSTs it to `url` with Shopify's headers. */
  deliverWebhook(
    topic: string,
    body: unknown,
    url?: string,
    options?: { webhookId?: string; secret?: string; apiVersion?: string },
  ): Promise<DeliveredWebhook>;
  /** A signed session token (JWT, HS256) as App Bridge would send it for the embedded admin. */
  sessionToken(options?: { userId?: string; expiresInSeconds?: number }): string;
  /** Issues an OAuth authorization code the token endpoint will accept once. */
  issueAuthCode(): string;
  /**
   * The merchant approves the grant screen at `authorizeUrl` (from auth.begin's redirect): returns the
   * callback URL Shopify would send the browser to, with a fresh code, the state, host, timestamp and hmac.
   */
  approveInstall(authorizeUrl: string): string;
  /** Access tokens issued so far (offline first). */
  readonly issuedTokens: ReadonlySet<string>;
}

export interface CustomerSeed {
  id?: string;
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
  phone?: string | null;
  city?: string | null;
  province?: string | null;
  countryCode?: string | null;
  tags?: string[];
  createdAt?: Date;
  updatedAt?: Date;
  consent?: { state: MarketingState; level?: MarketingOptInLevel | null; at?: Date | null };
}

export interface ProductSeed {
  id?: string;
  title: string;
  handle?: string;
  status?: SandboxProduct['status'];
  productType?: string;
  price?: string;
  imageUrl?: string | null;
  tracksInventory?: boolean;
  totalInventory?: number;
  createdAt?: Date;
  updatedAt?: Date;
}

export interface OrderSeed {
  id?: string;
  name?: string;
  email?: string | null;
  customerId?: string | null;
  createdAt?: Date;
  updatedAt?: Date;
  cancelledAt?: Date | null;
  financialStatus?: SandboxOrder['financialStatus'];
  currency?: string;
  lines: Array<{
    productId: string | null;
    title?: string;
    quantity?: number;
    price?: string;
    variantId?: string | null;
  }>;
}

const graphqlPath = /\/admin\/api\/([0-9]{4}-[0-9]{2}|unstable)\/graphql\.json$/;

export function createShopifySandbox(options: ShopifySandboxOptions = {}): ShopifySandbox {
  const shop = (options.shop ?? 'tactful-sandbox.myshopify.com').toLowerCase();
  const apiKey = options.apiKey ?? 'sandbox-api-key';
  const apiSecret = options.apiSecret ?? 'sandbox-api-secret';
  const accessToken = options.accessToken ?? `shpat_${randomBytes(16).toString('hex')}`;
  const scopes = options.scopes ?? 'read_customers,write_customers,read_orders,read_products';
  const bucket: BucketOptions = { maximumAvailable: 2000, restoreRate: 100, ...options.bucket };
  const maxQueryCost = options.maxQueryCost ?? 1000;
  const pollsToComplete = options.bulkPollsToComplete ?? 1;
  const chunkSize = options.bulkChunkSize ?? 250;
  const childDelay = options.ungroupedChildDelay ?? 2;
  const now = options.now ?? (() => new Date());
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const schema = loadAdminSchema();
  const state = createShopState(shop, options.shopName ?? 'Tactful Sandbox', options.currency ?? 'USD');
  const adminUrl = `https://${shop}`;
  const bulkHost = `https://bulk-results.tactful-sandbox.test`;

  const tokens = new Set<string>([accessToken]);
  const authCodes = new Set<string>();
  const faults: SandboxFault[] = [];
  let plan: ShopifyFaultPlan | null = options.faultPlan ?? null;
  /** Deliveries a reorder fault holds back until the next delivery has gone out. */
  const heldWebhooks: Array<() => Promise<unknown>> = [];
  const undeliveredHeld: Array<{ topic: string; body: string; webhookId: string; error: string }> = [];
  let unknownShops = 0;
  /** Answers a drawn request fault, or null to answer normally. */
  const drawnFault = async (among: readonly ShopifyRequestFaultKind[]): Promise<Response | null> => {
    const kind = plan?.draw(among) ?? null;
    if (!kind || !plan) return null;
    const current = plan;
    requests.push({
      operationName: null,
      document: '',
      requestedCost: 0,
      outcome: 'fault',
      availableBefore: available,
    });
    switch (kind) {
      case 'rate_limit':
        return HttpResponse.json(
          {
            errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          { status: 429, headers: { 'Retry-After': String(current.retryAfterSeconds) } },
        );
      case 'rate_limit_no_retry_after':
        return HttpResponse.json(
          {
            errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          { status: 429 },
        );
      case 'server_error': {
        const status = [500, 502, 503, 504][Math.floor(current.random() * 4)]!;
        return HttpResponse.json(
          { errors: status === 503 ? 'Service Unavailable' : 'Internal Server Error' },
          { status },
        );
      }
      case 'graphql_throttled':
        return HttpResponse.json({
          errors: [
            {
              message: 'Throttled',
              extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
            },
          ],
          extensions: { cost: { requestedQueryCost: 1, actualQueryCost: null, throttleStatus: throttleStatus() } },
        });
      case 'timeout':
        await new Promise((resolve) => setTimeout(resolve, current.holdMs));
        return HttpResponse.error();
      case 'connection_reset':
        return HttpResponse.error();
    }
  };
  let bulkFailure: SandboxBulkOperation['errorCode'] = null;
  const requests: SandboxRequestLog[] = [];
  const webhooks: DeliveredWebhook[] = [];
  const stats = { bulkLinesServed: 0 };
  let available = bucket.maximumAvailable;
  let refilledAt = now().getTime();

  const refill = () => {
    const t = now().getTime();
    available = Math.min(bucket.maximumAvailable, available + ((t - refilledAt) / 1000) * bucket.restoreRate);
    refilledAt = t;
  };
  const throttleStatus = () => {
    refill();
    return {
      maximumAvailable: bucket.maximumAvailable,
      currentlyAvailable: Math.floor(available),
      restoreRate: bucket.restoreRate,
    };
  };

  const resultUrl = (op: SandboxBulkOperation) => `${bulkHost}/${encodeURIComponent(shop)}/${op.id}.jsonl`;

  // ---------- bulk operations ----------
  const currentBulk = (): SandboxBulkOperation | undefined => {
    let latest: SandboxBulkOperation | undefined;
    for (const op of state.bulkOperations.values()) latest = op;
    return latest;
  };

  const rootFieldOf = (document: DocumentNode): string | undefined => {
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const first = operation?.selectionSet.selections[0];
    return first?.kind === Kind.FIELD ? first.name.value : undefined;
  };

  const rootIndex = (field: string | undefined) =>
    field === 'orders'
      ? state.orders
      : field === 'customers'
        ? state.customers
        : field === 'products'
          ? state.products
          : undefined;

  /** The root objects of a bulk query in the order its sortKey (literal, or the schema's default) asks for. */
  const rootIdsInOrder = (document: DocumentNode, field: string | undefined): string[] => {
    const operation = document.definitions.find(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const selection = operation?.selectionSet.selections[0];
    const literal =
      selection?.kind === Kind.FIELD ? selection.arguments?.find((a) => a.name.value === 'sortKey')?.value : undefined;
    const fallback = field
      ? schema
          .getQueryType()
          ?.getFields()
          [field]?.args.find((a) => a.name === 'sortKey')?.defaultValue
      : undefined;
    const sortKey = literal?.kind === Kind.ENUM ? literal.value : typeof fallback === 'string' ? fallback : 'ID';
    const pick = <T extends { id: string }>(
      index: import('./state.js').IdIndex<T>,
      keys: Record<string, (item: T) => string | number>,
    ) =>
      sortKey === 'ID' || !keys[sortKey]
        ? index.sorted().map(String)
        : sortedBy(index, keys[sortKey]!).map((x) => x.id);
    if (field === 'orders') return pick(state.orders, sortKeys.orders);
    if (field === 'customers') return pick(state.customers, sortKeys.customers);
    if (field === 'products') return pick(state.products, sortKeys.products);
    return [];
  };

  const completeBulk = (op: SandboxBulkOperation) => {
    op.completedAt = now();
    if (bulkFailure) {
      op.status = 'FAILED';
      op.errorCode = bulkFailure;
      bulkFailure = null;
      op.rootIds = [];
    } else {
      op.status = 'COMPLETED';
      const document = parse(op.query);
      const field = rootFieldOf(document);
      op.rootIds = rootIdsInOrder(document, field);
      op.rootObjectCount = op.rootIds.length;
      let children = 0;
      if (field === 'orders' && /lineItems/.test(op.query))
        for (const id of op.rootIds) children += state.orders.get(id)?.lines.length ?? 0;
      op.objectCount = op.rootObjectCount + children;
    }
    if (options.webhookUrl) {
      const body = rawJson({
        admin_graphql_api_id: toGid('BulkOperation', op.id),
        completed_at: op.completedAt.toISOString(),
        created_at: op.createdAt.toISOString(),
        error_code: op.errorCode?.toLowerCase() ?? null,
        status: op.status.toLowerCase(),
        type: 'query',
      });
      void sandbox.deliverWebhook('bulk_operations/finish', body).catch(() => undefined);
    }
  };

  const pollBulk = (op: SandboxBulkOperation) => {
    if (op.status === 'CREATED') op.status = 'RUNNING';
    else if (op.status === 'RUNNING') {
      op.pollsLeft -= 1;
      if (op.pollsLeft <= 0) completeBulk(op);
    } else if (op.status === 'CANCELING') op.status = 'CANCELED';
  };

  const execContext = (bulk?: { rootIds: string[] }): ExecutionContext => ({
    state,
    mutations,
    now,
    ...(bulk ? { bulk } : {}),
  });
  const bulkView = (op: SandboxBulkOperation) => bulkOperationView(execContext(), op, resultUrl);

  const mutations: SandboxMutations = {
    customerUpdate(input: CustomerUpdateInput) {
      const userErrors: Array<{ field: string[]; message: string }> = [];
      const customer =
        input.id && gidResource(input.id) === 'Customer' ? state.customers.get(fromGid(input.id)) : undefined;
      if (!customer) userErrors.push({ field: ['id'], message: 'Customer does not exist' });
      const modelled = new Set(['id', 'firstName', 'lastName', 'email']);
      for (const field of Object.keys(input)) {
        if (!modelled.has(field) && input[field] !== undefined)
          userErrors.push({ field: [field], message: `The Tactful sandbox does not model ${field}` });
      }
      for (const field of ['firstName', 'lastName'] as const) {
        const value = input[field];
        if (typeof value === 'string' && value.length > 255)
          userErrors.push({
            field: [field],
            message: `${field === 'firstName' ? 'First name' : 'Last name'} is too long (maximum is 255 characters)`,
          });
      }
      const email = typeof input.email === 'string' ? normaliseEmail(input.email) : null;
      if (input.email !== undefined && !email) userErrors.push({ field: ['email'], message: 'Email is invalid' });
      const holder = email ? findCustomerByEmail(state, email) : undefined;
      if (holder && holder !== customer) userErrors.push({ field: ['email'], message: 'Email has already been taken' });
      if (userErrors.length > 0 || !customer) return { customer: null, userErrors };
      // null or "" clears a name, as in Shopify.
      if (input.firstName !== undefined) customer.firstName = input.firstName || null;
      if (input.lastName !== undefined) customer.lastName = input.lastName || null;
      customer.updatedAt = now();
      // The same customer under another address: the index by address follows.
      if (email && email !== customer.email) putCustomer(state, { ...customer, email });
      return {
        customer: { ...(createRoot(execContext(), hooks).customer({ id: toGid('Customer', customer.id) }) ?? {}) },
        userErrors,
      };
    },
    customerEmailMarketingConsentUpdate(input: ConsentUpdateInput) {
      const userErrors: Array<{ field: string[]; message: string; code: string }> = [];
      const customer =
        gidResource(input.customerId) === 'Customer' ? state.customers.get(fromGid(input.customerId)) : undefined;
      const consent = input.emailMarketingConsent;
      if (!customer)
        userErrors.push({ field: ['input', 'customerId'], message: 'Customer not found', code: 'INVALID' });
      else if (!customer.email)
        userErrors.push({
          field: ['input', 'customerId'],
          message: 'Customer must have an email address',
          code: 'INVALID',
        });
      if (consent.marketingState === 'REDACTED' || consent.marketingState === 'INVALID') {
        userErrors.push({
          field: ['input', 'emailMarketingConsent', 'marketingState'],
          message: `Marketing state ${consent.marketingState} can't be set`,
          code: 'INCLUSION',
        });
      }
      let at: Date | null = null;
      if (consent.consentUpdatedAt != null) {
        at = new Date(consent.consentUpdatedAt);
        if (Number.isNaN(at.getTime())) {
          userErrors.push({
            field: ['input', 'emailMarketingConsent', 'consentUpdatedAt'],
            message: 'Consent updated at is invalid',
            code: 'INVALID',
          });
        } else if (at.getTime() > now().getTime() + 60_000) {
          userErrors.push({
            field: ['input', 'emailMarketingConsent', 'consentUpdatedAt'],
            message: 'Consent updated at cannot be in the future',
            code: 'INVALID',
          });
        }
      }
      if (userErrors.length > 0 || !customer) return { customer: null, userErrors };
      const when = at ?? now();
      const current = customer.consent.consentUpdatedAt;
      // Shopify keeps the newest: an update older than what it holds changes nothing.
      if (!current || when.getTime() >= current.getTime()) {
        customer.consent = {
          marketingState: consent.marketingState as MarketingState,
          marketingOptInLevel:
            (consent.marketingOptInLevel as MarketingOptInLevel | null | undefined) ??
            (consent.marketingState === 'SUBSCRIBED' ? 'UNKNOWN' : null),
          consentUpdatedAt: when,
        };
        customer.updatedAt = now();
      }
      return {
        customer: { ...(createRoot(execContext(), hooks).customer({ id: toGid('Customer', customer.id) }) ?? {}) },
        userErrors,
      };
    },
    bulkOperationRunQuery(query: string, groupObjects: boolean) {
      const invalid = (message: string) => ({
        bulkOperation: null,
        userErrors: [{ field: ['query'], message, code: 'INVALID' }],
      });
      let document: DocumentNode;
      try {
        document = parse(query);
      } catch (error) {
        return invalid(`Invalid bulk query: ${(error as Error).message}`);
      }
      const errors = validate(schema, document);
      if (errors.length > 0) return invalid(`Invalid bulk query: ${errors.map((e) => e.message).join('; ')}`);
      const operations = document.definitions.filter(
        (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
      );
      if (operations.length !== 1 || operations[0]!.operation !== 'query')
        return invalid('Bulk queries must contain exactly one query operation.');
      if (operations[0]!.selectionSet.selections.length !== 1)
        return invalid('Bulk queries must contain at least one connection field.');
      const field = rootFieldOf(document);
      if (!rootIndex(field))
        return invalid(
          `The Tactful sandbox runs bulk queries over orders, customers or products (got ${field ?? 'nothing'}).`,
        );
      const running = [...state.bulkOperations.values()].find(
        (op) => op.status === 'CREATED' || op.status === 'RUNNING' || op.status === 'CANCELING',
      );
      if (running) {
        return {
          bulkOperation: null,
          userErrors: [
            {
              field: null,
              message: `A bulk query operation for this app and shop is already in progress: ${toGid('BulkOperation', running.id)}.`,
              code: 'OPERATION_IN_PROGRESS',
            },
          ],
        };
      }
      const op: SandboxBulkOperation = {
        id: state.nextId(),
        query,
        groupObjects,
        status: 'CREATED',
        errorCode: null,
        createdAt: now(),
        completedAt: null,
        pollsLeft: pollsToComplete,
        rootIds: null,
        objectCount: 0,
        rootObjectCount: 0,
      };
      state.bulkOperations.set(op.id, op);
      return { bulkOperation: bulkView(op), userErrors: [] };
    },
    bulkOperationCancel(id: string) {
      const op = state.bulkOperations.get(fromGid(id));
      if (!op)
        return { bulkOperation: null, userErrors: [{ field: ['id'], message: 'Bulk operation does not exist' }] };
      if (op.status === 'CREATED' || op.status === 'RUNNING') op.status = 'CANCELING';
      return { bulkOperation: bulkView(op), userErrors: [] };
    },
    customerRequestDataErasure(customerId: string) {
      const id = fromGid(customerId);
      const customer = state.customers.get(id);
      if (!customer)
        return {
          customerId: null,
          userErrors: [{ field: ['customerId'], message: 'Customer does not exist', code: 'DOES_NOT_EXIST' }],
        };
      state.erasureRequests.push({ customerId: id, at: now() });
      // Shopify redacts later; the sandbox does it at once so tests can see the effect.
      for (const orderId of state.ordersByCustomer.get(id) ?? []) {
        const order = state.orders.get(orderId);
        if (order) {
          order.email = null;
          order.customerId = null;
        }
      }
      removeCustomer(state, id);
      return { customerId: toGid('Customer', id), userErrors: [] };
    },
  };

  const hooks = { bulkView, currentBulk, pollBulk };

  function* bulkLines(op: SandboxBulkOperation): Generator<string> {
    const document = parse(op.query);
    const field = rootFieldOf(document)!;
    const ids = op.rootIds ?? [];
    const delayed: Array<{ releaseAfter: number; lines: string[] }> = [];
    let parents = 0;
    for (let start = 0; start < ids.length; start += chunkSize) {
      const ctx = execContext({ rootIds: ids.slice(start, start + chunkSize) });
      const result = execute({ schema, document, rootValue: createRoot(ctx, hooks), contextValue: ctx }) as {
        data?: Record<string, unknown> | null;
        errors?: readonly GraphQLError[];
      };
      if (result.errors?.length) throw new Error(`bulk query failed in the sandbox: ${result.errors[0]!.message}`);
      for (const node of connectionNodes(result.data?.[field])) {
        const [parent, ...children] = flatten(node, undefined);
        yield parent!;
        parents += 1;
        if (op.groupObjects || childDelay === 0) for (const child of children) yield child;
        else if (children.length > 0) delayed.push({ releaseAfter: parents + childDelay, lines: children });
        while (delayed.length > 0 && delayed[0]!.releaseAfter <= parents)
          for (const line of delayed.shift()!.lines) yield line;
      }
    }
    for (const batch of delayed) for (const line of batch.lines) yield line;
  }

  /** Documents already parsed and found valid against the schema, by their text (ASTs are never changed). */
  const validDocuments = new Map<string, DocumentNode>();
  const handleGraphql = async (request: Request): Promise<Response> => {
    const token = request.headers.get('x-shopify-access-token');
    if (!token || !tokens.has(token)) {
      requests.push({
        operationName: null,
        document: '',
        requestedCost: 0,
        outcome: 'unauthorized',
        availableBefore: available,
      });
      return HttpResponse.json(
        { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
        { status: 401 },
      );
    }
    const fault = faults.shift();
    if (fault) {
      requests.push({
        operationName: null,
        document: '',
        requestedCost: 0,
        outcome: 'fault',
        availableBefore: available,
      });
      if ('graphqlThrottled' in fault) {
        return HttpResponse.json({
          errors: [
            {
              message: 'Throttled',
              extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
            },
          ],
          extensions: { cost: { requestedQueryCost: 1, actualQueryCost: null, throttleStatus: throttleStatus() } },
        });
      }
      if (fault.status === 429) {
        return HttpResponse.json(
          {
            errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.',
          },
          { status: 429, headers: { 'Retry-After': String(fault.retryAfter ?? 1) } },
        );
      }
      if (fault.status >= 500) return HttpResponse.json({ errors: 'Internal Server Error' }, { status: fault.status });
      return HttpResponse.json(
        { errors: fault.status === 400 ? 'Bad Request' : fault.status === 422 ? 'Unprocessable Entity' : 'Forbidden' },
        { status: fault.status },
      );
    }
    const drawn = await drawnFault([
      'rate_limit',
      'rate_limit_no_retry_after',
      'server_error',
      'graphql_throttled',
      'timeout',
      'connection_reset',
    ]);
    if (drawn) return drawn;
    let body: { query?: unknown; variables?: unknown; operationName?: unknown };
    try {
      body = (await request.json()) as typeof body;
    } catch {
      return HttpResponse.json({ errors: { query: 'Required parameter missing or invalid' } }, { status: 400 });
    }
    if (typeof body?.query !== 'string')
      return HttpResponse.json({ errors: { query: 'Required parameter missing or invalid' } }, { status: 400 });
    const variables = (body.variables && typeof body.variables === 'object' ? body.variables : {}) as Record<
      string,
      unknown
    >;
    const operationName = typeof body.operationName === 'string' ? body.operationName : null;
    const query = body.query;
    const recordInvalid = () =>
      requests.push({
        operationName,
        document: query,
        requestedCost: 0,
        outcome: 'invalid',
        availableBefore: available,
      });
    let document = validDocuments.get(query);
    if (!document) {
      try {
        document = parse(query);
      } catch (error) {
        recordInvalid();
        const e = error as GraphQLError;
        return HttpResponse.json({
          errors: [{ message: e.message, locations: e.locations, extensions: { code: 'parseError' } }],
        });
      }
      const errors = validate(schema, document);
      if (errors.length > 0) {
        recordInvalid();
        return HttpResponse.json({ errors: errors.map(shopifyValidationError) });
      }
      // A client sends the same few documents over and over (pages, polls): each is parsed and validated once.
      if (validDocuments.size >= 500) validDocuments.clear();
      validDocuments.set(query, document);
    }
    const operations = document.definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
    const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
    if (!operation) return HttpResponse.json({ errors: [{ message: `No operation named ${operationName}` }] });
    const { cost, unboundedConnections } = requestedQueryCost(schema, document, operation, variables);
    refill();
    const availableBefore = available;
    if (unboundedConnections.length > 0) {
      requests.push({ operationName, document: body.query, requestedCost: cost, outcome: 'invalid', availableBefore });
      return HttpResponse.json({
        errors: unboundedConnections.map((name) => ({
          message: 'you must provide one of first or last',
          path: [name],
          extensions: { code: 'BAD_REQUEST' },
        })),
      });
    }
    if (cost > maxQueryCost) {
      requests.push({
        operationName,
        document: body.query,
        requestedCost: cost,
        outcome: 'too_costly',
        availableBefore,
      });
      return HttpResponse.json({
        errors: [
          {
            message: `Query cost is ${cost}, which exceeds the single query max cost limit (${maxQueryCost}).`,
            extensions: { code: 'MAX_COST_EXCEEDED', cost, maxCost: maxQueryCost },
          },
        ],
      });
    }
    if (cost > available) {
      requests.push({
        operationName,
        document: body.query,
        requestedCost: cost,
        outcome: 'throttled',
        availableBefore,
      });
      return HttpResponse.json({
        errors: [
          {
            message: 'Throttled',
            extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
          },
        ],
        extensions: { cost: { requestedQueryCost: cost, actualQueryCost: null, throttleStatus: throttleStatus() } },
      });
    }
    available -= cost;
    requests.push({ operationName, document: body.query, requestedCost: cost, outcome: 'ok', availableBefore });
    const ctx = execContext();
    const result = await execute({
      schema,
      document,
      rootValue: createRoot(ctx, hooks),
      contextValue: ctx,
      variableValues: variables,
      operationName,
    });
    // Charged the requested cost up front; refund what was not returned, as Shopify does.
    const actual = Math.min(cost, actualQueryCost(schema, document, operation, result.data ?? null));
    refill();
    available = Math.min(bucket.maximumAvailable, available + (cost - actual));
    return HttpResponse.json({
      ...(result.errors?.length ? { errors: result.errors.map((e) => e.toJSON()) } : {}),
      data: result.data ?? null,
      extensions: { cost: { requestedQueryCost: cost, actualQueryCost: actual, throttleStatus: throttleStatus() } },
    });
  };

  const handleToken = async (request: Request): Promise<Response> => {
    const text = await request.text();
    const type = request.headers.get('content-type') ?? '';
    const params: Record<string, string> = type.includes('json')
      ? (JSON.parse(text) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(text));
    if (params.client_id !== apiKey || params.client_secret !== apiSecret) {
      return HttpResponse.json(
        { error: 'invalid_client', error_description: 'Client credentials are invalid' },
        { status: 400 },
      );
    }
    if (params.grant_type === 'urn:ietf:params:oauth:grant-type:token-exchange') {
      const claims = verifyJwt(params.subject_token ?? '', apiSecret);
      if (!claims || claims.dest !== `https://${shop}` || claims.aud !== apiKey) {
        return HttpResponse.json(
          { error: 'invalid_subject_token', error_description: 'Session token is invalid' },
          { status: 400 },
        );
      }
      const online = params.requested_token_type === 'urn:shopify:params:oauth:token-type:online-access-token';
      const issued = `shpat_${randomBytes(16).toString('hex')}`;
      tokens.add(issued);
      return HttpResponse.json(
        online
          ? {
              access_token: issued,
              scope: scopes,
              expires_in: 86399,
              associated_user_scope: scopes,
              associated_user: {
                id: Number(claims.sub ?? 1),
                first_name: 'Sandbox',
                last_name: 'User',
                email: 'owner@example.com',
                email_verified: true,
                account_owner: true,
                locale: 'en',
                collaborator: false,
              },
            }
          : { access_token: issued, scope: scopes },
      );
    }
    if (!params.code || !authCodes.delete(params.code)) {
      return HttpResponse.json(
        { error: 'invalid_request', error_description: 'The authorization code was not found or was already used' },
        { status: 400 },
      );
    }
    const issued = `shpat_${randomBytes(16).toString('hex')}`;
    tokens.add(issued);
    return HttpResponse.json({ access_token: issued, scope: scopes });
  };

  const handlers: HttpHandler[] = [
    http.post(`${adminUrl}/admin/api/:version/graphql.json`, ({ request }) => {
      if (!graphqlPath.test(new URL(request.url).pathname))
        return HttpResponse.json({ errors: 'Not Found' }, { status: 404 });
      return handleGraphql(request);
    }),
    http.post(`${adminUrl}/admin/oauth/access_token`, ({ request }) => handleToken(request)),
    http.get(`${bulkHost}/:shop/:file`, async ({ params }) => {
      const drawn = await drawnFault(['server_error', 'timeout', 'connection_reset']);
      if (drawn) return drawn;
      const id = String(params.file).replace(/\.jsonl$/, '');
      const op = state.bulkOperations.get(id);
      if (String(params.shop) !== shop || !op || (op.status !== 'COMPLETED' && op.status !== 'FAILED')) {
        return new HttpResponse('<Error><Code>NoSuchKey</Code></Error>', {
          status: 404,
          headers: { 'Content-Type': 'application/xml' },
        });
      }
      const lines = bulkLines(op);
      const encoder = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          let chunk = '';
          for (let i = 0; i < 500; i++) {
            const next = lines.next();
            if (next.done) {
              if (chunk) controller.enqueue(encoder.encode(chunk));
              controller.close();
              return;
            }
            chunk += `${next.value}\n`;
            stats.bulkLinesServed += 1;
          }
          controller.enqueue(encoder.encode(chunk));
        },
      });
      return new HttpResponse(stream, { status: 200, headers: { 'Content-Type': 'application/jsonl' } });
    }),
  ];

  const requireCustomer = (email: string) => {
    const customer = findCustomerByEmail(state, email);
    if (!customer) throw new Error(`sandbox: no customer with email ${email}`);
    return customer;
  };

  const sandbox: ShopifySandbox = {
    shop,
    apiKey,
    apiSecret,
    accessToken,
    adminUrl,
    state,
    handlers,
    async fetch(input, init) {
      const request = input instanceof Request && init === undefined ? input : new Request(input, init);
      const response = await getResponse(handlers, request);
      if (!response)
        throw new TypeError(`fetch failed: the Shopify sandbox does not serve ${request.method} ${request.url}`);
      if (response.type === 'error')
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      return response;
    },
    requests,
    stats,
    webhooks,
    issuedTokens: tokens,
    throttleStatus,
    failNext(fault, times = 1) {
      for (let i = 0; i < times; i++) faults.push(fault);
    },
    clearFaults() {
      faults.length = 0;
    },
    setFaultPlan(next) {
      plan = next;
    },
    get faultPlan() {
      return plan;
    },
    async flushWebhooks() {
      while (heldWebhooks.length > 0) await heldWebhooks.shift()!();
    },
    takeUndeliveredWebhooks() {
      return undeliveredHeld.splice(0);
    },
    failNextBulkOperation(errorCode = 'INTERNAL_SERVER_ERROR') {
      bulkFailure = errorCode;
    },
    addCustomer(input) {
      const at = input.createdAt ?? now();
      return putCustomer(state, {
        id: input.id ?? state.nextId(),
        email: input.email,
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
        phone: input.phone ?? null,
        city: input.city ?? null,
        province: input.province ?? null,
        countryCode: input.countryCode ?? null,
        tags: input.tags ?? [],
        createdAt: at,
        updatedAt: input.updatedAt ?? at,
        consent: {
          marketingState: input.consent?.state ?? 'NOT_SUBSCRIBED',
          marketingOptInLevel: input.consent?.level ?? (input.consent?.state === 'SUBSCRIBED' ? 'SINGLE_OPT_IN' : null),
          consentUpdatedAt: input.consent?.at ?? (input.consent ? at : null),
        },
      });
    },
    addProduct(input) {
      const at = input.createdAt ?? now();
      const handle =
        input.handle ??
        (input.title
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '') ||
          'product');
      const product: SandboxProduct = {
        id: input.id ?? state.nextId(),
        title: input.title,
        handle,
        status: input.status ?? 'ACTIVE',
        productType: input.productType ?? '',
        price: input.price ?? '10.00',
        imageUrl:
          input.imageUrl === undefined ? `https://cdn.shopify.com/s/files/1/sandbox/${handle}.jpg` : input.imageUrl,
        tracksInventory: input.tracksInventory ?? false,
        totalInventory: input.totalInventory ?? 0,
        createdAt: at,
        updatedAt: input.updatedAt ?? at,
      };
      state.products.put(product);
      return product;
    },
    addOrder(input) {
      const at = input.createdAt ?? now();
      const customer = input.customerId ? state.customers.get(input.customerId) : undefined;
      const lines: SandboxLine[] = input.lines.map((line) => {
        const product = line.productId ? state.products.get(line.productId) : undefined;
        return {
          id: state.nextId(),
          productId: line.productId,
          variantId: line.variantId ?? null,
          title: line.title ?? product?.title ?? 'Item',
          quantity: line.quantity ?? 1,
          price: line.price ?? product?.price ?? '0.00',
        };
      });
      const order: SandboxOrder = {
        id: input.id ?? state.nextId(),
        name: input.name ?? `#${state.nextOrderNumber++}`,
        email: input.email === undefined ? (customer?.email ?? null) : input.email,
        customerId: input.customerId ?? null,
        createdAt: at,
        updatedAt: input.updatedAt ?? at,
        cancelledAt: input.cancelledAt ?? null,
        financialStatus: input.financialStatus ?? 'PAID',
        currency: input.currency ?? state.currency,
        lines,
      };
      return putOrder(state, order);
    },
    async setConsent(email, consent) {
      const customer = requireCustomer(email);
      customer.consent = {
        marketingState: consent.state,
        marketingOptInLevel: consent.level ?? (consent.state === 'SUBSCRIBED' ? 'SINGLE_OPT_IN' : null),
        consentUpdatedAt: consent.at,
      };
      customer.updatedAt = consent.at;
      if (options.webhookUrl)
        await sandbox.deliverWebhook(
          'customers_email_marketing_consent/update',
          sandbox.webhookBody('customers_email_marketing_consent/update', customer.id),
        );
      return customer;
    },
    async cancelOrder(orderId, at) {
      const order = state.orders.get(orderId);
      if (!order) throw new Error(`sandbox: no order ${orderId}`);
      order.cancelledAt = at;
      order.updatedAt = at;
      if (options.webhookUrl)
        await sandbox.deliverWebhook('orders/cancelled', sandbox.webhookBody('orders/cancelled', order.id));
      return order;
    },
    readConsent(email) {
      const customer = findCustomerByEmail(state, email);
      return customer ? { ...customer.consent } : null;
    },
    webhookBody(topic, id, extra = {}) {
      const shopId = complianceShopId(shop);
      switch (topic) {
        case 'orders/create':
        case 'orders/updated':
        case 'orders/paid':
        case 'orders/cancelled': {
          const order = state.orders.get(id ?? '');
          if (!order) throw new Error(`sandbox: no order ${id}`);
          return rawJson(orderPayload(state, order));
        }
        case 'customers/create':
        case 'customers/update':
        case 'customers_email_marketing_consent/update': {
          const customer = state.customers.get(id ?? '');
          if (!customer) throw new Error(`sandbox: no customer ${id}`);
          return rawJson(
            topic === 'customers_email_marketing_consent/update' ? consentPayload(customer) : customerPayload(customer),
          );
        }
        case 'products/create':
        case 'products/update': {
          const product = state.products.get(id ?? '');
          if (!product) throw new Error(`sandbox: no product ${id}`);
          return rawJson(productPayload(state, product));
        }
        case 'products/delete':
          return `{"id":${id}}`;
        case 'customers/redact':
        case 'customers/data_request': {
          if (!id || !/^\d+$/.test(id)) throw new Error(`sandbox: ${topic} needs a numeric customer id`);
          const customer = state.customers.get(id ?? '');
          const orders = extra.ordersToRedact ?? [...(state.ordersByCustomer.get(id ?? '') ?? [])];
          const key = topic === 'customers/redact' ? 'orders_to_redact' : 'orders_requested';
          const ids = orders.join(',');
          const customerJson = `{"id":${id},"email":${JSON.stringify(customer?.email ?? null)},"phone":${JSON.stringify(customer?.phone ?? null)}}`;
          const request =
            topic === 'customers/data_request' ? `,"data_request":{"id":${extra.dataRequestId ?? Date.now()}}` : '';
          return `{"shop_id":${shopId},"shop_domain":${JSON.stringify(shop)},"customer":${customerJson},"${key}":[${ids}]${request}}`;
        }
        case 'shop/redact':
          return `{"shop_id":${shopId},"shop_domain":${JSON.stringify(shop)}}`;
        case 'app/uninstalled':
          return JSON.stringify({ id: shopId, name: state.name, domain: shop, myshopify_domain: shop });
        default:
          throw new Error(`sandbox: no webhook body for topic ${topic}`);
      }
    },
    notify(topic, id, extra) {
      return sandbox.deliverWebhook(topic, sandbox.webhookBody(topic, id, extra));
    },
    async deliverWebhook(topic, body, url = options.webhookUrl, opts = {}) {
      if (!url) throw new Error('sandbox: no webhook URL (pass one, or set webhookUrl)');
      const target = url;
      const raw = typeof body === 'string' ? body : rawJson(body);
      const webhookId = opts.webhookId ?? randomUUID();
      const hmac = createHmac('sha256', opts.secret ?? apiSecret)
        .update(raw, 'utf8')
        .digest('base64');
      const triggeredAt = now().toISOString();
      const post = async (
        shopDomain: string,
        id: string,
        fault?: ShopifyWebhookFaultKind,
      ): Promise<DeliveredWebhook> => {
        const response = await doFetch(target, {
          method: 'POST',
          body: raw,
          headers: {
            'Content-Type': 'application/json',
            'X-Shopify-Topic': topic,
            'X-Shopify-Hmac-Sha256': hmac,
            'X-Shopify-Shop-Domain': shopDomain,
            'X-Shopify-Webhook-Id': id,
            'X-Shopify-Event-Id': randomUUID(),
            'X-Shopify-Triggered-At': triggeredAt,
            'X-Shopify-API-Version': opts.apiVersion ?? '2025-10',
          },
        });
        await response.arrayBuffer();
        const delivered: DeliveredWebhook = {
          topic,
          url: target,
          webhookId: id,
          status: response.status,
          shop: shopDomain,
          ...(fault ? { fault } : {}),
        };
        webhooks.push(delivered);
        return delivered;
      };
      const fault = plan?.draw(shopifyWebhookFaultKinds) ?? null;
      if (fault === 'webhook_reorder') {
        // Held back: it goes out after the next delivery, so the receiver sees the two in swapped order.
        heldWebhooks.push(() =>
          post(shop, webhookId, fault).catch((error: unknown) => {
            undeliveredHeld.push({
              topic,
              body: raw,
              webhookId,
              error: error instanceof Error ? error.message : String(error),
            });
          }),
        );
        return { topic, url: target, webhookId, status: 0, shop, fault };
      }
      if (fault === 'webhook_unknown_shop') {
        unknownShops += 1;
        await post(`unknown-${plan!.seed >>> 0}-${unknownShops}.myshopify.com`, randomUUID(), fault);
      }
      const delivered = await post(shop, webhookId);
      if (fault === 'webhook_duplicate') await post(shop, webhookId, fault);
      while (heldWebhooks.length > 0) await heldWebhooks.shift()!();
      return delivered;
    },
    sessionToken(opts = {}) {
      const issuedAt = Math.floor(now().getTime() / 1000);
      return signJwt(
        {
          iss: `https://${shop}/admin`,
          dest: `https://${shop}`,
          aud: apiKey,
          sub: opts.userId ?? '42',
          exp: issuedAt + (opts.expiresInSeconds ?? 60),
          nbf: issuedAt - 5,
          iat: issuedAt,
          jti: randomUUID(),
          sid: randomUUID(),
        },
        apiSecret,
      );
    },
    issueAuthCode() {
      const code = randomBytes(12).toString('hex');
      authCodes.add(code);
      return code;
    },
    approveInstall(authorizeUrl) {
      const url = new URL(authorizeUrl);
      if (url.host !== shop || url.pathname !== '/admin/oauth/authorize')
        throw new Error(`sandbox: not this shop's grant screen: ${authorizeUrl}`);
      if (url.searchParams.get('client_id') !== apiKey) throw new Error('sandbox: the grant screen names another app');
      const redirect = url.searchParams.get('redirect_uri');
      const state = url.searchParams.get('state');
      if (!redirect || !state) throw new Error('sandbox: redirect_uri and state are required');
      const params = new URLSearchParams({
        code: sandbox.issueAuthCode(),
        host: Buffer.from(`admin.shopify.com/store/${shop.replace('.myshopify.com', '')}`).toString('base64url'),
        shop,
        state,
        timestamp: String(Math.floor(now().getTime() / 1000)),
      });
      const message = [...params.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join('&');
      params.set('hmac', createHmac('sha256', apiSecret).update(message).digest('hex'));
      return `${redirect}?${params.toString()}`;
    },
  };
  return sandbox;
}

/** graphql-js validation messages in Shopify's words and codes, where Shopify's differ. */
function shopifyValidationError(error: GraphQLError): {
  message: string;
  locations: GraphQLError['locations'];
  extensions: Record<string, unknown>;
} {
  const field = /^Cannot query field "(\w+)" on type "(\w+)"/.exec(error.message);
  if (field)
    return {
      message: `Field '${field[1]}' doesn't exist on type '${field[2]}'`,
      locations: error.locations,
      extensions: { code: 'undefinedField', typeName: field[2], fieldName: field[1] },
    };
  const argument = /^Unknown argument "(\w+)" on field "(\w+)\.(\w+)"/.exec(error.message);
  if (argument)
    return {
      message: `Field '${argument[3]}' doesn't accept argument '${argument[1]}'`,
      locations: error.locations,
      extensions: { code: 'argumentNotAccepted', name: argument[3], typeName: 'Field', argumentName: argument[1] },
    };
  return { message: error.message, locations: error.locations, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } };
}

function connectionNodes(value: unknown): Record<string, unknown>[] {
  if (!value || typeof value !== 'object') return [];
  const connection = value as { edges?: Array<{ node?: Record<string, unknown> }>; nodes?: Record<string, unknown>[] };
  if (Array.isArray(connection.nodes)) return connection.nodes;
  if (Array.isArray(connection.edges))
    return connection.edges.map((e) => e.node).filter((n): n is Record<string, unknown> => !!n);
  return [];
}

function isConnection(value: unknown): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return Array.isArray(v.edges) || Array.isArray(v.nodes);
}

/** One JSONL line for the node, then its connection children (recursively) with `__parentId`. */
function flatten(node: Record<string, unknown>, parentId: string | undefined): string[] {
  const own: Record<string, unknown> = {};
  const children: Record<string, unknown>[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (isConnection(value)) for (const child of connectionNodes(value)) children.push(child);
    else own[key] = value;
  }
  if (parentId !== undefined) own.__parentId = parentId;
  const lines = [JSON.stringify(own)];
  for (const child of children) for (const line of flatten(child, String(node.id))) lines.push(line);
  return lines;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

function signJwt(payload: Record<string, unknown>, secret: string): string {
  const head = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${signature}`;
}

function verifyJwt(token: string, secret: string): Record<string, string> | null {
  const [head, body, signature] = token.split('.');
  if (!head || !body || !signature) return null;
  const expected = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  if (expected !== signature) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, string>;
  } catch {
    return null;
  }
}
