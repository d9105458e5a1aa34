/**
 * Full imports through bulk operations (orders with line items; customers with consent), resumable: the operation id and how many orders were
 * delivered are saved in a checkpoint, so after a crash the same result file is read again and the orders
 * already delivered are skipped — none twice, none missing.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TactfulError } from '@tactful/core';
import type { CustomerRecord, OrderRecord } from '@tactful/core';
import type { AdminClient } from '../client.js';
import { BULK_BY_ID, BULK_CUSTOMERS_QUERY, BULK_CURRENT, BULK_ORDERS_QUERY, BULK_RUN } from '../queries.js';
import { toCustomerRecord, toOrderRecord, type CustomerNode } from '../records.js';
import { assembleOrders, readLines } from './jsonl.js';

export interface BulkImportCheckpoint {
  /** The bulk operation's global id. */
  operationId: string;
  /** `running`: waiting for Shopify; `streaming`: reading the result; `done` / `failed`: the next import starts afresh. */
  status: 'running' | 'streaming' | 'done' | 'failed';
  /** Orders delivered to the consumer, in result-file order. */
  delivered: number;
  startedAt: string;
  updatedAt: string;
}

export interface BulkImportCheckpointStore {
  load(): Promise<BulkImportCheckpoint | null>;
  save(checkpoint: BulkImportCheckpoint): Promise<void>;
  /**
   * Optional lease, for a store that several instances share (see `storeCheckpointStore`): takes or renews
   * the import's lease for `holder` until `leaseMs` from now, and resolves false while another holder's lease
   * is live. An import holds it from start to end and renews it at every poll and checkpoint, so a second
   * instance neither starts a second import of the shop nor streams the same result while one runs.
   */
  claim?(holder: string, leaseMs: number): Promise<boolean>;
  /** Gives the lease back (end, failure or abort of the import); a crashed holder's lease simply runs out. */
  release?(holder: string): Promise<void>;
}

export function memoryCheckpointStore(
  initial: BulkImportCheckpoint | null = null,
): BulkImportCheckpointStore & { current(): BulkImportCheckpoint | null } {
  let value = initial;
  return {
    async load() {
      return value ? { ...value } : null;
    },
    async save(checkpoint) {
      value = { ...checkpoint };
    },
    current: () => (value ? { ...value } : null),
  };
}

interface BulkOperationNode {
  id: string;
  status: string;
  errorCode?: string | null;
  objectCount?: string | null;
  rootObjectCount?: string | null;
  url?: string | null;
  partialDataUrl?: string | null;
}

interface UserError {
  field?: string[] | null;
  message: string;
  code?: string | null;
}

export interface BulkImportOptions {
  client: AdminClient;
  checkpoints: BulkImportCheckpointStore;
  pollIntervalMs: number;
  timeoutMs: number;
  groupObjects: boolean;
  window: number;
  checkpointEvery: number;
  sleep: (ms: number) => Promise<void>;
  /** The clock for the wait deadline (epoch ms). */
  now?: (() => number) | undefined;
  signal?: AbortSignal | undefined;
  /** Resolves when Shopify reports the operation finished (the bulk_operations/finish webhook); polling continues meanwhile. */
  finished?: ((operationId: string) => Promise<void>) | undefined;
  /** Who holds the lease of a shared checkpoint store (default: host, pid and a random id per import). */
  holder?: string | undefined;
  /** How long the lease lasts without renewal (default: 2 minutes, or 4 polls when polls are slower). */
  leaseMs?: number | undefined;
}

const nowIso = () => new Date().toISOString();

async function startOperation(client: AdminClient, query: string, groupObjects: boolean): Promise<string> {
  const result = await client.request<{
    bulkOperationRunQuery: { bulkOperation: BulkOperationNode | null; userErrors: UserError[] };
  }>(BULK_RUN, {
    query,
    groupObjects,
  });
  const { bulkOperation, userErrors } = result.bulkOperationRunQuery;
  if (bulkOperation) return bulkOperation.id;
  if (userErrors.some((e) => e.code === 'OPERATION_IN_PROGRESS')) {
    const current = await client.request<{ currentBulkOperation: (BulkOperationNode & { query?: string }) | null }>(
      BULK_CURRENT,
    );
    throw new TactfulError(
      'SHOPIFY.BULK_BUSY',
      `Another bulk query (${current.currentBulkOperation?.id ?? 'unknown'}) is running for this shop; Shopify runs one at a time. The import is retried later.`,
      { retryable: true, retryAfter: 60, details: userErrors },
    );
  }
  throw new TactfulError(
    'SHOPIFY.BULK_REFUSED',
    `Shopify refused the bulk query: ${userErrors.map((e) => e.message).join('; ')}`,
    { details: userErrors },
  );
}

async function waitForOperation(
  options: BulkImportOptions,
  operationId: string,
  renew: () => Promise<void>,
): Promise<BulkOperationNode> {
  const { client, sleep, signal } = options;
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  let finished = false;
  options.finished?.(operationId).then(
    () => (finished = true),
    () => undefined,
  );
  for (;;) {
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    await renew();
    const { node } = await client.request<{ node: BulkOperationNode | null }>(BULK_BY_ID, { id: operationId });
    if (!node)
      throw new TactfulError(
        'SHOPIFY.BULK_MISSING',
        `Shopify no longer knows bulk operation ${operationId}; the next import starts a new one.`,
      );
    if (['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED'].includes(node.status)) return node;
    if (now() > deadline) {
      throw new TactfulError(
        'SHOPIFY.BULK_TIMEOUT',
        `Bulk operation ${operationId} did not finish within ${Math.round(options.timeoutMs / 60000)} minutes; the import resumes waiting on the next run.`,
        { retryable: true },
      );
    }
    if (!finished) await sleep(options.pollIntervalMs);
  }
}

