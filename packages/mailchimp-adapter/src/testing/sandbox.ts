/**
 * A stateful, in-process fake of the parts of Mailchimp's Marketing API 3.0 that Tactful uses, served
 * through msw. It holds audiences with members (keyed by the MD5 subscriber hash), merge fields, tags
 * (static segments), campaigns and webhooks; applies Mailchimp's status rules (an unsubscribed or
 * cleaned member cannot be set to subscribed — "Member In Compliance State" — only to pending; a
 * permanently deleted address cannot be re-imported); checks every request body against the OpenAPI
 * specification; answers 429 beyond 10 simultaneous connections; and fires form-encoded webhooks on
 * changes, honouring each webhook's `events` and `sources`. Customer Journeys (`journeys`) send one member an
 * email when the API triggers a step; every email sent is kept, rendered for its recipient (`emails()`), and
 * its unsubscribe and profile links open the sandbox's own list-manage pages.
 *
 * This file only assembles the parts: `state.ts` (the account and its rules), `routes/` (one file per API
 * area), `handler.ts` (what every request goes through), `faults.ts`, `webhook-delivery.ts`,
 * `responses.ts` and `problem.ts` (the JSON answers), `actions.ts` (changes made in Mailchimp itself),
 * `pages.ts` (the list-manage pages the emails link to).
 */
import { randomBytes } from 'node:crypto';
import { getResponse, http, type HttpHandler } from 'msw';
import { renderCampaignHtml } from '../campaign/template.js';
import { normaliseEmail, subscriberHash } from '../subscriber-hash.js';
import { createSandboxActions, type MailchimpSandboxActions } from './actions.js';
import { createSandboxFaults, type MailchimpSandboxFaults } from './faults.js';
import { createSandboxHandler, type MailchimpSandboxCalls } from './handler.js';
import { loadSpecValidator } from './openapi.js';
import { createListManagePages } from './pages.js';
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
  type SandboxEmail,
  type SandboxJourneyStep,
  type SandboxJourneyTrigger,
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
  SandboxEmail,
  SandboxJourneyStep,
  SandboxJourneyTrigger,
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

/** The account's Customer Journeys (`sandbox.journeys`): made as the owner makes them in the journey builder. */
export interface MailchimpSandboxJourneys {
  /**
   * A new journey whose starting step has the Customer Journeys API trigger and sends one email: by default
   * Tactful's related-product template (`renderCampaignHtml`, the default merge tags) for the audience's
   * company, the subject being the journey's name. Returns the ids Mailchimp shows in the trigger's URL.
   */
  create(
    name: string,
    options?: { listId?: string; html?: string; subject?: string; fromName?: string; replyTo?: string },
  ): { journeyId: number; stepId: number };
  /** Every step of the account, configured or created. */
  list(): readonly SandboxJourneyStep[];
  /** The triggers the API made, oldest first; narrowed to a step and/or an address (any case). */
  triggers(filter?: { journeyId?: number; stepId?: number; email?: string }): SandboxJourneyTrigger[];
  /** The emails journey steps sent, oldest first; narrowed to one recipient (any case). */
  emails(email?: string): SandboxEmail[];
}

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
    readonly journeyTriggers: readonly SandboxJourneyTrigger[];
    /** Every email sent (campaigns' and journeys'), oldest first, as its recipient got it. */
    readonly emails: readonly SandboxEmail[];
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
  /**
   * The exact HTML `email` got from a sent campaign (rendered at the send), or would get from one not sent yet;
   * null when they are not a recipient.
   */
  render(campaignId: string, email: string): string | null;
  /** The HTML of the last email `email` got from a journey step, or null when the step never sent them one. */
  renderJourney(journeyId: number, stepId: number, email: string): string | null;
  /** Every email sent so far, oldest first; narrowed to one recipient (any case): the sandbox's outbox. */
  emails(to?: string): SandboxEmail[];
  /** Customer Journeys: create a step to trigger, read the triggers and the emails they sent. */
  readonly journeys: MailchimpSandboxJourneys;
  /**
   * Where the list-manage pages (unsubscribe, profile) are served and linked from emails sent from now on
   * (`MailchimpSandboxOptions.listManageUrl`).
   */
  readonly listManageUrl: string;
  /**
   * Moves the list-manage pages to `baseUrl` (an http(s) URL, no query): emails sent from now on link there,
   * and the sandbox's handlers answer there. `serveMailchimpSandbox(sandbox, { pages: true })` calls it.
   */
  servePagesAt(baseUrl: string): void;
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

