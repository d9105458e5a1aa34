/**
 * The one module that touches `@mailchimp/mailchimp_marketing`. Everything else talks to Mailchimp
 * through the typed methods below, whose responses are validated with zod.
 *
 * The SDK's default export is a module-level singleton configured with `setConfig` — global state that
 * two providers (two shops) would overwrite. Its class is reachable as the singleton's `constructor`,
 * so each client builds its own `ApiClient` instance with its own key, server and timeout; the global
 * instance is never configured. Requests go through the SDK's `callApi` (superagent on Node's http,
 * which msw intercepts), bounded by a semaphore to `maxConnections` in flight (Mailchimp allows 10),
 * with retries and exponential backoff on 429, 5xx, timeouts and connection resets.
 */
import mailchimpSingleton from '@mailchimp/mailchimp_marketing';
import type { z } from 'zod';
import { TactfulError, backoffDelay, isTactfulError } from '@tactful/core';
import {
  batchResultSchema,
  campaignPageSchema,
  campaignSchema,
  listPageSchema,
  listSchema,
  memberPageSchema,
  memberSchema,
  mergeFieldPageSchema,
  mergeFieldSchema,
  problemSchema,
  reportSchema,
  emailActivityPageSchema,
  segmentBatchSchema,
  segmentPageSchema,
  segmentSchema,
  webhookSchema,
} from './schemas.js';
import { createSemaphore } from './sync/semaphore.js';

interface SdkApiClient {
  basePath: string;
  timeout: number;
  setConfig(config: { apiKey?: string; accessToken?: string; server: string }): void;
  callApi(
    path: string,
    method: string,
    pathParams: Record<string, string>,
    queryParams: Record<string, unknown>,
    headerParams: Record<string, string>,
    formParams: Record<string, unknown>,
    body: unknown,
    authNames: string[],
    contentTypes: string[],
    accepts: string[],
    returnType: unknown,
  ): Promise<{ data: unknown; response: { status: number } }>;
}
type SdkApiClientClass = new () => SdkApiClient;

export interface MailchimpClientOptions {
  apiKey?: string | undefined;
  accessToken?: string | undefined;
  server: string;
  /** Replaces `https://<server>.api.mailchimp.com/3.0` (tests: a sandbox on loopback HTTP). */
  baseUrl?: string | undefined;
  maxConnections: number;
  timeoutMs: number;
  retry: { retries: number; baseDelayMs: number; maxDelayMs: number };
  /** Replaces `setTimeout` for backoff waits (tests). */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  /** The jitter of backoff waits, in [0, 1) (default `Math.random`; tests pass a seeded one). */
  random?: (() => number) | undefined;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
interface RequestSpec {
  query?: Record<string, string | number | boolean | undefined> | undefined;
  body?: unknown;
  /**
   * Retry only failures Mailchimp answered (429, 5xx), never a timeout or a dropped connection: for a call that
   * must not be repeated when it may have been done (a journey trigger sends an email; Mailchimp does not dedupe).
   */
  retryAnsweredOnly?: boolean | undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type MailchimpClient = ReturnType<typeof createMailchimpClient>;

export function createMailchimpClient(options: MailchimpClientOptions) {
  const ApiClient = (mailchimpSingleton as unknown as { constructor: SdkApiClientClass }).constructor;
  const sdk = new ApiClient();
  sdk.setConfig(
    options.apiKey !== undefined
      ? { apiKey: options.apiKey, server: options.server }
      : { accessToken: options.accessToken ?? '', server: options.server },
  );
  sdk.timeout = options.timeoutMs;
  if (options.baseUrl !== undefined) sdk.basePath = options.baseUrl.replace(/\/+$/, '');
  const limit = createSemaphore(options.maxConnections);
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  async function once(method: Method, path: string, spec: RequestSpec): Promise<unknown> {
    const query: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(spec.query ?? {})) if (value !== undefined) query[key] = value;
    try {
      const { data } = await limit.run(() =>
        sdk.callApi(
          path,
          method,
          {},
          query,
          {},
          {},
          spec.body,
          ['basicAuth'],
          ['application/json'],
          ['application/json', 'application/problem+json'],
          Object,
        ),
      );
      return data;
    } catch (error) {
      throw toTactfulError(error, method, path);
    }
  }

