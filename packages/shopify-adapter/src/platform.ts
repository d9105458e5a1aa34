/**
 * `createShopifyPlatform(options)`: Tactful's CommercePlatform for one Shopify shop, over the Admin
 * GraphQL API 2025-10.
 */
import { TactfulError } from '@tactful/core';
import type {
  CommercePlatform,
  ConsentPush,
  CustomerUpdate,
  CustomerRecord,
  OrderRecord,
  Page,
  PageRequest,
  ProductRecord,
  PushResult,
} from '@tactful/core';
import {
  importCustomers,
  importOrders,
  memoryCheckpointStore,
  type BulkImportCheckpointStore,
  type BulkImportOptions,
} from './bulk/import.js';
import { createAdminClient, type AdminClient } from './client.js';
import { tactfulToShopifyLevel, tactfulToShopifyState } from './consent-mapping.js';
import { toGid } from './ids.js';
import { parseShopifyOptions, type ShopifyOptions } from './options.js';
import {
  CONSENT_UPDATE,
  CUSTOMER_BY_EMAIL,
  CUSTOMER_ERASURE,
  CUSTOMER_UPDATE,
  CUSTOMERS_PAGE,
  ORDER_LINES,
  ORDERS_PAGE,
  PRODUCTS_PAGE,
} from './queries.js';
import {
  normaliseEmail,
  toCustomerRecord,
  toOrderRecord,
  toProductRecord,
  type CustomerNode,
  type LineItemNode,
  type OrderNode,
  type ProductNode,
} from './records.js';

interface Connection<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

interface UserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
}

/**
 * Orders per page: with its line items an order page is the costliest query Tactful sends. One order
 * costs about 8 points plus 5 per line item requested, and one query may cost at most 1000.
 */
export function ordersPerPage(linesPerOrder: number): number {
  return Math.max(1, Math.min(25, Math.floor(990 / (8 + 5 * linesPerOrder))));
}

export interface ShopifyPlatform extends CommercePlatform {
  readonly shop: string;
  /** The GraphQL client (paced and retried), for the routes and the install flow. */
  readonly client: AdminClient;
  /** Where the bulk import keeps its progress. */
  readonly checkpoints: BulkImportCheckpointStore;
  /** Tells a waiting bulk import that Shopify reported its operation finished (bulk_operations/finish). */
  notifyBulkFinished(operationId: string): void;
  streamAllOrders(options?: { signal?: AbortSignal }): AsyncIterable<OrderRecord>;
  /**
   * Every customer with their email marketing consent, through a bulk operation (resumable with
   * `customerCheckpoints`).
   */
  streamAllCustomers(options?: { signal?: AbortSignal }): AsyncIterable<CustomerRecord>;
  /** Customers in id order; `updatedSince` narrows to those changed since (a consent change counts). */
  listCustomers(request?: PageRequest & { updatedSince?: Date | undefined }): Promise<Page<CustomerRecord>>;
  pushConsent(changes: ConsentPush[]): Promise<PushResult[]>;
  eraseCustomer(ref: { email: string; externalId?: string | undefined }): Promise<void>;
}

