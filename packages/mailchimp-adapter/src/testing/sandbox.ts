/**
 * A stateful, in-process fake of the parts of Mailchimp's Marketing API 3.0 that Tactful uses, served
 * through msw. It holds audiences with members (keyed by the MD5 subscriber hash), merge fields, tags
 * (static segments), campaigns and webhooks; applies Mailchimp's status rules (an unsubscribed or
 * cleaned member cannot be set to subscribed — "Member In Compliance State" — only to pending; a
 * permanently deleted address cannot be re-imported); checks every request body against the OpenAPI
 * specification; answers 429 beyond 10 simultaneous connections; and fires form-encoded webhooks on
 * changes, honouring each webhook's `events` and `sources`.
 *
 * This file only assembles the parts: `state.ts` (the account and its rules), `routes/` (one file per API
 * area), `handler.ts` (what every request goes through), `faults.ts`, `webhook-delivery.ts`,
 * `responses.ts` and `problem.ts` (the JSON answers), `actions.ts` (changes made in Mailchimp itself).
 */
import { randomBytes } from 'node:crypto';
import { getResponse, type HttpHandler } from 'msw';
import { normaliseEmail, subscriberHash } from '../subscriber-hash.js';
import { createSandboxActions, type MailchimpSandboxActions } from './actions.js';
import { createSandboxFaults, type MailchimpSandboxFaults } from './faults.js';
import { createSandboxHandler, type MailchimpSandboxCalls } from './handler.js';
import { loadSpecValidator } from './openapi.js';
import { renderForMember } from './render.js';
import { createRouter } from './router.js';
import { sandboxRoutes, type SandboxContext } from './routes/index.js';
import { createSandboxState, type SandboxTestEmail } from './state.js';
import {
  mailchimpTime,
  type MailchimpSandboxOptions,
  type MemberStatus,
  type SandboxAudience,
  type SandboxCampaign,
  type SandboxMember,
  type SandboxWebhook,
  type WebhookDelivery,
} from './types.js';
import { createWebhookDeliveries } from './webhook-delivery.js';

export type {
  AudienceContact,
  ChangeSource,
  FaultKind,
  MailchimpSandboxOptions,
  MemberStatus,
  SandboxAudience,
  SandboxAudienceSeed,
  SandboxCampaign,
  SandboxJourneyStep,
  SandboxMember,
  SandboxMergeField,
  SandboxSegment,
  SandboxWebhook,
  WebhookDelivery,
  WebhookEvent,
} from './types.js';
export { DEFAULT_CONTACT, mailchimpTime } from './types.js';
export type { MailchimpSandboxActions } from './actions.js';
export type { MailchimpSandboxCalls } from './handler.js';
export type { MailchimpSandboxFaults } from './faults.js';

/** A Mailchimp account in memory, answering the Marketing API at `baseUrl` (see `createMailchimpSandbox`). */
export interface MailchimpSandbox {
  /** msw handlers: `setupServer(...sandbox.handlers)` or `server.use(...sandbox.handlers)`. */
  readonly handlers: HttpHandler[];
  /**
   * A fetch that answers from this sandbox directly, without intercepting the process's network (used by
   * `serveMailchimpSandbox`). A request for anything else, or a dropped connection, fails like a network error.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** The Marketing API root, e.g. `https://us21.api.mailchimp.com/3.0`. */
  readonly baseUrl: string;
  /** The data centre (`us21`), the suffix of the API key. */
  readonly dc: string;
  /** The API key the sandbox accepts (HTTP Basic, any user name). */
  readonly apiKey: string;
  /** Readable state for oracles. Mutate it only through `seed*` and `actions`. */
  readonly state: {
    readonly audiences: Map<string, SandboxAudience>;
    readonly campaigns: Map<string, SandboxCampaign>;
    /** Journey steps the API triggered, with the (normalised) address. */
    readonly journeyTriggers: Array<{ journeyId: number; stepId: number; email: string }>;
    /** Test emails sent ("send a test"), oldest first, with their HTML as the recipient gets it. */
    readonly testEmails: SandboxTestEmail[];
    /** Every webhook delivery made, in the order sent. */
    readonly deliveries: WebhookDelivery[];
    /** Status changes Mailchimp refused (compliance state, forgotten address, archived). */
    readonly refusals: Array<{ email: string; status: MemberStatus; title: string }>;
  };
  /** The member with this address in `listId` (default: the first audience), if any. */
  member(email: string, listId?: string): SandboxMember | undefined;
  /** Puts a member straight into the audience: no webhook, no call counted. */
  seedMember(
    email: string,
    status: MemberStatus,
    seed?: { listId?: string; at?: Date; mergeFields?: Record<string, string>; tags?: string[] },
  ): SandboxMember;
  /** The exact HTML `email` gets (or got) from a campaign, or null when they are not a recipient. */
  render(campaignId: string, email: string): string | null;
  /** The email a journey step sends `email`, when they were triggered into it. */
  renderJourney(journeyId: number, stepId: number, email: string): string | null;
  /** Calls counted by `METHOD template`, and the concurrency seen. */
  readonly calls: MailchimpSandboxCalls;
  /** Queued faults, per-member batch errors and the seeded fault plan. */
  readonly faults: MailchimpSandboxFaults;
  /** Changes made in Mailchimp itself, by the member (`user`) or the account owner (`admin`). Each fires webhooks. */
  readonly actions: MailchimpSandboxActions;
  /** Registers a webhook directly (as the account owner would in the UI), without the verification GET. */
  addWebhook(
    url: string,
    opts?: {
      listId?: string;
      events?: Partial<SandboxWebhook['events']>;
      sources?: Partial<SandboxWebhook['sources']>;
    },
  ): SandboxWebhook;
  /** Waits until every webhook fired so far has been delivered (or failed). */
  flushWebhooks(): Promise<void>;
}

