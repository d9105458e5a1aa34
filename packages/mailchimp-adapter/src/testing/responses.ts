/**
 * The sandbox's records rendered as Mailchimp's JSON resources (Member, List, MergeField, List Segment,
 * Campaign, Report...), with the fields the OpenAPI spec declares that Tactful or a test reads, and the
 * `data[...]` part of a webhook about a member.
 */
import {
  DEFAULT_CONTACT,
  type SandboxAudience,
  type SandboxCampaign,
  type SandboxMember,
  type SandboxMergeField,
  type SandboxSegment,
  type SandboxWebhook,
} from './types.js';

function subscribedCount(audience: SandboxAudience): number {
  let count = 0;
  for (const member of audience.members.values()) if (member.status === 'subscribed') count += 1;
  return count;
}

/** The tags (static segments) a member is in. */
export function tagsOf(audience: SandboxAudience, member: SandboxMember): Array<{ id: number; name: string }> {
  const tags: Array<{ id: number; name: string }> = [];
  for (const segment of audience.segments.values())
    if (segment.members.has(member.id)) tags.push({ id: segment.id, name: segment.name });
  return tags;
}

export function memberJson(audience: SandboxAudience, member: SandboxMember) {
  const tags = tagsOf(audience, member);
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

/** A member as a webhook's `data` carries it (`merges` holds EMAIL and the non-empty merge fields). */
export function memberData(audience: SandboxAudience, member: SandboxMember): Record<string, unknown> {
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

export function listJson(audience: SandboxAudience) {
  return {
    id: audience.id,
    web_id: audience.web_id,
    name: audience.name,
    contact: audience.contact ?? {
      company: '',
      address1: '',
      address2: '',
      city: '',
      state: '',
      zip: '',
      country: '',
    },
    permission_reminder: 'You signed up on our store.',
    campaign_defaults: { from_name: '', from_email: '', subject: '', language: 'en' },
    double_optin: audience.double_optin,
    marketing_permissions: audience.permissionTexts.length > 0,
    stats: { member_count: subscribedCount(audience) },
    _links: [],
  };
}

export function accountJson(audiences: Iterable<SandboxAudience>) {
  let totalSubscribers = 0;
  for (const audience of audiences) totalSubscribers += subscribedCount(audience);
  return {
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
    total_subscribers: totalSubscribers,
    _links: [],
  };
}

export function mergeFieldJson(audience: SandboxAudience, field: SandboxMergeField) {
  return { ...field, list_id: audience.id, display_order: field.merge_id, options: {}, help_text: '', _links: [] };
}

export function segmentJson(audience: SandboxAudience, segment: SandboxSegment) {
  return {
    id: segment.id,
    name: segment.name,
    member_count: segment.members.size,
    type: segment.type,
    created_at: segment.created_at,
    updated_at: segment.updated_at,
    options: {},
    list_id: audience.id,
    _links: [],
  };
}

export function webhookJson(audience: SandboxAudience, hook: SandboxWebhook) {
  return { ...hook, list_id: audience.id, _links: [] };
}

export function campaignJson(campaign: SandboxCampaign, recipientCount: number) {
  return {
    id: campaign.id,
    web_id: campaign.web_id,
    type: campaign.type,
    create_time: campaign.create_time,
    status: campaign.status,
    emails_sent: campaign.sentTo.length,
    send_time: campaign.send_time ?? '',
    content_type: 'html',
    recipients: {
      list_id: campaign.list_id,
      segment_opts: campaign.segment_id === null ? {} : { saved_segment_id: campaign.segment_id },
      recipient_count: recipientCount,
    },
    settings: { ...campaign.settings },
    _links: [],
  };
}

export function reportJson(campaign: SandboxCampaign) {
  const unique = (xs: string[]) => new Set(xs).size;
  const sent = campaign.sentTo.length;
  return {
    id: campaign.id,
    campaign_title: campaign.settings.title ?? '',
    type: campaign.type,
    list_id: campaign.list_id,
    subject_line: campaign.settings.subject_line ?? '',
    emails_sent: sent,
    abuse_reports: 0,
    unsubscribed: unique(campaign.unsubscribes),
    send_time: campaign.send_time ?? '',
    bounces: { hard_bounces: 0, soft_bounces: 0, syntax_errors: 0 },
    opens: {
      opens_total: campaign.opens.length,
      unique_opens: unique(campaign.opens),
      open_rate: sent === 0 ? 0 : unique(campaign.opens) / sent,
      last_open: '',
    },
    clicks: {
      clicks_total: campaign.clicks.length,
      unique_clicks: unique(campaign.clicks),
      unique_subscriber_clicks: unique(campaign.clicks),
      click_rate: sent === 0 ? 0 : unique(campaign.clicks) / sent,
      last_click: '',
    },
    _links: [],
  };
}