  async function request<S extends z.ZodType>(
    method: Method,
    path: string,
    spec: RequestSpec,
    schema: S | null,
  ): Promise<z.output<S>> {
    let attempt = 0;
    for (;;) {
      try {
        const data = await once(method, path, spec);
        if (schema === null) return undefined as z.output<S>;
        const parsed = schema.safeParse(data);
        if (!parsed.success) {
          throw new TactfulError(
            'MAILCHIMP.UNEXPECTED_RESPONSE',
            `Mailchimp answered ${method} ${path} in an unexpected shape: ${parsed.error.issues
              .slice(0, 3)
              .map((i) => `${i.path.join('.')}: ${i.message}`)
              .join('; ')}. Check the API version or report it.`,
            { body: data, cause: parsed.error },
          );
        }
        return parsed.data;
      } catch (error) {
        if (!isTactfulError(error) || !error.retryable || attempt >= options.retry.retries) throw error;
        if (spec.retryAnsweredOnly && error.status === undefined) throw error;
        attempt += 1;
        const { baseDelayMs, maxDelayMs } = options.retry;
        const wait = backoffDelay(attempt, baseDelayMs, maxDelayMs, random, error.retryAfter);
        // Held to maxDelayMs even when Mailchimp asked for longer: this wait blocks the caller's request; a
        // longer one is the outbox's to take (its dispatcher honours Retry-After in full).
        await sleep(Math.min(wait, maxDelayMs));
      }
    }
  }

  const list = (listId: string) => `/lists/${encodeURIComponent(listId)}`;
  const member = (listId: string, hash: string) => `${list(listId)}/members/${encodeURIComponent(hash)}`;

