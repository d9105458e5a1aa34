/**
 * One error base for all of Tactful. `code` is namespaced (`CONSENT.NOT_GRANTED`, `SHOPIFY.THROTTLED`),
 * the message says what to do next, and `cause` keeps the original. Use `isTactfulError` rather than
 * `instanceof`: two installed copies of this package have two different classes.
 */
import type { TactfulErrorCode } from './catalogue.js';

export interface TactfulErrorOptions {
  cause?: unknown;
  /** HTTP status of a vendor response, when there was one. */
  status?: number;
  /** The vendor's response body (already parsed when it was JSON). */
  body?: unknown;
  /** Seconds the vendor asked us to wait (Retry-After), when known. */
  retryAfter?: number;
  /** Whether repeating the same call later may succeed (429, 5xx, timeouts, resets). */
  retryable?: boolean;
  /** Structured details for programs (e.g. the list of config problems, a zod issue path). */
  details?: unknown;
}

export class TactfulError extends Error {
  readonly code: TactfulErrorCode;
  readonly status: number | undefined;
  readonly body: unknown;
  readonly retryAfter: number | undefined;
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(code: TactfulErrorCode, message: string, options: TactfulErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TactfulError';
    this.code = code;
    this.status = options.status;
    this.body = options.body;
    this.retryAfter = options.retryAfter;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }
}

export function isTactfulError(value: unknown, code?: TactfulErrorCode): value is TactfulError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { code?: unknown; name?: unknown };
  if (typeof candidate.code !== 'string' || !candidate.code.includes('.')) return false;
  if (candidate.name !== 'TactfulError') return false;
  return code === undefined || candidate.code === code;
}

/** Whether an error (ours or not) is worth retrying: our flag, else common network failure codes. */
export function isRetryable(error: unknown): boolean {
  if (isTactfulError(error)) return error.retryable;
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_SOCKET'].includes(code)
  );
}