/** A list-manage base URL without its trailing slash; anything but an absolute http(s) URL without a query throws. */
function pagesBase(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.search !== '' || parsed.hash !== '')
    throw new Error(
      `Mailchimp sandbox: the list-manage pages need an absolute http(s) URL without a query, not "${url}"`,
    );
  return url.replace(/\/+$/, '');
}

export function createMailchimpSandbox(options: MailchimpSandboxOptions = {}): MailchimpSandbox {
  const dc = options.dc ?? 'us21';
  const apiKey = options.apiKey ?? `${'0'.repeat(31)}1-${dc}`;
  const baseUrl = `https://${dc}.api.mailchimp.com/3.0`;
  const now = options.now ?? (() => new Date());
  let listManageUrl = pagesBase(options.listManageUrl ?? `https://${dc}.list-manage.com`);
  const faults = createSandboxFaults(options.faultPlan ?? null);
  const webhooks = createWebhookDeliveries(options.deliver, () => faults.plan);
  const state = createSandboxState(options.audiences ?? [{ id: 'aud0000001' }], webhooks, now, {
    journeys: options.journeys ?? [],
    listManageUrl: () => listManageUrl,
  });
  const context: SandboxContext = { state, webhooks, faults };
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

  const pages = createListManagePages(state, () => listManageUrl);
  const pagesHandler = http.all(
    ({ request }) => request.url.startsWith(`${listManageUrl}/`),
    async ({ request }) => (await pages(request)) ?? undefined,
  );
  const handlers = [handler, pagesHandler];
  const byRecipient = (list: readonly SandboxEmail[], to: string | undefined) =>
    to === undefined ? [...list] : list.filter((e) => e.to === normaliseEmail(to));

  return {
    handlers,
    async fetch(input, init) {
      const request = input instanceof Request && init === undefined ? input : new Request(input, init);
      const response = await getResponse(handlers, request);
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
      emails: state.emails,
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
      if (campaign.status === 'sent') {
        const to = normaliseEmail(email);
        const sent = state.emails.find(
          (e) => e.to === to && e.via.kind === 'campaign' && e.via.campaignId === campaign.id,
        );
        return sent?.html ?? null;
      }
      const audience = state.audienceOf(campaign.list_id);
      const member = audience.members.get(subscriberHash(email));
      if (!member || campaign.html === null || !state.recipientsOf(campaign).some((m) => m.id === member.id))
        return null;
      return renderForMember(campaign.html, audience, member, campaign.id, listManageUrl);
    },
    renderJourney(journeyId, stepId, email) {
      const to = normaliseEmail(email);
      const sent = state.emails.filter(
        (e) => e.to === to && e.via.kind === 'journey' && e.via.journeyId === journeyId && e.via.stepId === stepId,
      );
      return sent.at(-1)?.html ?? null;
    },
    emails: (to) => byRecipient(state.emails, to),
    journeys: {
      create(name, opts = {}) {
        const audience = state.audienceOf(opts.listId);
        const step = state.createJourney({
          listId: audience.id,
          name,
          html: opts.html ?? renderCampaignHtml({ storeName: audience.contact?.company ?? audience.name }),
          subject: opts.subject ?? name,
          ...(opts.fromName !== undefined ? { fromName: opts.fromName } : {}),
          ...(opts.replyTo !== undefined ? { replyTo: opts.replyTo } : {}),
        });
        return { journeyId: step.journeyId, stepId: step.stepId };
      },
      list: () => state.journeys,
      triggers(filter = {}) {
        const email = filter.email === undefined ? undefined : normaliseEmail(filter.email);
        return state.journeyTriggers.filter(
          (t) =>
            (filter.journeyId === undefined || t.journeyId === filter.journeyId) &&
            (filter.stepId === undefined || t.stepId === filter.stepId) &&
            (email === undefined || t.email === email),
        );
      },
      emails: (to) => byRecipient(state.emails, to).filter((e) => e.via.kind === 'journey'),
    },
    get listManageUrl() {
      return listManageUrl;
    },
    servePagesAt(baseUrl) {
      listManageUrl = pagesBase(baseUrl);
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
