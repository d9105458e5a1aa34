/**
 * A stateful, in-process fake of the parts of Mailchimp's Marketing API 3.0 that Tactful uses, served
 * through msw. It holds audiences with members (keyed by the MD5 subscriber hash), merge fields, tags
 * (static segments), campaigns and webhooks; applies Mailchimp's status rules (an unsubscribed or
 * cleaned member cannot be set to subscribed — "Member In Compliance State" — only to pending; a
 * permanently deleted address cannot be re-imported); checks every request body against the OpenAPI
 * specification; answers 429 beyond 10 simultaneous connections; and fires form-encoded webhooks on
 * changes, honouring each webhook's `events` and `sources`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { getResponse, http, HttpResponse, type HttpHandler } from 'msw';
import { subscriberHash, normaliseEmail } from '../subscriber-hash.js';
import { loadSpecValidator } from './openapi.js';
import { renderMergeTags } from './render.js';
import { mailchimpWebhookFaultKinds, type MailchimpFaultPlan } from './fault-plan.js';

export type MemberStatus = 'subscribed' | 'unsubscribed' | 'cleaned' | 'pending' | 'transactional' | 'archived';
export type ChangeSource = 'user' | 'admin' | 'api';
export type FaultKind = 'rate_limit' | 'server_error' | 'unavailable' | 'bad_request';

export interface SandboxMember {
  id: string;
  email_address: string;
  unique_email_id: string;
  web_id: number;
  status: MemberStatus;
  merge_fields: Record<string, string>;
  marketing_permissions: Array<{ marketing_permission_id: string; text: string; enabled: boolean }>;
  timestamp_signup: string;
  timestamp_opt: string;
  ip_opt: string;
  last_changed: string;
  unsubscribe_reason: string;
}

export interface SandboxMergeField {
  merge_id: number;
  tag: string;
  name: string;
  type: string;
  required: boolean;
  public: boolean;
  default_value: string;
}

export interface SandboxSegment {
  id: number;
  name: string;
  type: 'static';
  members: Set<string>;
  created_at: string;
  updated_at: string;
}

export interface SandboxWebhook {
  id: string;
  url: string;
  events: Record<'subscribe' | 'unsubscribe' | 'profile' | 'cleaned' | 'upemail' | 'campaign', boolean>;
  sources: Record<ChangeSource, boolean>;
}

export interface AudienceContact {
  company: string;
  address1: string;
  address2?: string;
  city: string;
  state: string;
  zip: string;
  country: string;
}

export interface SandboxAudience {
  id: string;
  web_id: number;
  name: string;
  contact: AudienceContact | null;
  double_optin: boolean;
  permissionTexts: Array<{ id: string; text: string }>;
  members: Map<string, SandboxMember>;
  /** Hashes of permanently deleted addresses: Mailchimp refuses to re-import them. */
  forgotten: Set<string>;
  mergeFields: Map<string, SandboxMergeField>;
  segments: Map<number, SandboxSegment>;
  webhooks: SandboxWebhook[];
  /** Addresses Mailchimp sent its own opt-in confirmation email to (pending). */
  confirmationEmails: string[];
}

export interface SandboxCampaign {
  id: string;
  web_id: number;
  type: string;
  status: 'save' | 'sending' | 'sent';
  create_time: string;
  send_time: string | null;
  list_id: string;
  segment_id: number | null;
  settings: { subject_line?: string; from_name?: string; reply_to?: string; title?: string; preview_text?: string };
  html: string | null;
  /** Subscriber hashes the campaign went to. */
  sentTo: string[];
  opens: string[];
  clicks: string[];
  unsubscribes: string[];
}

export interface SandboxJourneyStep {
  journeyId: number;
  stepId: number;
  listId: string;
  /** The step's email, as designed in Mailchimp's journey builder. */
  html: string;
}

export interface SandboxAudienceSeed {
  id: string;
  name?: string;
  /** The postal address every campaign footer needs; null to model an incomplete audience. */
  contact?: AudienceContact | null;
  doubleOptIn?: boolean;
  /** GDPR fields: marketing permissions this audience offers. */
  marketingPermissions?: Array<{ id: string; text: string }>;
}

export interface MailchimpSandboxOptions {
  dc?: string;
  apiKey?: string;
  /** Also accept this OAuth bearer token. */
  accessToken?: string;
  audiences?: SandboxAudienceSeed[];
  journeys?: SandboxJourneyStep[];
  /** Mailchimp allows 10 simultaneous connections; the 11th gets 429. */
  maxConnections?: number;
  /** Milliseconds each request takes, so concurrency is observable. */
  latencyMs?: number;
  /** Check request bodies against the OpenAPI spec (default true). */
  validateRequests?: boolean;
  specPath?: string;
  /** Delivers webhooks; default `globalThis.fetch`. */
  deliver?: (
    url: string,
    init: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string },
  ) => Promise<{ status: number }>;
  now?: () => Date;
  /** Seeded faults drawn on every request, batch member and webhook delivery (see `createMailchimpFaultPlan`); none by default. */
  faultPlan?: MailchimpFaultPlan | null;
}

interface Fault {
  kind: FaultKind;
  remaining: number;
  match?: ((method: string, template: string) => boolean) | undefined;
}

export interface WebhookDelivery {
  url: string;
  type: string;
  source: ChangeSource | 'system';
  body: string;
  status: number | null;
  error?: string;
  /** The injected fault this delivery carries, when a fault plan drew one. */
  fault?: 'webhook_duplicate' | 'webhook_reorder';
}

export const DEFAULT_CONTACT: AudienceContact = {
  company: 'Tactful Demo Store',
  address1: '1 Sandbox Street',
  city: 'Atlanta',
  state: 'GA',
  zip: '30308',
  country: 'US',
};

const MAX_BATCH = 500;

/** Mailchimp's timestamp format: ISO 8601 at second precision with an explicit offset. */
export function mailchimpTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

