/**
 * The one place that talks HTTP to WooCommerce (REST API wc/v3): Basic auth with the consumer key and secret,
 * retries with backoff on 429/5xx/network failures, and every failure as a TactfulError whose `retryable`
 * says whether trying again later may help.
 */
import { backoffDelay, TactfulError } from '@tactful/core';
import type { ResolvedWooCommerceOptions } from './options.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface WooResponse<T> {
  data: T;
  headers: Headers;
}

export interface WooClient {
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options?: { query?: Query; body?: unknown },
  ): Promise<WooResponse<T>>;
}

/** WordPress REST errors are `{ code, message, data: { status } }`. */
function wpErrorText(body: unknown): string {
  const b = body as { code?: unknown; message?: unknown } | null;
  if (b && typeof b.message === 'string') return typeof b.code === 'string' ? `${b.code}: ${b.message}` : b.message;
  return typeof body === 'string' ? body.slice(0, 200) : '';
}

function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Classifies a non-2xx answer. Exported for the adapter's unit tests. */
export function errorFromResponse(status: number, body: unknown, headers: Headers, what: string): TactfulError {
  const detail = wpErrorText(body);
  const retryAfter = retryAfterSeconds(headers.get('retry-after'));
  const extra = { status, body, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  if (status === 429)
    return new TactfulError(
      'WOOCOMMERCE.RATE_LIMITED',
      `WooCommerce rate-limited ${what} (429); it is retried after the wait the site asked for.`,
      { ...extra, retryable: true },
    );
  if (status >= 500)
    return new TactfulError(
      'WOOCOMMERCE.UNAVAILABLE',
      `WooCommerce answered ${status} to ${what}${detail ? ` (${detail})` : ''}; this is usually temporary and is retried.`,
      { ...extra, retryable: true },
    );
  if (status === 401 || status === 403) {
    return new TactfulError(
      'WOOCOMMERCE.UNAUTHORIZED',
      `WooCommerce refused ${what} (${status}${detail ? `, ${detail}` : ''}): check the consumer key and secret, and that the key has Read/Write permission.`,
      { ...extra, retryable: false },
    );
  }
  if (status === 404)
    return new TactfulError(
      'WOOCOMMERCE.NOT_FOUND',
      `WooCommerce has nothing at ${what}${detail ? ` (${detail})` : ''}: check the store URL and that the record still exists.`,
      { ...extra, retryable: false },
    );
  return new TactfulError(
    'WOOCOMMERCE.BAD_REQUEST',
    `WooCommerce rejected ${what} (${status}${detail ? `, ${detail}` : ''}); repeating it will not help.`,
    { ...extra, retryable: false },
  );
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createWooClient(options: ResolvedWooCommerceOptions): WooClient {
  const authorization = `Basic ${Buffer.from(`${options.consumerKey}:${options.consumerSecret}`).toString('base64')}`;
  const sleep = options.sleep ?? defaultSleep;
  const { maxAttempts, baseDelayMs, maxDelayMs } = options.retry;

  async function once<T>(method: string, url: URL, body: unknown, what: string): Promise<WooResponse<T>> {
    let response: Response;
    try {
      const doFetch = options.fetch ?? globalThis.fetch;
      response = await doFetch(url, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (cause) {
      throw new TactfulError(
        'WOOCOMMERCE.NETWORK',
        `Could not reach WooCommerce for ${what}: ${(cause as Error).message}. It is retried.`,
        { cause, retryable: true },
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      if (response.ok) {
        throw new TactfulError(
          'WOOCOMMERCE.BAD_RESPONSE',
          `WooCommerce answered ${what} with something that is not JSON (a security plugin or a maintenance page?): ${text.slice(0, 120)}`,
          { status: response.status, body: text },
        );
      }
    }
    if (!response.ok) throw errorFromResponse(response.status, parsed, response.headers, what);
    return { data: parsed as T, headers: response.headers };
  }

  return {
    async request<T>(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      path: string,
      request: { query?: Query; body?: unknown } = {},
    ) {
      const url = new URL(`${options.url}/wp-json/wc/v3${path}`);
      for (const [key, value] of Object.entries(request.query ?? {}))
        if (value !== undefined) url.searchParams.set(key, String(value));
      const what = `${method} ${path}`;
      for (let attempt = 1; ; attempt++) {
        try {
          return await once<T>(method, url, request.body, what);
        } catch (error) {
          const e = error as TactfulError;
          if (!e.retryable || attempt >= maxAttempts) throw error;
          await sleep(backoffDelay(attempt, baseDelayMs, maxDelayMs, Math.random, e.retryAfter));
        }
      }
    },
  };
}