/** Runs `query` in bulk (or resumes it) and yields what `assemble` makes of the result lines, skipping what was delivered. */
async function* runBulkImport<T>(
  options: BulkImportOptions,
  query: string,
  assemble: (lines: AsyncIterable<string>) => AsyncIterable<T>,
): AsyncGenerator<T> {
  const shared = options.checkpoints;
  const holder = options.holder ?? `${hostname()}:${process.pid}:${randomUUID()}`;
  const leaseMs = options.leaseMs ?? Math.max(120_000, options.pollIntervalMs * 4);
  const clock = options.now ?? Date.now;
  let renewedAt: number | null = null;
  // Renewed at most every quarter lease (a checkpoint is saved after every order by default).
  const renew = async () => {
    if (!shared.claim || (renewedAt !== null && clock() - renewedAt < leaseMs / 4)) return;
    renewedAt = clock();
    if (!(await shared.claim(holder, leaseMs))) {
      throw new TactfulError(
        'SHOPIFY.BULK_CLAIMED',
        "Another instance is running this bulk import of the shop right now (it holds the import's lease); this one stopped without changing anything. It is retried later, or picks up where the other left off if that one dies.",
        { retryable: true, retryAfter: Math.ceil(leaseMs / 1000) },
      );
    }
  };
  await renew();
  try {
    const guarded: BulkImportOptions = {
      ...options,
      checkpoints: {
        load: () => shared.load(),
        save: async (c) => {
          await renew();
          await shared.save(c);
        },
      },
    };
    yield* runClaimedImport(guarded, query, assemble, renew);
  } finally {
    await shared.release?.(holder);
  }
}

async function* runClaimedImport<T>(
  options: BulkImportOptions,
  query: string,
  assemble: (lines: AsyncIterable<string>) => AsyncIterable<T>,
  renew: () => Promise<void>,
): AsyncGenerator<T> {
  const { client, checkpoints } = options;
  let checkpoint = await checkpoints.load();
  if (!checkpoint || checkpoint.status === 'done' || checkpoint.status === 'failed') {
    const operationId = await startOperation(client, query, options.groupObjects);
    checkpoint = { operationId, status: 'running', delivered: 0, startedAt: nowIso(), updatedAt: nowIso() };
    await checkpoints.save(checkpoint);
  }
  const operation = await waitForOperation(options, checkpoint.operationId, renew);
  if (operation.status !== 'COMPLETED') {
    await checkpoints.save({ ...checkpoint, status: 'failed', updatedAt: nowIso() });
    const retryable =
      operation.errorCode === 'INTERNAL_SERVER_ERROR' ||
      operation.errorCode === 'TIMEOUT' ||
      operation.status === 'EXPIRED';
    throw new TactfulError(
      'SHOPIFY.BULK_FAILED',
      `The bulk import ended ${operation.status}${operation.errorCode ? ` (${operation.errorCode})` : ''}; ${retryable ? 'the next import starts a new operation' : "check the app's read_orders scope"}.`,
      { retryable, details: operation },
    );
  }
  if (checkpoint.status !== 'streaming') {
    checkpoint = { ...checkpoint, status: 'streaming', updatedAt: nowIso() };
    await checkpoints.save(checkpoint);
  }
  if (operation.url) {
    let response: Response;
    try {
      response = await client.download(operation.url);
    } catch (error) {
      if ((error as TactfulError).code === 'SHOPIFY.BULK_RESULT_GONE')
        await checkpoints.save({ ...checkpoint, status: 'failed', updatedAt: nowIso() });
      throw error;
    }
    if (!response.body)
      throw new TactfulError('SHOPIFY.BULK_RESULT_INVALID', 'The bulk operation result has no body.', {
        retryable: true,
      });
    const skip = checkpoint.delivered;
    let index = 0;
    let unsaved = 0;
    for await (const item of assemble(readLines(response.body, options.signal))) {
      index += 1;
      if (index <= skip) continue;
      yield item;
      // Reached only when the consumer asks for the next order: this one is done.
      checkpoint.delivered = index;
      unsaved += 1;
      if (unsaved >= options.checkpointEvery) {
        checkpoint.updatedAt = nowIso();
        await checkpoints.save(checkpoint);
        unsaved = 0;
      }
    }
  }
  await checkpoints.save({ ...checkpoint, status: 'done', updatedAt: nowIso() });
}

/** Streams every order of the shop with its line items, resuming from the checkpoint store. */
export function importOrders(options: BulkImportOptions): AsyncGenerator<OrderRecord> {
  return runBulkImport(options, BULK_ORDERS_QUERY, async function* (lines) {
    for await (const { order, lines: items } of assembleOrders(lines, options.window))
      yield toOrderRecord(order, items);
  });
}

/** Streams every customer of the shop with their email marketing consent. */
export function importCustomers(options: BulkImportOptions, purpose: string): AsyncGenerator<CustomerRecord> {
  return runBulkImport(options, BULK_CUSTOMERS_QUERY, async function* (lines) {
    let lineNo = 0;
    for await (const text of lines) {
      lineNo += 1;
      let row: CustomerNode & { __parentId?: string };
      try {
        row = JSON.parse(text) as CustomerNode & { __parentId?: string };
      } catch (cause) {
        throw new TactfulError('SHOPIFY.BULK_RESULT_INVALID', `Line ${lineNo} of the bulk result is not JSON.`, {
          cause,
        });
      }
      if (row.__parentId === undefined && typeof row.id === 'string') yield toCustomerRecord(row, purpose);
    }
  });
}