function webhookTime(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const emailPattern = /^[^\s@"<>()[\],;:]+@[^\s@"<>()[\],;:]+\.[^\s@"<>()[\],;:]{2,}$/;

class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

type Handler = (ctx: { params: string[]; query: URLSearchParams; body: unknown; method: string }) => unknown;

export type MailchimpSandbox = ReturnType<typeof createMailchimpSandbox>;

export function createMailchimpSandbox(options: MailchimpSandboxOptions = {}) {
  const dc = options.dc ?? 'us21';
  const apiKey = options.apiKey ?? `${'0'.repeat(31)}1-${dc}`;
  const baseUrl = `https://${dc}.api.mailchimp.com/3.0`;
  const now = options.now ?? (() => new Date());
  const maxConnections = options.maxConnections ?? 10;
  const deliver =
    options.deliver ??
    (async (url, init) => {
      const response = await fetch(url, init);
      return { status: response.status };
    });
  const spec = options.validateRequests === false ? null : loadSpecValidator(options.specPath);

  let nextWebId = 1000;
  let nextSegmentId = 1;
  let nextMergeId = 1;

  const audiences = new Map<string, SandboxAudience>();
  const campaigns = new Map<string, SandboxCampaign>();
  const journeyTriggers: Array<{ journeyId: number; stepId: number; email: string }> = [];
  const calls = new Map<string, number>();
  const faults: Fault[] = [];
  const faultsAnswered: Array<{ kind: string; method: string; template: string }> = [];
  const batchErrors = new Map<string, string>();
  const deliveries: WebhookDelivery[] = [];
  const refusals: Array<{ email: string; status: MemberStatus; title: string }> = [];
  const pendingDeliveries = new Set<Promise<void>>();
  let plan: MailchimpFaultPlan | null = options.faultPlan ?? null;
  /** Deliveries a reorder fault holds back until the next delivery has gone out. */
  const heldDeliveries: Array<() => void> = [];
  let inFlight = 0;
  let peakInFlight = 0;
  let rejectedForConcurrency = 0;

  function addAudience(seed: SandboxAudienceSeed): SandboxAudience {
    const audience: SandboxAudience = {
      id: seed.id,
      web_id: nextWebId++,
      name: seed.name ?? 'Sandbox audience',
      contact: seed.contact === undefined ? DEFAULT_CONTACT : seed.contact,
      double_optin: seed.doubleOptIn ?? false,
      permissionTexts: seed.marketingPermissions ?? [],
      members: new Map(),
      forgotten: new Set(),
      mergeFields: new Map(),
      segments: new Map(),
      webhooks: [],
      confirmationEmails: [],
    };
    for (const [tag, name] of [
      ['FNAME', 'First Name'],
      ['LNAME', 'Last Name'],
    ] as const) {
      audience.mergeFields.set(tag, {
        merge_id: nextMergeId++,
        tag,
        name,
        type: 'text',
        required: false,
        public: true,
        default_value: '',
      });
    }
    audiences.set(seed.id, audience);
    return audience;
  }
  for (const seed of options.audiences ?? [{ id: 'aud0000001' }]) addAudience(seed);

  function audienceOf(listId: string | undefined): SandboxAudience {
    const id = listId ?? audiences.keys().next().value;
    const audience = id === undefined ? undefined : audiences.get(id);
    if (!audience) throw new ApiProblem(404, 'Resource Not Found', 'The requested resource could not be found.');
    return audience;
  }

  // ---------- members and status rules ----------

  function newMember(audience: SandboxAudience, email: string, status: MemberStatus, at: Date): SandboxMember {
    const id = subscriberHash(email);
    const member: SandboxMember = {
      id,
      email_address: email,
      unique_email_id: randomBytes(5).toString('hex'),
      web_id: nextWebId++,
      status,
      merge_fields: Object.fromEntries([...audience.mergeFields.keys()].map((tag) => [tag, ''])),
      marketing_permissions: audience.permissionTexts.map((p) => ({
        marketing_permission_id: p.id,
        text: p.text,
        enabled: false,
      })),
      timestamp_signup: '',
      timestamp_opt: status === 'subscribed' ? mailchimpTime(at) : '',
      ip_opt: '',
      last_changed: mailchimpTime(at),
      unsubscribe_reason: '',
    };
    audience.members.set(id, member);
    return member;
  }

  /** Mailchimp's refusal for a status change, or null when it is allowed (refusals are recorded for oracles). */
  function refusal(
    audience: SandboxAudience,
    current: SandboxMember | undefined,
    email: string,
    requested: MemberStatus,
    source: ChangeSource,
  ) {
    const found = refusalRule(audience, current, email, requested, source);
    if (found) refusals.push({ email: normaliseEmail(email), status: requested, title: found.title });
    return found;
  }

  function refusalRule(
    audience: SandboxAudience,
    current: SandboxMember | undefined,
    email: string,
    requested: MemberStatus,
    source: ChangeSource,
  ) {
    if (!current && audience.forgotten.has(subscriberHash(email)) && source === 'api') {
      return {
        title: 'Forgotten Email Not Subscribed',
        detail: `${email} was permanently deleted and cannot be re-imported. The contact must re-subscribe to get back on the list.`,
      };
    }
    if (
      current &&
      requested === 'subscribed' &&
      (current.status === 'unsubscribed' || current.status === 'cleaned') &&
      source === 'api'
    ) {
      return {
        title: 'Member In Compliance State',
        detail: `${email} is already a list member in compliance state due to unsubscribe, bounce, or compliance review and cannot be subscribed.`,
      };
    }
    if (requested === 'archived')
      return { title: 'Invalid Resource', detail: 'The status "archived" cannot be set through this endpoint.' };
    return null;
  }

  function setStatus(
    audience: SandboxAudience,
    member: SandboxMember,
    status: MemberStatus,
    source: ChangeSource,
    at: Date,
    extra: { reason?: string; campaignId?: string } = {},
  ) {
    if (member.status === status) return;
    const previous = member.status;
    member.status = status;
    member.last_changed = mailchimpTime(at);
    if (status === 'subscribed') member.timestamp_opt = mailchimpTime(at);
    if (status === 'pending') audience.confirmationEmails.push(member.email_address);
    if (status === 'unsubscribed')
      member.unsubscribe_reason = extra.reason ?? (source === 'api' ? 'N/A (Unsubscribed by an API call)' : 'manual');
    if (status === 'subscribed' && previous !== 'subscribed')
      fire(audience, 'subscribe', source, memberData(audience, member), at);
    if (status === 'unsubscribed') {
      fire(
        audience,
        'unsubscribe',
        source,
        {
          ...memberData(audience, member),
          action: 'unsub',
          reason: extra.reason ?? 'manual',
          ...(extra.campaignId ? { campaign_id: extra.campaignId } : {}),
        },
        at,
      );
    }
    if (status === 'cleaned') {
      fire(
        audience,
        'cleaned',
        'system',
        {
          list_id: audience.id,
          campaign_id: extra.campaignId ?? '',
          reason: extra.reason ?? 'hard',
          email: member.email_address,
        },
        at,
      );
    }
  }

  function applyMergeFields(
    audience: SandboxAudience,
    member: SandboxMember,
    values: Record<string, unknown> | undefined,
  ): boolean {
    let changed = false;
    for (const [tag, value] of Object.entries(values ?? {})) {
      // Mailchimp keeps values only for merge fields the audience defines.
      if (!audience.mergeFields.has(tag)) continue;
      const text = value === null || value === undefined ? '' : String(value);
      if (member.merge_fields[tag] !== text) {
        member.merge_fields[tag] = text;
        changed = true;
      }
    }
    return changed;
  }

  function tagNamesOf(audience: SandboxAudience, member: SandboxMember) {
    return [...audience.segments.values()]
      .filter((s) => s.members.has(member.id))
      .map((s) => ({ id: s.id, name: s.name }));
  }

  function tagMember(audience: SandboxAudience, member: SandboxMember, name: string, active: boolean, at: Date) {
    let segment = [...audience.segments.values()].find((s) => s.name === name);
    if (!segment && !active) return;
    if (!segment) {
      segment = {
        id: nextSegmentId++,
        name,
        type: 'static',
        members: new Set(),
        created_at: mailchimpTime(at),
        updated_at: mailchimpTime(at),
      };
      audience.segments.set(segment.id, segment);
    }
    if (active) segment.members.add(member.id);
    else segment.members.delete(member.id);
    segment.updated_at = mailchimpTime(at);
  }

  function memberJson(audience: SandboxAudience, member: SandboxMember) {
    const tags = tagNamesOf(audience, member);
    return {
      id: member.id,
      email_address: member.email_address,
      unique_email_id: member.unique_email_id,
      contact_id: member.unique_email_id,
      full_name: [member.merge_fields.FNAME, member.merge_fields.LNAME].filter(Boolean).join(' '),
      web_id: member.web_id,
      email_type: 'html',
      status: member.status,
      unsubscribe_reason: member.status === 'unsubscribed' ? member.unsubscribe_reason : undefined,
      merge_fields: { ...member.merge_fields },
      stats: { avg_open_rate: 0, avg_click_rate: 0 },
      ip_signup: '',
      timestamp_signup: member.timestamp_signup,
      ip_opt: member.ip_opt,
      timestamp_opt: member.timestamp_opt,
      member_rating: 2,
      last_changed: member.last_changed,
      language: '',
      vip: false,
      email_client: '',
      location: { latitude: 0, longitude: 0, gmtoff: 0, dstoff: 0, country_code: '', timezone: '' },
      marketing_permissions: member.marketing_permissions.map((p) => ({ ...p })),
      source: 'API - Generic',
      tags_count: tags.length,
      tags,
      list_id: audience.id,
      _links: [],
    };
  }

  function memberData(audience: SandboxAudience, member: SandboxMember): Record<string, unknown> {
    return {
      id: member.unique_email_id,
      email: member.email_address,
      email_type: 'html',
      ip_opt: member.ip_opt,
      web_id: String(member.web_id),
      merges: {
        EMAIL: member.email_address,
        ...Object.fromEntries(Object.entries(member.merge_fields).filter(([, v]) => v !== '')),
      },
      list_id: audience.id,
    };
  }

  // ---------- webhooks ----------

  function formEncode(value: unknown, prefix: string, out: string[]) {
    if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) formEncode(v, `${prefix}[${k}]`, out);
    } else if (value !== undefined) {
      out.push(`${encodeURIComponent(prefix)}=${encodeURIComponent(String(value)).replace(/%20/g, '+')}`);
    }
  }

  function fire(
    audience: SandboxAudience,
    type: SandboxWebhook['events'] extends Record<infer K, boolean> ? K : never,
    source: ChangeSource | 'system',
    data: Record<string, unknown>,
    at: Date,
  ) {
    for (const hook of audience.webhooks) {
      if (!hook.events[type]) continue;
      if (source !== 'system' && !hook.sources[source]) continue;
      const parts = [`type=${type}`, `fired_at=${encodeURIComponent(webhookTime(at)).replace(/%20/g, '+')}`];
      formEncode(data, 'data', parts);
      const body = parts.join('&');
      const fault = plan?.draw(mailchimpWebhookFaultKinds) ?? null;
      const send = (faulted?: 'webhook_duplicate' | 'webhook_reorder') => {
        const record: WebhookDelivery = {
          url: hook.url,
          type,
          source,
          body,
          status: null,
          ...(faulted ? { fault: faulted } : {}),
        };
        deliveries.push(record);
        const promise = deliver(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'MailChimp' },
          body,
        })
          .then((r) => {
            record.status = r.status;
          })
          .catch((error: unknown) => {
            record.error = error instanceof Error ? error.message : String(error);
          })
          .finally(() => pendingDeliveries.delete(promise));
        pendingDeliveries.add(promise);
        return promise;
      };
      if (fault === 'webhook_reorder') {
        // Held back: it goes out after the next delivery, so the receiver sees the two in swapped order.
        heldDeliveries.push(() => void send(fault));
        continue;
      }
      const first = send();
      if (fault === 'webhook_duplicate') void first.then(() => send(fault));
      while (heldDeliveries.length > 0) heldDeliveries.shift()!();
    }
  }

  // ---------- routes ----------

  const routes: Array<{ method: string; template: string; pattern: RegExp; handler: Handler }> = [];
  function route(method: string, template: string, handler: Handler) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
    routes.push({ method, template, pattern, handler });
  }

  function memberOr404(audience: SandboxAudience, hash: string): SandboxMember {
    const member = audience.members.get(hash.toLowerCase());
    if (!member) throw new ApiProblem(404, 'Resource Not Found', 'The requested resource could not be found.');
    return member;
  }

  route('GET', '/ping', () => ({ health_status: "Everything's Chimpy!" }));

  route('GET', '/', () => ({
    account_id: 'sandbox0001',
    login_id: 'sandbox0001',
    account_name: 'Tactful Sandbox',
    email: 'owner@sandbox.example',
    first_name: 'Sandbox',
    last_name: 'Owner',
    username: 'sandbox',
    avatar_url: '',
    role: 'owner',
    member_since: '2020-01-01T00:00:00+00:00',
    pricing_plan_type: 'monthly',
    account_timezone: 'UTC',
    account_industry: 'eCommerce',
    contact: {
      company: DEFAULT_CONTACT.company,
      addr1: DEFAULT_CONTACT.address1,
      city: DEFAULT_CONTACT.city,
      state: DEFAULT_CONTACT.state,
      zip: DEFAULT_CONTACT.zip,
      country: DEFAULT_CONTACT.country,
    },
    total_subscribers: [...audiences.values()].reduce(
      (n, a) => n + [...a.members.values()].filter((m) => m.status === 'subscribed').length,
      0,
    ),
    _links: [],
  }));

  route('GET', '/lists', ({ query }) => {
    const count = Math.min(Number(query.get('count') ?? 10), 1000);
    const offset = Number(query.get('offset') ?? 0);
    const all = [...audiences.values()];
    return {
      lists: all.slice(offset, offset + count).map((a) => listJson(a)),
      total_items: all.length,
      constraints: { may_create: true, max_instances: 100, current_total_instances: all.length },
      _links: [],
    };
  });

  route('POST', '/lists/{list_id}/members', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const input = body as Record<string, unknown>;
    const email = String(input.email_address ?? '').trim();
    if (audience.members.has(subscriberHash(email))) {
      throw new ApiProblem(
        400,
        'Member Exists',
        `${email} is already a list member. Use PUT to insert or update list members.`,
      );
    }
    if (input.status === undefined)
      throw new ApiProblem(
        400,
        'Invalid Resource',
        'The resource submitted could not be validated: status is required.',
      );
    return updateMember(audience.id, subscriberHash(email), { ...input, status_if_new: input.status }, true);
  });

  route('DELETE', '/lists/{list_id}/members/{subscriber_hash}', ({ params }) => {
    const audience = audienceOf(params[0]);
    const member = memberOr404(audience, params[1] ?? '');
    member.status = 'archived';
    member.last_changed = mailchimpTime(now());
    return null;
  });

  route('DELETE', '/lists/{list_id}/webhooks/{webhook_id}', ({ params }) => {
    const audience = audienceOf(params[0]);
    const index = audience.webhooks.findIndex((w) => w.id === params[1]);
    if (index < 0) throw new ApiProblem(404, 'Resource Not Found', 'The requested resource could not be found.');
    audience.webhooks.splice(index, 1);
    return null;
  });

  function listJson(a: SandboxAudience) {
    return {
      id: a.id,
      web_id: a.web_id,
      name: a.name,
      contact: a.contact ?? { company: '', address1: '', address2: '', city: '', state: '', zip: '', country: '' },
      permission_reminder: 'You signed up on our store.',
      campaign_defaults: { from_name: '', from_email: '', subject: '', language: 'en' },
      double_optin: a.double_optin,
      marketing_permissions: a.permissionTexts.length > 0,
      stats: { member_count: [...a.members.values()].filter((m) => m.status === 'subscribed').length },
      _links: [],
    };
  }

  route('GET', '/lists/{list_id}', ({ params }) => listJson(audienceOf(params[0])));

  route('POST', '/lists/{list_id}', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const request = body as { members: Array<Record<string, unknown>>; update_existing?: boolean; sync_tags?: boolean };
    if (request.members.length > MAX_BATCH) {
      throw new ApiProblem(400, 'Invalid Resource', `You can only add up to ${MAX_BATCH} members in a single request.`);
    }
    const at = now();
    const result = { new_members: [] as unknown[], updated_members: [] as unknown[], errors: [] as unknown[] };
    for (const item of request.members) {
      const email = normaliseEmail(String(item.email_address ?? ''));
      const status = item.status as MemberStatus | undefined;
      const injected =
        batchErrors.get(email) ??
        (plan?.draw(['batch_member_error'])
          ? 'An unexpected internal error has occurred. Please try again later.'
          : undefined);
      if (injected !== undefined) {
        result.errors.push({ email_address: email, error: injected, error_code: 'ERROR_GENERIC' });
        continue;
      }
      if (!emailPattern.test(email)) {
        result.errors.push({
          email_address: email,
          error: `${email} looks fake or invalid, please enter a real email address.`,
          error_code: 'ERROR_GENERIC',
          field: 'email_address',
        });
        continue;
      }
      const existing = audience.members.get(subscriberHash(email));
      if (existing && request.update_existing !== true) {
        result.errors.push({
          email_address: email,
          error: `${email} is already a list member, do you want to update? please provide update_existing:true in the request body`,
          error_code: 'ERROR_CONTACT_EXISTS',
        });
        continue;
      }
      if (!existing && status === undefined) {
        result.errors.push({
          email_address: email,
          error: 'Please provide a status for the new member.',
          error_code: 'ERROR_GENERIC',
          field: 'status',
        });
        continue;
      }
      const refused = status === undefined ? null : refusal(audience, existing, email, status, 'api');
      if (refused) {
        result.errors.push({ email_address: email, error: refused.detail, error_code: 'ERROR_GENERIC' });
        continue;
      }
      const member = existing ?? newMember(audience, String(item.email_address).trim(), status ?? 'subscribed', at);
      if (!existing) {
        audience.forgotten.delete(member.id);
        if (member.status === 'pending') audience.confirmationEmails.push(email);
      }
      const fieldsChanged = applyMergeFields(
        audience,
        member,
        item.merge_fields as Record<string, unknown> | undefined,
      );
      if (existing && status !== undefined) setStatus(audience, member, status, 'api', at);
      if (fieldsChanged) member.last_changed = mailchimpTime(at);
      if (Array.isArray(item.tags)) {
        const wanted = new Set((item.tags as unknown[]).map(String));
        if (request.sync_tags === true)
          for (const tag of tagNamesOf(audience, member))
            if (!wanted.has(tag.name)) tagMember(audience, member, tag.name, false, at);
        for (const name of wanted) tagMember(audience, member, name, true, at);
      }
      if (!existing && member.status === 'subscribed')
        fire(audience, 'subscribe', 'api', memberData(audience, member), at);
      else if (fieldsChanged) fire(audience, 'profile', 'api', memberData(audience, member), at);
      (existing ? result.updated_members : result.new_members).push(memberJson(audience, member));
    }
    return {
      ...result,
      total_created: result.new_members.length,
      total_updated: result.updated_members.length,
      error_count: result.errors.length,
      _links: [],
    };
  });

  route('GET', '/lists/{list_id}/members', ({ params, query }) => {
    const audience = audienceOf(params[0]);
    const count = Math.min(Number(query.get('count') ?? 10), 1000);
    const offset = Number(query.get('offset') ?? 0);
    if (!Number.isInteger(count) || count < 0 || !Number.isInteger(offset) || offset < 0) {
      throw new ApiProblem(400, 'Invalid Resource', 'count and offset must be non-negative integers.');
    }
    const status = query.get('status');
    const since = query.get('since_last_changed');
    const sinceMs = since === null ? null : Date.parse(since);
    if (sinceMs !== null && Number.isNaN(sinceMs))
      throw new ApiProblem(400, 'Invalid Resource', 'since_last_changed is not a valid date.');
    const all = [...audience.members.values()].filter(
      (m) => (status === null || m.status === status) && (sinceMs === null || Date.parse(m.last_changed) > sinceMs),
    );
    return {
      members: all.slice(offset, offset + count).map((m) => memberJson(audience, m)),
      list_id: audience.id,
      total_items: all.length,
      _links: [],
    };
  });

  route('GET', '/lists/{list_id}/members/{subscriber_hash}', ({ params }) => {
    const audience = audienceOf(params[0]);
    return memberJson(audience, memberOr404(audience, params[1] ?? ''));
  });

  function updateMember(listId: string, hash: string, body: Record<string, unknown>, upsert: boolean) {
    const audience = audienceOf(listId);
    const at = now();
    const email = normaliseEmail(String(body.email_address ?? ''));
    let member = audience.members.get(hash.toLowerCase());
    if (!member && !upsert)
      throw new ApiProblem(404, 'Resource Not Found', 'The requested resource could not be found.');
    if (body.email_address !== undefined && subscriberHash(email) !== hash.toLowerCase() && !member) {
      throw new ApiProblem(400, 'Invalid Resource', 'The subscriber hash does not match the email address.');
    }
    const requested = (member ? body.status : (body.status ?? body.status_if_new)) as MemberStatus | undefined;
    const refused =
      requested === undefined ? null : refusal(audience, member, member?.email_address ?? email, requested, 'api');
    if (refused) throw new ApiProblem(400, refused.title, refused.detail);
    if (!member) {
      if (!emailPattern.test(email))
        throw new ApiProblem(
          400,
          'Invalid Resource',
          `${email} looks fake or invalid, please enter a real email address.`,
        );
      member = newMember(audience, String(body.email_address).trim(), requested ?? 'subscribed', at);
      audience.forgotten.delete(member.id);
    } else if (requested !== undefined) setStatus(audience, member, requested, 'api', at);
    let changed = applyMergeFields(audience, member, body.merge_fields as Record<string, unknown> | undefined);
    for (const permission of (body.marketing_permissions as
      | Array<{ marketing_permission_id?: string; enabled?: boolean }>
      | undefined) ?? []) {
      const held = member.marketing_permissions.find(
        (p) => p.marketing_permission_id === permission.marketing_permission_id,
      );
      if (!held)
        throw new ApiProblem(
          400,
          'Invalid Resource',
          `Marketing permission ${permission.marketing_permission_id ?? '(none)'} does not exist on this audience.`,
        );
      if (permission.enabled !== undefined && held.enabled !== permission.enabled) {
        held.enabled = permission.enabled;
        changed = true;
      }
    }
    if (changed) {
      member.last_changed = mailchimpTime(at);
      fire(audience, 'profile', 'api', memberData(audience, member), at);
    }
    return memberJson(audience, member);
  }

  route('PUT', '/lists/{list_id}/members/{subscriber_hash}', ({ params, body }) =>
    updateMember(params[0] ?? '', params[1] ?? '', body as Record<string, unknown>, true),
  );
  route('PATCH', '/lists/{list_id}/members/{subscriber_hash}', ({ params, body }) =>
    updateMember(params[0] ?? '', params[1] ?? '', body as Record<string, unknown>, false),
  );

  route('POST', '/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent', ({ params }) => {
    const audience = audienceOf(params[0]);
    const member = memberOr404(audience, params[1] ?? '');
    eraseMember(audience, member, 'api');
    return null;
  });

  function eraseMember(audience: SandboxAudience, member: SandboxMember, source: ChangeSource) {
    const at = now();
    fire(audience, 'unsubscribe', source, { ...memberData(audience, member), action: 'delete', reason: 'manual' }, at);
    audience.members.delete(member.id);
    for (const segment of audience.segments.values()) segment.members.delete(member.id);
    audience.forgotten.add(member.id);
  }

  route('POST', '/lists/{list_id}/members/{subscriber_hash}/tags', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const member = memberOr404(audience, params[1] ?? '');
    for (const tag of (body as { tags: Array<{ name: string; status: string }> }).tags)
      tagMember(audience, member, tag.name, tag.status === 'active', now());
    return null;
  });

  route('GET', '/lists/{list_id}/merge-fields', ({ params }) => {
    const audience = audienceOf(params[0]);
    const fields = [...audience.mergeFields.values()].map((f) => ({
      ...f,
      list_id: audience.id,
      display_order: f.merge_id,
      options: {},
      help_text: '',
      _links: [],
    }));
    return { merge_fields: fields, list_id: audience.id, total_items: fields.length, _links: [] };
  });

  route('POST', '/lists/{list_id}/merge-fields', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const input = body as {
      tag?: string;
      name: string;
      type: string;
      required?: boolean;
      public?: boolean;
      default_value?: string;
    };
    const tag = (input.tag ?? `MMERGE${audience.mergeFields.size + 1}`).toUpperCase();
    if (!/^[A-Z][A-Z0-9_]{0,9}$/.test(tag))
      throw new ApiProblem(
        400,
        'Invalid Resource',
        `The merge tag "${tag}" is invalid: at most 10 letters, digits or underscores.`,
      );
    if (audience.mergeFields.has(tag))
      throw new ApiProblem(
        400,
        'Invalid Resource',
        `A Merge Field with the tag "${tag}" already exists for this list.`,
      );
    const field: SandboxMergeField = {
      merge_id: nextMergeId++,
      tag,
      name: input.name,
      type: input.type,
      required: input.required ?? false,
      public: input.public ?? false,
      default_value: input.default_value ?? '',
    };
    audience.mergeFields.set(tag, field);
    for (const member of audience.members.values()) member.merge_fields[tag] ??= '';
    return { ...field, list_id: audience.id, display_order: field.merge_id, options: {}, help_text: '', _links: [] };
  });

  function segmentJson(audience: SandboxAudience, s: SandboxSegment) {
    return {
      id: s.id,
      name: s.name,
      member_count: s.members.size,
      type: s.type,
      created_at: s.created_at,
      updated_at: s.updated_at,
      options: {},
      list_id: audience.id,
      _links: [],
    };
  }

  route('GET', '/lists/{list_id}/segments', ({ params, query }) => {
    const audience = audienceOf(params[0]);
    const type = query.get('type');
    const count = Math.min(Number(query.get('count') ?? 10), 1000);
    const offset = Number(query.get('offset') ?? 0);
    const all = [...audience.segments.values()].filter((s) => type === null || s.type === type);
    return {
      segments: all.slice(offset, offset + count).map((s) => segmentJson(audience, s)),
      list_id: audience.id,
      total_items: all.length,
      _links: [],
    };
  });

  route('POST', '/lists/{list_id}/segments', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const input = body as { name: string; static_segment?: string[] };
    if (input.static_segment === undefined)
      throw new ApiProblem(400, 'Invalid Resource', 'The sandbox only supports static segments (static_segment).');
    if ([...audience.segments.values()].some((s) => s.name === input.name))
      throw new ApiProblem(400, 'Invalid Resource', `A segment named "${input.name}" already exists.`);
    const at = mailchimpTime(now());
    const segment: SandboxSegment = {
      id: nextSegmentId++,
      name: input.name,
      type: 'static',
      members: new Set(),
      created_at: at,
      updated_at: at,
    };
    for (const email of input.static_segment) {
      const hash = subscriberHash(email);
      if (audience.members.has(hash)) segment.members.add(hash);
    }
    audience.segments.set(segment.id, segment);
    return segmentJson(audience, segment);
  });

  route('POST', '/lists/{list_id}/segments/{segment_id}', ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const segment = audience.segments.get(Number(params[1]));
    if (!segment) throw new ApiProblem(404, 'Resource Not Found', 'The requested segment could not be found.');
    const input = body as { members_to_add?: string[]; members_to_remove?: string[] };
    if ((input.members_to_add?.length ?? 0) > MAX_BATCH || (input.members_to_remove?.length ?? 0) > MAX_BATCH) {
      throw new ApiProblem(400, 'Invalid Resource', `You can add or remove at most ${MAX_BATCH} members at a time.`);
    }
    const added: unknown[] = [];
    const removed: unknown[] = [];
    const missing: string[] = [];
    for (const email of input.members_to_add ?? []) {
      const member = audience.members.get(subscriberHash(email));
      if (!member) missing.push(email);
      else if (!segment.members.has(member.id)) {
        segment.members.add(member.id);
        added.push(memberJson(audience, member));
      }
    }
    for (const email of input.members_to_remove ?? []) {
      const member = audience.members.get(subscriberHash(email));
      if (member && segment.members.delete(member.id)) removed.push(memberJson(audience, member));
    }
    segment.updated_at = mailchimpTime(now());
    const errors =
      missing.length > 0 ? [{ email_addresses: missing, error: 'Email addresses do not belong to this list' }] : [];
    return {
      members_added: added,
      members_removed: removed,
      errors,
      total_added: added.length,
      total_removed: removed.length,
      error_count: missing.length,
      _links: [],
    };
  });

  route('GET', '/lists/{list_id}/webhooks', ({ params }) => {
    const audience = audienceOf(params[0]);
    return {
      webhooks: audience.webhooks.map((w) => ({ ...w, list_id: audience.id, _links: [] })),
      list_id: audience.id,
      total_items: audience.webhooks.length,
      _links: [],
    };
  });

  route('POST', '/lists/{list_id}/webhooks', async ({ params, body }) => {
    const audience = audienceOf(params[0]);
    const input = body as {
      url?: string;
      events?: Partial<SandboxWebhook['events']>;
      sources?: Partial<SandboxWebhook['sources']>;
    };
    if (!input.url || !/^https?:\/\//.test(input.url))
      throw new ApiProblem(400, 'Invalid Resource', 'The webhook url must be an absolute http(s) URL.');
    // Mailchimp checks the URL with a GET before it saves the webhook.
    const check = await deliver(input.url, { method: 'GET' }).catch(() => ({ status: 0 }));
    if (check.status !== 200) {
      throw new ApiProblem(
        400,
        'Invalid Resource',
        `The resource submitted could not be validated: we couldn't verify the URL ${input.url} (GET answered ${check.status}).`,
      );
    }
    const hook: SandboxWebhook = {
      id: randomBytes(5).toString('hex'),
      url: input.url,
      events: {
        subscribe: false,
        unsubscribe: false,
        profile: false,
        cleaned: false,
        upemail: false,
        campaign: false,
        ...input.events,
      },
      sources: { user: false, admin: false, api: false, ...input.sources },
    };
    audience.webhooks.push(hook);
    return { ...hook, list_id: audience.id, _links: [] };
  });

  function campaignJson(c: SandboxCampaign) {
    return {
      id: c.id,
      web_id: c.web_id,
      type: c.type,
      create_time: c.create_time,
      status: c.status,
      emails_sent: c.sentTo.length,
      send_time: c.send_time ?? '',
      content_type: 'html',
      recipients: {
        list_id: c.list_id,
        segment_opts: c.segment_id === null ? {} : { saved_segment_id: c.segment_id },
        recipient_count: recipientsOf(c).length,
      },
      settings: { ...c.settings },
      _links: [],
    };
  }

  function recipientsOf(c: SandboxCampaign): SandboxMember[] {
    const audience = audienceOf(c.list_id);
    if (c.status === 'sent')
      return c.sentTo.map((h) => audience.members.get(h)).filter((m): m is SandboxMember => m !== undefined);
    const segment = c.segment_id === null ? null : audience.segments.get(c.segment_id);
    return [...audience.members.values()].filter(
      (m) => m.status === 'subscribed' && (segment === null || segment?.members.has(m.id)),
    );
  }

  route('POST', '/campaigns', ({ body }) => {
    const input = body as {
      type: string;
      recipients?: { list_id: string; segment_opts?: { saved_segment_id?: number } };
      settings?: SandboxCampaign['settings'];
    };
    if (!input.recipients) throw new ApiProblem(400, 'Invalid Resource', 'A campaign needs recipients.list_id.');
    const audience = audienceOf(input.recipients.list_id);
    const segmentId = input.recipients.segment_opts?.saved_segment_id ?? null;
    if (segmentId !== null && !audience.segments.has(segmentId))
      throw new ApiProblem(400, 'Invalid Resource', `Segment ${segmentId} does not exist on list ${audience.id}.`);
    const campaign: SandboxCampaign = {
      id: randomBytes(5).toString('hex'),
      web_id: nextWebId++,
      type: input.type,
      status: 'save',
      create_time: mailchimpTime(now()),
      send_time: null,
      list_id: audience.id,
      segment_id: segmentId,
      settings: { ...input.settings },
      html: null,
      sentTo: [],
      opens: [],
      clicks: [],
      unsubscribes: [],
    };
    campaigns.set(campaign.id, campaign);
    return campaignJson(campaign);
  });

  function campaignOr404(id: string): SandboxCampaign {
    const c = campaigns.get(id);
    if (!c) throw new ApiProblem(404, 'Resource Not Found', 'The requested resource could not be found.');
    return c;
  }

  route('GET', '/campaigns', ({ query }) => {
    const listId = query.get('list_id');
    const count = Math.min(Number(query.get('count') ?? 10), 1000);
    const offset = Number(query.get('offset') ?? 0);
    const all = [...campaigns.values()].filter((c) => listId === null || c.list_id === listId);
    return { campaigns: all.slice(offset, offset + count).map(campaignJson), total_items: all.length, _links: [] };
  });
  route('GET', '/campaigns/{campaign_id}', ({ params }) => campaignJson(campaignOr404(params[0] ?? '')));

  route('PUT', '/campaigns/{campaign_id}/content', ({ params, body }) => {
    const c = campaignOr404(params[0] ?? '');
    if (c.status !== 'save')
      throw new ApiProblem(400, 'Bad Request', 'The content of a sent campaign cannot be changed.');
    const input = body as { html?: string };
    c.html = input.html ?? null;
    return { html: c.html ?? '', plain_text: '', _links: [] };
  });

  route('POST', '/campaigns/{campaign_id}/actions/send', ({ params }) => {
    const c = campaignOr404(params[0] ?? '');
    if (c.status !== 'save') throw new ApiProblem(400, 'Bad Request', 'This campaign has already been sent.');
    const audience = audienceOf(c.list_id);
    const problems: string[] = [];
    if (!c.html) problems.push('the campaign has no content');
    else if (!c.html.includes('*|UNSUB|*')) problems.push('the content has no *|UNSUB|* unsubscribe link');
    if (!audience.contact?.address1)
      problems.push('the audience has no postal address (*|LIST:ADDRESSLINE|*) — required by anti-spam law');
    for (const key of ['subject_line', 'from_name', 'reply_to'] as const)
      if (!c.settings[key]) problems.push(`settings.${key} is missing`);
    const recipients = recipientsOf(c);
    if (recipients.length === 0) problems.push('the segment has no subscribed members');
    if (problems.length > 0)
      throw new ApiProblem(400, 'Bad Request', `Your Campaign is not ready to send. ${problems.join('; ')}.`, {
        errors: problems,
      });
    c.status = 'sent';
    c.send_time = mailchimpTime(now());
    c.sentTo = recipients.map((m) => m.id);
    fire(
      audience,
      'campaign',
      'system',
      { id: c.id, subject: c.settings.subject_line ?? '', status: 'sent', reason: '', list_id: audience.id },
      now(),
    );
    return null;
  });

  route('GET', '/reports/{campaign_id}', ({ params }) => {
    const c = campaignOr404(params[0] ?? '');
    const unique = (xs: string[]) => new Set(xs).size;
    const sent = c.sentTo.length;
    return {
      id: c.id,
      campaign_title: c.settings.title ?? '',
      type: c.type,
      list_id: c.list_id,
      subject_line: c.settings.subject_line ?? '',
      emails_sent: sent,
      abuse_reports: 0,
      unsubscribed: unique(c.unsubscribes),
      send_time: c.send_time ?? '',
      bounces: { hard_bounces: 0, soft_bounces: 0, syntax_errors: 0 },
      opens: {
        opens_total: c.opens.length,
        unique_opens: unique(c.opens),
        open_rate: sent === 0 ? 0 : unique(c.opens) / sent,
        last_open: '',
      },
      clicks: {
        clicks_total: c.clicks.length,
        unique_clicks: unique(c.clicks),
        unique_subscriber_clicks: unique(c.clicks),
        click_rate: sent === 0 ? 0 : unique(c.clicks) / sent,
        last_click: '',
      },
      _links: [],
    };
  });

  route('POST', '/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger', ({ params, body }) => {
    const journeyId = Number(params[0]);
    const stepId = Number(params[1]);
    const step = (options.journeys ?? []).find((j) => j.journeyId === journeyId && j.stepId === stepId);
    if (!step)
      throw new ApiProblem(
        404,
        'Resource Not Found',
        `Journey ${journeyId} step ${stepId} does not exist or has no API trigger.`,
      );
    const email = normaliseEmail(String((body as { email_address: string }).email_address));
    const member = audienceOf(step.listId).members.get(subscriberHash(email));
    if (member?.status !== 'subscribed')
      throw new ApiProblem(400, 'Bad Request', `${email} is not a subscribed member of the journey's audience.`);
    journeyTriggers.push({ journeyId, stepId, email });
    return null;
  });

  // ---------- the msw handler ----------

  function problem(
    status: number,
    title: string,
    detail: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    return HttpResponse.json(
      {
        type: 'https://mailchimp.com/developer/marketing/docs/errors/',
        title,
        status,
        detail,
        instance: randomUUID(),
        ...extra,
      },
      { status, headers: { 'content-type': 'application/problem+json; charset=utf-8', ...headers } },
    );
  }

  function authorised(header: string | null): boolean {
    if (header === null) return false;
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      return decoded.slice(decoded.indexOf(':') + 1) === apiKey;
    }
    return options.accessToken !== undefined && header === `Bearer ${options.accessToken}`;
  }

  const handler: HttpHandler = http.all(`${baseUrl}/*`, async ({ request }) => {
    // Drawn faults come first: a dropped connection never reaches Mailchimp's counters.
    const drawn =
      plan?.draw(['rate_limit', 'rate_limit_no_retry_after', 'server_error', 'timeout', 'connection_reset']) ?? null;
    if (drawn && plan) {
      const current = plan;
      const method = request.method.toUpperCase();
      const template =
        routes.find(
          (r) =>
            r.method === method &&
            r.pattern.test(new URL(request.url).pathname.replace(/^\/3\.0/, '').replace(/\/$/, '') || '/'),
        )?.template ?? new URL(request.url).pathname;
      calls.set(`${method} ${template}`, (calls.get(`${method} ${template}`) ?? 0) + 1);
      faultsAnswered.push({ kind: drawn, method, template });
      if (drawn === 'rate_limit')
        return problem(
          429,
          'Too Many Requests',
          'You have exceeded the limit of 10 simultaneous connections.',
          {},
          { 'retry-after': String(current.retryAfterSeconds) },
        );
      if (drawn === 'rate_limit_no_retry_after')
        return problem(429, 'Too Many Requests', 'You have exceeded the limit of 10 simultaneous connections.');
      if (drawn === 'server_error') {
        return current.random() < 0.5
          ? problem(
              500,
              'Internal Server Error',
              'An unexpected internal error has occurred. Please contact Support for more information.',
            )
          : problem(503, 'Service Unavailable', 'Mailchimp is temporarily unavailable.');
      }
      if (drawn === 'timeout') await new Promise((resolve) => setTimeout(resolve, current.holdMs));
      return HttpResponse.error();
    }
    inFlight += 1;
    peakInFlight = Math.max(peakInFlight, inFlight);
    try {
      if (inFlight > maxConnections) {
        rejectedForConcurrency += 1;
        return problem(
          429,
          'Too Many Requests',
          `You have exceeded the limit of ${maxConnections} simultaneous connections.`,
          {},
          { 'retry-after': '1' },
        );
      }
      const url = new URL(request.url);
      const path = url.pathname.replace(/^\/3\.0/, '').replace(/\/$/, '') || '/';
      const method = request.method.toUpperCase();
      const found = routes.find((r) => r.method === method && r.pattern.test(path));
      const template = found?.template ?? path;
      calls.set(`${method} ${template}`, (calls.get(`${method} ${template}`) ?? 0) + 1);
      const text = method === 'GET' || method === 'DELETE' ? '' : await request.text();
      if (options.latencyMs) await new Promise((resolve) => setTimeout(resolve, options.latencyMs));
      else await new Promise((resolve) => setImmediate(resolve));
      if (!authorised(request.headers.get('authorization'))) {
        return problem(
          401,
          'API Key Invalid',
          "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
        );
      }
      const fault = faults.find((f) => f.remaining > 0 && (!f.match || f.match(method, template)));
      if (fault) {
        fault.remaining -= 1;
        if (fault.kind === 'rate_limit')
          return problem(
            429,
            'Too Many Requests',
            'You have exceeded the limit of 10 simultaneous connections.',
            {},
            { 'retry-after': '0' },
          );
        if (fault.kind === 'server_error')
          return problem(
            500,
            'Internal Server Error',
            'An unexpected internal error has occurred. Please contact Support for more information.',
          );
        if (fault.kind === 'unavailable')
          return problem(503, 'Service Unavailable', 'Mailchimp is temporarily unavailable.');
        return problem(400, 'Invalid Resource', 'The resource submitted could not be validated.');
      }
      if (!found) return problem(404, 'Resource Not Found', `The sandbox does not implement ${method} ${path}.`);
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          return problem(400, 'JSON Parse Error', 'We encountered an unspecified JSON parsing error.');
        }
      }
      if (spec) {
        const operation = spec.match(method, path);
        if (!operation)
          return problem(
            404,
            'Resource Not Found',
            `${method} ${path} is not part of the Marketing API specification.`,
          );
        if (operation.bodyRef !== null) {
          const problems = body === undefined ? ['(body) is required'] : spec.validateBody(operation, body);
          if (problems.length > 0) {
            return problem(
              400,
              'Invalid Resource',
              "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
              {
                errors: problems.map((message) => ({ field: message.split(' ')[0] ?? '', message })),
              },
            );
          }
        }
      }
      const params = (found.pattern.exec(path) ?? []).slice(1).map(decodeURIComponent);
      try {
        const result = await found.handler({ params, query: url.searchParams, body, method });
        return result === null ? new HttpResponse(null, { status: 204 }) : HttpResponse.json(result);
      } catch (error) {
        if (error instanceof ApiProblem) return problem(error.status, error.title, error.detail, error.extra);
        throw error;
      }
    } finally {
      inFlight -= 1;
    }
  });

  // ---------- what tests use ----------

  function memberByEmail(email: string, listId?: string): SandboxMember | undefined {
    return audienceOf(listId).members.get(subscriberHash(email));
  }

  function renderFor(audience: SandboxAudience, html: string, member: SandboxMember, campaignId: string) {
    const contact = audience.contact;
    const addressLine = contact
      ? [
          contact.company,
          contact.address1,
          contact.address2,
          contact.city,
          `${contact.state} ${contact.zip}`.trim(),
          contact.country,
        ]
          .filter((p) => p !== undefined && p !== '')
          .join(', ')
      : '';
    const listManage = `https://${dc}.list-manage.com`;
    const query = `u=sandbox&id=${audience.id}&e=${member.unique_email_id}&c=${campaignId}`;
    return renderMergeTags(html, {
      merge: { ...Object.fromEntries([...audience.mergeFields.keys()].map((t) => [t, ''])), ...member.merge_fields },
      system: {
        EMAIL: member.email_address,
        UNSUB: `${listManage}/unsubscribe?${query}`,
        UPDATE_PROFILE: `${listManage}/profile?${query}`,
        'LIST:ADDRESSLINE': addressLine,
        'LIST:COMPANY': contact?.company ?? '',
        'LIST:NAME': audience.name,
      },
    });
  }

  return {
    /** msw handlers: `setupServer(...sandbox.handlers)` or `server.use(...sandbox.handlers)`. */
    handlers: [handler],
    /**
     * A fetch that answers from this sandbox directly, without intercepting the process's network (used by
     * `serveMailchimpSandbox`). A request for anything else, or a dropped connection, fails like a network error.
     */
    async fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
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
    /** Readable state for oracles. Mutate it only through `seed*` and `actions`. */
    state: { audiences, campaigns, journeyTriggers, deliveries, refusals },
    member: memberByEmail,
    /** Puts a member straight into the audience: no webhook, no call counted. */
    seedMember(
      email: string,
      status: MemberStatus,
      seed: { listId?: string; at?: Date; mergeFields?: Record<string, string>; tags?: string[] } = {},
    ) {
      const audience = audienceOf(seed.listId);
      const at = seed.at ?? now();
      const normalised = normaliseEmail(email);
      const member = audience.members.get(subscriberHash(normalised)) ?? newMember(audience, email.trim(), status, at);
      member.status = status;
      member.last_changed = mailchimpTime(at);
      member.timestamp_opt = status === 'subscribed' ? mailchimpTime(at) : member.timestamp_opt;
      if (status === 'unsubscribed') member.unsubscribe_reason = 'manual';
      applyMergeFields(audience, member, seed.mergeFields);
      for (const tag of seed.tags ?? []) tagMember(audience, member, tag, true, at);
      return member;
    },
    /** The exact HTML `email` gets (or got) from a campaign, or null when they are not a recipient. */
    render(campaignId: string, email: string): string | null {
      const c = campaignOr404(campaignId);
      const audience = audienceOf(c.list_id);
      const member = audience.members.get(subscriberHash(email));
      if (!member || c.html === null || !recipientsOf(c).some((m) => m.id === member.id)) return null;
      return renderFor(audience, c.html, member, c.id);
    },
    /** The email a journey step sends `email`, when they were triggered into it. */
    renderJourney(journeyId: number, stepId: number, email: string): string | null {
      const step = (options.journeys ?? []).find((j) => j.journeyId === journeyId && j.stepId === stepId);
      const normalised = normaliseEmail(email);
      if (
        !step ||
        !journeyTriggers.some((t) => t.journeyId === journeyId && t.stepId === stepId && t.email === normalised)
      )
        return null;
      const audience = audienceOf(step.listId);
      const member = audience.members.get(subscriberHash(normalised));
      return member ? renderFor(audience, step.html, member, `journey-${journeyId}-${stepId}`) : null;
    },
    calls: {
      /** Calls to one endpoint, e.g. `count('POST', '/lists/{list_id}')`. */
      count: (method: string, template: string) => calls.get(`${method.toUpperCase()} ${template}`) ?? 0,
      /** Every call by `METHOD template`. */
      all: () => Object.fromEntries(calls),
      /** Calls that change something (anything but GET). */
      writes: () => [...calls].filter(([k]) => !k.startsWith('GET ')).reduce((n, [, v]) => n + v, 0),
      total: () => [...calls.values()].reduce((n, v) => n + v, 0),
      reset: () => calls.clear(),
      get peakInFlight() {
        return peakInFlight;
      },
      get rejectedForConcurrency() {
        return rejectedForConcurrency;
      },
    },
    faults: {
      /** The next `times` matching calls fail with `kind` (default: every endpoint, once). */
      failNext(kind: FaultKind, times = 1, match?: (method: string, template: string) => boolean) {
        faults.push({ kind, remaining: times, match });
      },
      /** Every matching call fails until `clear()`. */
      failAlways(kind: FaultKind, match?: (method: string, template: string) => boolean) {
        faults.push({ kind, remaining: Number.POSITIVE_INFINITY, match });
      },
      /** The batch endpoint reports this per-member error for `email` (a 200 with a partial error). */
      batchMemberError(email: string, message = 'Sandbox injected a per-member error.') {
        batchErrors.set(normaliseEmail(email), message);
      },
      clear() {
        faults.length = 0;
        batchErrors.clear();
      },
      /** Replaces the seeded fault plan (null: no drawn faults). Queued faults of `failNext` come after drawn ones. */
      setPlan(next: MailchimpFaultPlan | null) {
        plan = next;
      },
      get plan() {
        return plan;
      },
      /** Requests answered with a drawn fault, in order. */
      get answered(): ReadonlyArray<{ kind: string; method: string; template: string }> {
        return faultsAnswered;
      },
    },
    /** Changes made in Mailchimp itself, by the member (`user`) or the account owner (`admin`). Each fires webhooks. */
    actions: {
      unsubscribe(
        email: string,
        opts: { listId?: string; reason?: 'manual' | 'abuse'; campaignId?: string; source?: ChangeSource } = {},
      ) {
        const audience = audienceOf(opts.listId);
        const member = memberOr404(audience, subscriberHash(email));
        setStatus(audience, member, 'unsubscribed', opts.source ?? 'user', now(), {
          reason: opts.reason ?? 'manual',
          ...(opts.campaignId ? { campaignId: opts.campaignId } : {}),
        });
        if (opts.campaignId) campaigns.get(opts.campaignId)?.unsubscribes.push(member.id);
      },
      /** Signs up through Mailchimp's form: pending on a double opt-in audience, else subscribed. */
      subscribe(
        email: string,
        opts: { listId?: string; source?: ChangeSource; mergeFields?: Record<string, string>; ip?: string } = {},
      ) {
        const audience = audienceOf(opts.listId);
        const normalised = normaliseEmail(email);
        const at = now();
        const target: MemberStatus =
          audience.double_optin && (opts.source ?? 'user') === 'user' ? 'pending' : 'subscribed';
        let member = audience.members.get(subscriberHash(normalised));
        if (!member) {
          member = newMember(audience, normalised, target === 'pending' ? 'pending' : 'subscribed', at);
          audience.forgotten.delete(member.id);
          member.timestamp_signup = mailchimpTime(at);
          member.ip_opt = opts.ip ?? '203.0.113.7';
          applyMergeFields(audience, member, opts.mergeFields);
          if (target === 'pending') audience.confirmationEmails.push(normalised);
          else fire(audience, 'subscribe', opts.source ?? 'user', memberData(audience, member), at);
        } else {
          member.ip_opt = opts.ip ?? '203.0.113.7';
          applyMergeFields(audience, member, opts.mergeFields);
          setStatus(audience, member, target, opts.source ?? 'user', at);
        }
        return member;
      },
      /** The member clicks the link in Mailchimp's opt-in confirmation email. */
      confirm(email: string, opts: { listId?: string; ip?: string } = {}) {
        const audience = audienceOf(opts.listId);
        const member = memberOr404(audience, subscriberHash(email));
        if (member.status !== 'pending') throw new Error(`${email} is ${member.status}, not pending`);
        member.ip_opt = opts.ip ?? '203.0.113.7';
        setStatus(audience, member, 'subscribed', 'user', now());
      },
      clean(email: string, opts: { listId?: string; campaignId?: string; reason?: 'hard' | 'abuse' } = {}) {
        const audience = audienceOf(opts.listId);
        setStatus(audience, memberOr404(audience, subscriberHash(email)), 'cleaned', 'api', now(), {
          reason: opts.reason ?? 'hard',
          ...(opts.campaignId ? { campaignId: opts.campaignId } : {}),
        });
      },
      updateProfile(
        email: string,
        mergeFields: Record<string, string>,
        opts: { listId?: string; source?: ChangeSource } = {},
      ) {
        const audience = audienceOf(opts.listId);
        const member = memberOr404(audience, subscriberHash(email));
        const at = now();
        if (applyMergeFields(audience, member, mergeFields)) {
          member.last_changed = mailchimpTime(at);
          fire(audience, 'profile', opts.source ?? 'user', memberData(audience, member), at);
        }
      },
      changeEmail(oldEmail: string, newEmail: string, opts: { listId?: string; source?: ChangeSource } = {}) {
        const audience = audienceOf(opts.listId);
        const member = memberOr404(audience, subscriberHash(oldEmail));
        const at = now();
        const normalised = normaliseEmail(newEmail);
        audience.members.delete(member.id);
        const oldId = member.id;
        member.id = subscriberHash(normalised);
        member.email_address = normalised;
        member.last_changed = mailchimpTime(at);
        audience.members.set(member.id, member);
        for (const segment of audience.segments.values())
          if (segment.members.delete(oldId)) segment.members.add(member.id);
        fire(
          audience,
          'upemail',
          opts.source ?? 'user',
          {
            list_id: audience.id,
            new_id: member.unique_email_id,
            new_email: normalised,
            old_email: normaliseEmail(oldEmail),
          },
          at,
        );
      },
      /** Permanently deletes ("forgets") the member from Mailchimp's admin. */
      erase(email: string, opts: { listId?: string } = {}) {
        const audience = audienceOf(opts.listId);
        eraseMember(audience, memberOr404(audience, subscriberHash(email)), 'admin');
      },
      open(campaignId: string, email: string) {
        campaignOr404(campaignId).opens.push(subscriberHash(email));
      },
      click(campaignId: string, email: string) {
        campaignOr404(campaignId).clicks.push(subscriberHash(email));
      },
    },
    /** Registers a webhook directly (as the account owner would in the UI), without the verification GET. */
    addWebhook(
      url: string,
      opts: {
        listId?: string;
        events?: Partial<SandboxWebhook['events']>;
        sources?: Partial<SandboxWebhook['sources']>;
      } = {},
    ) {
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
      audienceOf(opts.listId).webhooks.push(hook);
      return hook;
    },
    /** Waits until every webhook fired so far has been delivered (or failed). */
    async flushWebhooks() {
      while (heldDeliveries.length > 0) heldDeliveries.shift()!();
      while (pendingDeliveries.size > 0) await Promise.all([...pendingDeliveries]);
    },
  };
}