const router = createRouter(sandboxRoutes);

export function createMailchimpSandbox(options: MailchimpSandboxOptions = {}): MailchimpSandbox {
  const dc = options.dc ?? 'us21';
  const apiKey = options.apiKey ?? `${'0'.repeat(31)}1-${dc}`;
  const baseUrl = `https://${dc}.api.mailchimp.com/3.0`;
  const now = options.now ?? (() => new Date());
  const journeys = options.journeys ?? [];
  const faults = createSandboxFaults(options.faultPlan ?? null);
  const webhooks = createWebhookDeliveries(options.deliver, () => faults.plan);
  const state = createSandboxState(options.audiences ?? [{ id: 'aud0000001' }], webhooks, now);
  const context: SandboxContext = { state, webhooks, faults, journeys };
  const { handler, calls } = createSandboxHandler(
    {
      baseUrl,
      apiKey,
      accessToken: options.accessToken,
      maxConnections: options.maxConnections ?? 10,
      latencyMs: options.latencyMs,
      spec: options.validateRequests === false ? null : loadSpecValidator(options.specPath),
    },
    router,
    context,
    faults,
  );

  return {
    handlers: [handler],
    async fetch(input, init) {
      const request = input instanceof Request && init === undefined ? input : new Request(input, init);
      const response = await getResponse([handler], request);
      if (!response)
        throw new TypeError(`fetch failed: the Mailchimp sandbox does not serve ${request.method} ${request.url}`);
      if (response.type === 'error')
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
        });
      return response;
    },
    baseUrl,
    dc,
    apiKey,
    state: {
      audiences: state.audiences,
      campaigns: state.campaigns,
      journeyTriggers: state.journeyTriggers,
      testEmails: state.testEmails,
      deliveries: webhooks.deliveries,
      refusals: state.refusals,
    },
    member: (email, listId) => state.audienceOf(listId).members.get(subscriberHash(email)),
    seedMember(email, status, seed = {}) {
      const audience = state.audienceOf(seed.listId);
      const at = seed.at ?? now();
      const member =
        audience.members.get(subscriberHash(normaliseEmail(email))) ??
        state.newMember(audience, email.trim(), status, at);
      member.status = status;
      member.last_changed = mailchimpTime(at);
      member.timestamp_opt = status === 'subscribed' ? mailchimpTime(at) : member.timestamp_opt;
      if (status === 'unsubscribed') member.unsubscribe_reason = 'manual';
      state.applyMergeFields(audience, member, seed.mergeFields);
      for (const tag of seed.tags ?? []) state.tagMember(audience, member, tag, true, at);
      return member;
    },
    render(campaignId, email) {
      const campaign = state.campaignOr404(campaignId);
      const audience = state.audienceOf(campaign.list_id);
      const member = audience.members.get(subscriberHash(email));
      if (!member || campaign.html === null || !state.recipientsOf(campaign).some((m) => m.id === member.id))
        return null;
      return renderForMember(campaign.html, audience, member, campaign.id, dc);
    },
    renderJourney(journeyId, stepId, email) {
      const step = journeys.find((j) => j.journeyId === journeyId && j.stepId === stepId);
      const normalised = normaliseEmail(email);
      const triggered = state.journeyTriggers.some(
        (t) => t.journeyId === journeyId && t.stepId === stepId && t.email === normalised,
      );
      if (!step || !triggered) return null;
      const audience = state.audienceOf(step.listId);
      const member = audience.members.get(subscriberHash(normalised));
      return member ? renderForMember(step.html, audience, member, `journey-${journeyId}-${stepId}`, dc) : null;
    },
    calls,
    faults: faults.steer,
    actions: createSandboxActions(state),
    addWebhook(url, opts = {}) {
      const hook: SandboxWebhook = {
        id: randomBytes(5).toString('hex'),
        url,
        events: {
          subscribe: true,
          unsubscribe: true,
          profile: true,
          cleaned: true,
          upemail: true,
          campaign: true,
          ...opts.events,
        },
        sources: { user: true, admin: true, api: false, ...opts.sources },
      };
      state.audienceOf(opts.listId).webhooks.push(hook);
      return hook;
    },
    flushWebhooks: () => webhooks.flush(),
  };
}
