/**
 * The records the Mailchimp sandbox keeps and the options it is built with. They are the sandbox's readable
 * state (`sandbox.state`), shaped like Mailchimp's own resources where a test compares them with an answer.
 */
import type { MailchimpFaultPlan } from './fault-plan.js';

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

export type WebhookEvent = 'subscribe' | 'unsubscribe' | 'profile' | 'cleaned' | 'upemail' | 'campaign';

export interface SandboxWebhook {
  id: string;
  url: string;
  events: Record<WebhookEvent, boolean>;
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
  /** The step's email, as designed in Mailchimp's journey builder (merge tags filled per member at send). */
  html: string;
  /** The journey's name in the builder. */
  name?: string;
  /** The step email's subject line (default: the journey's name). */
  subject?: string;
  /** The step email's sender name and reply-to (default: the audience's company, `hello@<dc>.sandbox.invalid`). */
  fromName?: string;
  replyTo?: string;
}

/** A journey step the API triggered for a member (`sandbox.journeys.triggers()`). */
export interface SandboxJourneyTrigger {
  journeyId: number;
  stepId: number;
  /** The member's address, normalised. */
  email: string;
  at: Date;
}

/**
 * An email Mailchimp sent: a campaign's to one recipient, or a journey step's. Its HTML is rendered at send
 * time from the member's merge fields as they were then, with Mailchimp's links (unsubscribe, profile) on the
 * sandbox's list-manage pages.
 */
export interface SandboxEmail {
  /** The recipient's address, normalised. */
  to: string;
  subject: string;
  /** `Name <reply-to>`. */
  from: string;
  html: string;
  sentAt: Date;
  /** What sent it. */
  via: { kind: 'campaign'; campaignId: string } | { kind: 'journey'; journeyId: number; stepId: number };
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
  /**
   * Where the member-facing pages Mailchimp links to from its emails (`*|UNSUB|*`, `*|UPDATE_PROFILE|*`) are
   * served: default `https://<dc>.list-manage.com`, answered by the sandbox's handlers like the API.
   * `serveMailchimpSandbox(sandbox, { pages: true })` moves them onto its loopback host, so a browser can open them.
   */
  listManageUrl?: string;
  /** Seeded faults drawn on every request, batch member and webhook delivery (see `createMailchimpFaultPlan`); none by default. */
  faultPlan?: MailchimpFaultPlan | null;
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

/** Mailchimp's timestamp format: ISO 8601 at second precision with an explicit offset. */
export function mailchimpTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}