export function createShopifyPlatform(input: ShopifyOptions): ShopifyPlatform {
  const options = parseShopifyOptions(input);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const client = createAdminClient({
    shop: options.shop,
    accessToken: options.accessToken,
    apiVersion: options.apiVersion,
    fetch: options.fetch,
    sleep,
    ...(options.now ? { now: options.now } : {}),
    retry: options.retry,
    timeoutMs: options.timeoutMs,
  });
  const checkpoints = options.checkpoints ?? memoryCheckpointStore();
  const customerCheckpoints = options.customerCheckpoints ?? memoryCheckpointStore();
  const finishWaiters = new Map<string, () => void>();
  const bulkOptions = (store: BulkImportCheckpointStore, signal: AbortSignal | undefined): BulkImportOptions => ({
    client,
    checkpoints: store,
    pollIntervalMs: options.bulk.pollIntervalMs,
    timeoutMs: options.bulk.timeoutMs,
    groupObjects: options.bulk.groupObjects,
    window: options.bulk.window,
    checkpointEvery: options.bulk.checkpointEvery,
    sleep,
    now: options.now,
    signal,
    finished: (operationId) => new Promise<void>((resolve) => finishWaiters.set(operationId, resolve)),
  });

  const limit = (request: PageRequest | undefined, max: number) =>
    Math.max(1, Math.min(request?.limit ?? options.pageSize, max));
  // A customer costs about 5 points and a product 6; one query may cost at most 1000.
  const MAX_CUSTOMERS_PER_PAGE = 150;
  const MAX_PRODUCTS_PER_PAGE = 125;

  const findCustomerId = async (email: string, externalId?: string): Promise<string | null> => {
    if (externalId) return toGid('Customer', externalId);
    const { customerByIdentifier } = await client.request<{ customerByIdentifier: CustomerNode | null }>(
      CUSTOMER_BY_EMAIL,
      { email },
    );
    return customerByIdentifier?.id ?? null;
  };

  /** The rest of an order's line items when it has more than one page of them. */
  const remainingLines = async (orderId: string, after: string | null): Promise<LineItemNode[]> => {
    const lines: LineItemNode[] = [];
    let cursor = after;
    while (cursor) {
      const { node } = await client.request<{ node: { lineItems: Connection<LineItemNode> } | null }>(ORDER_LINES, {
        id: orderId,
        after: cursor,
      });
      if (!node) break;
      for (const line of node.lineItems.nodes) lines.push(line);
      cursor = node.lineItems.pageInfo.hasNextPage ? node.lineItems.pageInfo.endCursor : null;
    }
    return lines;
  };

  const platform: ShopifyPlatform = {
    system: 'shopify',
    shop: options.shop,
    client,
    checkpoints,
    capabilities: {
      bulkOrders: true,
      consentWrite: true,
      erasure: true,
      webhooks: true,
      customerUpdate: true,
      emailChange: true,
    },

    async listCustomers(request?: PageRequest & { updatedSince?: Date | undefined }): Promise<Page<CustomerRecord>> {
      const query = request?.updatedSince ? `updated_at:>='${request.updatedSince.toISOString()}'` : null;
      const { customers } = await client.request<{ customers: Connection<CustomerNode> }>(CUSTOMERS_PAGE, {
        first: limit(request, MAX_CUSTOMERS_PER_PAGE),
        after: request?.cursor ?? null,
        query,
      });
      return {
        items: customers.nodes.map((node) => toCustomerRecord(node, options.purpose)),
        nextCursor: customers.pageInfo.hasNextPage ? (customers.pageInfo.endCursor ?? undefined) : undefined,
      };
    },

    async listOrders(request?: PageRequest & { updatedSince?: Date | undefined }): Promise<Page<OrderRecord>> {
      const query = request?.updatedSince ? `updated_at:>='${request.updatedSince.toISOString()}'` : null;
      const { orders } = await client.request<{
        orders: Connection<OrderNode & { lineItems: Connection<LineItemNode> }>;
      }>(ORDERS_PAGE, {
        first: limit(request, ordersPerPage(options.linesPerOrder)),
        after: request?.cursor ?? null,
        query,
        lines: options.linesPerOrder,
      });
      const items: OrderRecord[] = [];
      for (const node of orders.nodes) {
        const lines = [...node.lineItems.nodes];
        if (node.lineItems.pageInfo.hasNextPage)
          for (const line of await remainingLines(node.id, node.lineItems.pageInfo.endCursor)) lines.push(line);
        items.push(toOrderRecord(node, lines));
      }
      return { items, nextCursor: orders.pageInfo.hasNextPage ? (orders.pageInfo.endCursor ?? undefined) : undefined };
    },

    async listProducts(request?: PageRequest): Promise<Page<ProductRecord>> {
      const { products } = await client.request<{ products: Connection<ProductNode> }>(PRODUCTS_PAGE, {
        first: limit(request, MAX_PRODUCTS_PER_PAGE),
        after: request?.cursor ?? null,
      });
      return {
        items: products.nodes.map(toProductRecord),
        nextCursor: products.pageInfo.hasNextPage ? (products.pageInfo.endCursor ?? undefined) : undefined,
      };
    },

    streamAllOrders(streamOptions?: { signal?: AbortSignal }): AsyncIterable<OrderRecord> {
      return importOrders(bulkOptions(checkpoints, streamOptions?.signal));
    },

    streamAllCustomers(streamOptions?: { signal?: AbortSignal }): AsyncIterable<CustomerRecord> {
      return importCustomers(bulkOptions(customerCheckpoints, streamOptions?.signal), options.purpose);
    },

    notifyBulkFinished(operationId: string) {
      const gid = toGid('BulkOperation', operationId);
      finishWaiters.get(gid)?.();
      finishWaiters.delete(gid);
    },

    async pushConsent(changes: ConsentPush[]): Promise<PushResult[]> {
      const results: PushResult[] = [];
      for (const change of changes) {
        const email = normaliseEmail(change.email) ?? change.email;
        try {
          const customerId = await findCustomerId(email, change.externalId);
          if (!customerId) {
            results.push({
              email,
              ok: false,
              code: 'SHOPIFY.CUSTOMER_NOT_FOUND',
              message: `No Shopify customer has the address ${email}.`,
              retryable: false,
            });
            continue;
          }
          const level =
            change.state === 'granted' || change.state === 'pending' ? tactfulToShopifyLevel[change.level] : undefined;
          const { customerEmailMarketingConsentUpdate: payload } = await client.request<{
            customerEmailMarketingConsentUpdate: { customer: { id: string } | null; userErrors: UserError[] };
          }>(CONSENT_UPDATE, {
            input: {
              customerId,
              emailMarketingConsent: {
                marketingState: tactfulToShopifyState[change.state],
                ...(level ? { marketingOptInLevel: level } : {}),
                // The ORIGINAL event time: Shopify keeps the newest, so an old change never overwrites a newer one.
                consentUpdatedAt: change.occurredAt.toISOString(),
              },
            },
          });
          if (payload.userErrors.length > 0) {
            results.push({
              email,
              ok: false,
              // One catalogued code; Shopify's own userError codes (INVALID, TAKEN, INTERNAL_ERROR…) go in the
              // message, where an operator reads them.
              code: 'SHOPIFY.CONSENT_INVALID',
              message: payload.userErrors
                .map((e) => `${(e.field ?? []).join('.')}: ${e.message}${e.code ? ` (${e.code})` : ''}`)
                .join('; '),
              retryable: payload.userErrors.some((e) => e.code === 'INTERNAL_ERROR'),
            });
          } else results.push({ email, ok: true });
        } catch (error) {
          const e = error as TactfulError;
          results.push({
            email,
            ok: false,
            code: e.code ?? 'SHOPIFY.ERROR',
            message: e.message,
            retryable: e.retryable ?? false,
          });
        }
      }
      return results;
    },

    async updateCustomer(update: CustomerUpdate): Promise<void> {
      const email = normaliseEmail(update.email) ?? update.email;
      const customerId = await findCustomerId(email, update.externalId);
      if (!customerId) return; // a customer Shopify does not hold has nothing to correct there
      const input: Record<string, string | null> = { id: customerId };
      if (update.firstName !== undefined) input.firstName = update.firstName;
      if (update.lastName !== undefined) input.lastName = update.lastName;
      // An address change: the same customer, another address; consent and everything else stay.
      if (update.newEmail !== undefined) input.email = normaliseEmail(update.newEmail) ?? update.newEmail;
      if (Object.keys(input).length === 1) return;
      const { customerUpdate: payload } = await client.request<{
        customerUpdate: { customer: { id: string } | null; userErrors: UserError[] };
      }>(CUSTOMER_UPDATE, { input });
      if (payload.userErrors.some((e) => (e.field ?? []).includes('email') && /taken/i.test(e.message)))
        throw new TactfulError(
          'SHOPIFY.ADDRESS_TAKEN',
          `Another Shopify customer already has the address ${input.email}; customer ${customerId} keeps ${email}. Merge or change one of them in Shopify.`,
          { retryable: false, details: payload.userErrors },
        );
      if (payload.userErrors.length > 0) {
        throw new TactfulError(
          'SHOPIFY.CUSTOMER_UPDATE_FAILED',
          `Shopify did not accept the correction for ${email}: ${payload.userErrors
            .map((e) => `${(e.field ?? []).join('.')}: ${e.message}`)
            .join('; ')}`,
          {
            retryable: false,
            details: payload.userErrors,
          },
        );
      }
    },

    async eraseCustomer(ref: { email: string; externalId?: string | undefined }): Promise<void> {
      const email = normaliseEmail(ref.email) ?? ref.email;
      const customerId = await findCustomerId(email, ref.externalId);
      if (!customerId) return; // nothing held: erasure is already true
      const { customerRequestDataErasure: payload } = await client.request<{
        customerRequestDataErasure: { customerId: string | null; userErrors: UserError[] };
      }>(CUSTOMER_ERASURE, { customerId });
      const errors = payload.userErrors.filter((e) => e.code !== 'DOES_NOT_EXIST');
      if (errors.length > 0) {
        throw new TactfulError(
          'SHOPIFY.ERASURE_FAILED',
          `Shopify did not accept the erasure request for ${email}: ${errors.map((e) => e.message).join('; ')}`,
          {
            retryable: errors.some((e) => e.code === 'FAILED_TO_REQUEST'),
            details: errors,
          },
        );
      }
    },
  };
  return platform;
}