  return {
    /** Requests currently running (never more than `maxConnections`). */
    get inFlight() {
      return limit.active;
    },
    ping: () => request('GET', '/ping', {}, null),
    getList: (listId: string) => request('GET', list(listId), {}, listSchema),
    listLists: (query: { count: number; offset: number }) => request('GET', '/lists', { query }, listPageSchema),
    batchMembers: (
      listId: string,
      body: { members: Array<Record<string, unknown>>; update_existing: boolean; sync_tags?: boolean },
    ) => request('POST', list(listId), { body }, batchResultSchema),
    listMembers: (
      listId: string,
      query: {
        count: number;
        offset: number;
        status?: string | undefined;
        since_last_changed?: string | undefined;
        sort_field?: string;
        sort_dir?: string;
      },
    ) => request('GET', `${list(listId)}/members`, { query }, memberPageSchema),
    /** The member, or null when Mailchimp does not know the address. */
    async getMember(listId: string, hash: string) {
      try {
        return await request('GET', member(listId, hash), {}, memberSchema);
      } catch (error) {
        if (isTactfulError(error) && error.status === 404) return null;
        throw error;
      }
    },
    patchMember: (listId: string, hash: string, body: Record<string, unknown>) =>
      request('PATCH', member(listId, hash), { body }, memberSchema),
    /** Deletes the member permanently; false when there was nobody to delete. */
    async deleteMemberPermanent(listId: string, hash: string) {
      try {
        await request('POST', `${member(listId, hash)}/actions/delete-permanent`, {}, null);
        return true;
      } catch (error) {
        if (isTactfulError(error) && error.status === 404) return false;
        throw error;
      }
    },
    listMergeFields: (listId: string) =>
      request('GET', `${list(listId)}/merge-fields`, { query: { count: 1000, offset: 0 } }, mergeFieldPageSchema),
    createMergeField: (
      listId: string,
      body: { tag: string; name: string; type: string; required?: boolean; public?: boolean },
    ) => request('POST', `${list(listId)}/merge-fields`, { body }, mergeFieldSchema),
    listSegments: (listId: string, query: { type?: string; count: number; offset: number }) =>
      request('GET', `${list(listId)}/segments`, { query }, segmentPageSchema),
    createSegment: (listId: string, body: { name: string; static_segment: string[] }) =>
      request('POST', `${list(listId)}/segments`, { body }, segmentSchema),
    batchSegmentMembers: (
      listId: string,
      segmentId: number,
      body: { members_to_add?: string[]; members_to_remove?: string[] },
    ) => request('POST', `${list(listId)}/segments/${segmentId}`, { body }, segmentBatchSchema),
    createCampaign: (body: Record<string, unknown>) => request('POST', '/campaigns', { body }, campaignSchema),
    listCampaigns: (query: { list_id: string; count: number; offset: number }) =>
      request('GET', '/campaigns', { query }, campaignPageSchema),
    setCampaignContent: (campaignId: string, body: { html: string; plain_text?: string }) =>
      request('PUT', `/campaigns/${encodeURIComponent(campaignId)}/content`, { body }, null),
    sendCampaign: (campaignId: string) =>
      request('POST', `/campaigns/${encodeURIComponent(campaignId)}/actions/send`, {}, null),
    sendTestEmail: (campaignId: string, body: { test_emails: string[]; send_type: 'html' | 'plaintext' }) =>
      request('POST', `/campaigns/${encodeURIComponent(campaignId)}/actions/test`, { body }, null),
    deleteCampaign: (campaignId: string) => request('DELETE', `/campaigns/${encodeURIComponent(campaignId)}`, {}, null),
    getCampaign: (campaignId: string) =>
      request('GET', `/campaigns/${encodeURIComponent(campaignId)}`, {}, campaignSchema),
    listEmailActivity: (campaignId: string, query: { count: number; offset: number }) =>
      request('GET', `/reports/${encodeURIComponent(campaignId)}/email-activity`, { query }, emailActivityPageSchema),
    getReport: (campaignId: string) => request('GET', `/reports/${encodeURIComponent(campaignId)}`, {}, reportSchema),
    /** Sends the step's email: retried only when Mailchimp answered 429 or 5xx (an unanswered call may have sent it). */
    triggerJourney: (journeyId: number, stepId: number, email: string) =>
      request(
        'POST',
        `/customer-journeys/journeys/${journeyId}/steps/${stepId}/actions/trigger`,
        { body: { email_address: email }, retryAnsweredOnly: true },
        null,
      ),
    createWebhook: (
      listId: string,
      body: { url: string; events: Record<string, boolean>; sources: Record<string, boolean> },
    ) => request('POST', `${list(listId)}/webhooks`, { body }, webhookSchema),
  };
}

interface SuperagentError {
  status?: number;
  code?: string;
  timeout?: number;
  message?: string;
  response?: { body?: unknown; text?: string; headers?: Record<string, string | undefined> };
}

/** Maps a superagent failure to a TactfulError that says whether repeating can help. */
export function toTactfulError(error: unknown, method: string, path: string): TactfulError {
  if (isTactfulError(error)) return error;
  const e = (error ?? {}) as SuperagentError;
  const where = `${method} ${path}`;
  if (e.status === undefined) {
    const timedOut = e.timeout !== undefined || e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT';
    return new TactfulError(
      timedOut ? 'MAILCHIMP.TIMEOUT' : 'MAILCHIMP.NETWORK',
      timedOut
        ? `Mailchimp did not answer ${where} in time; it will be retried.`
        : `Could not reach Mailchimp for ${where} (${e.code ?? e.message ?? 'network error'}); it will be retried.`,
      { cause: error, retryable: true },
    );
  }
  const status = e.status;
  const body = e.response?.body ?? e.response?.text;
  const problem = problemSchema.safeParse(body);
  const detail = problem.success ? [problem.data.title, problem.data.detail].filter(Boolean).join(': ') : '';
  const retryAfterHeader = e.response?.headers?.['retry-after'];
  const retryAfter =
    retryAfterHeader !== undefined && Number.isFinite(Number(retryAfterHeader)) ? Number(retryAfterHeader) : undefined;
  const base = { cause: error, status, body, ...(retryAfter !== undefined ? { retryAfter } : {}) };
  if (status === 429)
    return new TactfulError(
      'MAILCHIMP.RATE_LIMITED',
      `Mailchimp throttled ${where} (${detail || 'too many requests'}); it will be retried with backoff.`,
      { ...base, retryable: true },
    );
  if (status >= 500)
    return new TactfulError(
      'MAILCHIMP.SERVER_ERROR',
      `Mailchimp failed on ${where} with ${status} (${detail}); it will be retried.`,
      { ...base, retryable: true },
    );
  if (status === 401 || status === 403)
    return new TactfulError(
      'MAILCHIMP.UNAUTHORIZED',
      `Mailchimp refused the credentials for ${where} (${detail}). Check the API key or OAuth token and its data centre.`,
      { ...base, retryable: false },
    );
  if (status === 404)
    return new TactfulError(
      'MAILCHIMP.NOT_FOUND',
      `Mailchimp has no such resource for ${where} (${detail}). Check the audience id.`,
      { ...base, retryable: false },
    );
  return new TactfulError(
    'MAILCHIMP.BAD_REQUEST',
    `Mailchimp rejected ${where} with ${status}: ${detail || 'bad request'}.`,
    { ...base, retryable: false },
  );
}
