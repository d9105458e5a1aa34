/**
 * The one door to the Admin GraphQL API: sends a document, paces to the shop's leaky bucket
 * (`extensions.cost.throttleStatus`), and retries THROTTLED, 429, 5xx and network failures with backoff.
 * Errors are TactfulErrors: `retryable` says whether trying later may help.
 */
import { TactfulError, backoffDelay } from '@tactful/core';

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface AdminClientOptions {
  shop: string;
  accessToken: string;
  apiVersion: string;
  fetch?: typeof fetch | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
  now?: () => number;
  /** The jitter of retry waits, in [0, 1) (default `Math.random`; tests pass a seeded one). */
  random?: (() => number) | undefined;
  retry: { maxAttempts: number; baseDelayMs: number; maxDelayMs: number };
  /** GraphQL calls unanswered after this long are abandoned and retried; default 30 s. */
  timeoutMs?: number | undefined;
}

export interface AdminClient {
  request<T>(document: string, variables?: Record<string, unknown>): Promise<T>;
  /** The bucket as last reported, projected to now; undefined before the first answer. */
  throttle(): ThrottleStatus | undefined;
  /** Fetches a URL the API handed out (bulk results), with the same retry rules. */
  download(url: string): Promise<Response>;
}

interface GraphqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }> | string | Record<string, unknown>;
  extensions?: {
    cost?: { requestedQueryCost?: number; actualQueryCost?: number | null; throttleStatus?: ThrottleStatus };
  };
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryAfterSeconds(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function httpError(response: Response, body: unknown, what: string): TactfulError {
  const status = response.status;
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  if (status === 429) {
    return new TactfulError(
      'SHOPIFY.RATE_LIMITED',
      `Shopify rate-limited ${what} (429); it is retried after the wait Shopify asked for.`,
      { status, body, retryable: true, ...(retryAfter !== undefined ? { retryAfter } : {}) },
    );
  }
  if (status >= 500) {
    return new TactfulError(
      'SHOPIFY.UNAVAILABLE',
      `Shopify answered ${status} to ${what}; this is usually temporary and is retried.`,
      { status, body, retryable: true, ...(retryAfter !== undefined ? { retryAfter } : {}) },
    );
  }
  if (status === 401 || status === 403) {
    return new TactfulError(
      'SHOPIFY.UNAUTHORIZED',
      `Shopify refused the access token for ${what} (${status}): reinstall the app or check its scopes.`,
      { status, body },
    );
  }
  return new TactfulError(
    'SHOPIFY.BAD_REQUEST',
    `Shopify refused ${what} with ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`,
    { status, body },
  );
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  const endpoint = `https://${options.shop}/admin/api/${options.apiVersion}/graphql.json`;
  const doFetch = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const { maxAttempts, baseDelayMs, maxDelayMs } = options.retry;
  /** Last requested cost per document: what the next call of it will likely need. */
  const lastCost = new Map<string, number>();
  let bucket: { status: ThrottleStatus; at: number } | undefined;

  const projected = (): ThrottleStatus | undefined => {
    if (!bucket) return undefined;
    const elapsed = (now() - bucket.at) / 1000;
    const { maximumAvailable, restoreRate, currentlyAvailable } = bucket.status;
    return {
      maximumAvailable,
      restoreRate,
      currentlyAvailable: Math.min(maximumAvailable, currentlyAvailable + elapsed * restoreRate),
    };
  };

  /** Waits until the bucket (as last reported) holds what this call will cost. */
  const pace = async (cost: number) => {
    const status = projected();
    if (!status || status.restoreRate <= 0) return;
    const needed = Math.min(cost, status.maximumAvailable);
    if (status.currentlyAvailable >= needed) return;
    await sleep(Math.ceil(((needed - status.currentlyAvailable) / status.restoreRate) * 1000));
  };

  const withRetry = async <T>(what: string, attempt: (n: number) => Promise<T>): Promise<T> => {
    let last: unknown;
    for (let n = 1; n <= maxAttempts; n++) {
      try {
        return await attempt(n);
      } catch (error) {
        last = error;
        const tactful = error as TactfulError;
        const retryable = typeof tactful?.retryable === 'boolean' ? tactful.retryable : false;
        if (!retryable || n === maxAttempts) throw error;
        await sleep(backoffDelay(n, baseDelayMs, maxDelayMs, random, tactful.retryAfter));
      }
    }
    throw last instanceof Error ? last : new TactfulError('SHOPIFY.UNAVAILABLE', `${what} failed`, { retryable: true });
  };

  const send = async (what: string, init: () => Promise<Response>): Promise<Response> => {
    try {
      return await init();
    } catch (error) {
      if ((error as { name?: string })?.name === 'TimeoutError') {
        throw new TactfulError(
          'SHOPIFY.TIMEOUT',
          `Shopify did not answer ${what} within ${options.timeoutMs ?? 30_000} ms. It is retried.`,
          { cause: error, retryable: true },
        );
      }
      if ((error as { name?: string })?.name === 'AbortError') throw error;
      throw new TactfulError(
        'SHOPIFY.NETWORK',
        `Could not reach Shopify for ${what}: ${(error as Error).message}. It is retried.`,
        { cause: error, retryable: true },
      );
    }
  };

  return {
    throttle: projected,
    async request<T>(document: string, variables: Record<string, unknown> = {}): Promise<T> {
      const name = /\b(?:query|mutation)\s+(\w+)/.exec(document)?.[1] ?? 'a GraphQL query';
      return withRetry(name, async () => {
        await pace(lastCost.get(document) ?? 10);
        const response = await send(name, () =>
          doFetch(endpoint, {
            method: 'POST',
            headers: {
              'Content-Type': 'application/json',
              Accept: 'application/json',
              'X-Shopify-Access-Token': options.accessToken,
            },
            body: JSON.stringify({ query: document, variables }),
            signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
          }),
        );
        const body = (await readBody(response)) as GraphqlBody<T>;
        if (!response.ok) throw httpError(response, body, name);
        const cost = body?.extensions?.cost;
        if (cost?.throttleStatus) bucket = { status: cost.throttleStatus, at: now() };
        if (typeof cost?.requestedQueryCost === 'number') lastCost.set(document, cost.requestedQueryCost);
        const errors = Array.isArray(body?.errors)
          ? body.errors
          : body?.errors
            ? [{ message: JSON.stringify(body.errors) }]
            : [];
        if (errors.length > 0) {
          const codes = errors.map((e) => e.extensions?.code);
          if (codes.includes('THROTTLED')) {
            const status = projected();
            const requested = cost?.requestedQueryCost ?? lastCost.get(document) ?? 10;
            const wait =
              status && status.restoreRate > 0
                ? Math.max(0, (requested - status.currentlyAvailable) / status.restoreRate)
                : 1;
            throw new TactfulError(
              'SHOPIFY.THROTTLED',
              `Shopify throttled ${name}: the shop's query-cost bucket is empty; it is retried when it refills.`,
              { body, retryable: true, retryAfter: wait },
            );
          }
          if (codes.includes('INTERNAL_SERVER_ERROR')) {
            throw new TactfulError('SHOPIFY.UNAVAILABLE', `Shopify failed internally on ${name}; it is retried.`, {
              body,
              retryable: true,
            });
          }
          if (codes.includes('MAX_COST_EXCEEDED')) {
            throw new TactfulError(
              'SHOPIFY.QUERY_TOO_COSTLY',
              `${name} asks for more than Shopify allows in one query: lower pageSize or linesPerOrder.`,
              { body },
            );
          }
          throw new TactfulError(
            'SHOPIFY.GRAPHQL',
            `Shopify refused ${name}: ${errors.map((e) => e.message).join('; ')}`,
            { body },
          );
        }
        if (body?.data == null)
          throw new TactfulError('SHOPIFY.GRAPHQL', `Shopify returned no data for ${name}.`, { body });
        return body.data;
      });
    },
    async download(url: string): Promise<Response> {
      return withRetry('the bulk operation result', async () => {
        const response = await send('the bulk operation result', () => doFetch(url));
        if (!response.ok) {
          const body = await readBody(response);
          if (response.status === 403 || response.status === 404 || response.status === 410) {
            throw new TactfulError(
              'SHOPIFY.BULK_RESULT_GONE',
              `The bulk operation result is no longer available (${response.status}); the import starts a new operation.`,
              { status: response.status, body },
            );
          }
          throw httpError(response, body, 'the bulk operation result');
        }
        return response;
      });
    },
  };
}
