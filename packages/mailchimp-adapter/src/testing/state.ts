/**
 * The sandbox's Mailchimp account: audiences with their members (keyed by the MD5 subscriber hash), merge
 * fields, tags (static segments) and webhooks; campaigns; Customer Journey steps and their triggers; the emails
 * sent (each rendered for its recipient at send time). It holds Mailchimp's rules for
 * a member's status (an unsubscribed or cleaned member cannot be set to subscribed by the API - "Member In
 * Compliance State" - only to pending; a permanently deleted address cannot be re-imported) and fires the
 * webhooks each change causes. Routes and test actions change the account only through this module.
 */
import { randomBytes } from 'node:crypto';
import { normaliseEmail, subscriberHash } from '../subscriber-hash.js';
import { notFound } from './problem.js';
import { renderForMember } from './render.js';
import { memberData } from './responses.js';
import {
  DEFAULT_CONTACT,
  mailchimpTime,
  type ChangeSource,
  type MemberStatus,
  type SandboxAudience,
  type SandboxAudienceSeed,
  type SandboxCampaign,
  type SandboxEmail,
  type SandboxJourneyStep,
  type SandboxJourneyTrigger,
  type SandboxMember,
  type SandboxSegment,
} from './types.js';
import type { WebhookDeliveries } from './webhook-delivery.js';

export interface Refusal {
  title: string;
  detail: string;
}

export type SandboxState = ReturnType<typeof createSandboxState>;

/** A test email Mailchimp sent ("send a test"): to whom, as what, and the HTML as it arrives. */
export interface SandboxTestEmail {
  campaignId: string;
  to: string;
  subject: string;
  fromName: string;
  replyTo: string;
  html: string;
  at: Date;
}

export interface SandboxStateSettings {
  /** Journey steps configured from the start (`MailchimpSandboxOptions.journeys`). */
  journeys: readonly SandboxJourneyStep[];
  /** The base of the member-facing pages the emails link to (read at each send: it may move). */
  listManageUrl: () => string;
}

export function createSandboxState(
  seeds: SandboxAudienceSeed[],
  webhooks: WebhookDeliveries,
  now: () => Date,
  settings: SandboxStateSettings,
) {
  let nextWebId = 1000;
  let nextSegmentId = 1;
  let nextMergeId = 1;
  const audiences = new Map<string, SandboxAudience>();
  const campaigns = new Map<string, SandboxCampaign>();
  const journeys: SandboxJourneyStep[] = [...settings.journeys];
  // Mailchimp's journey and step ids are integers; new ones follow the largest configured.
  let nextJourneyId = journeys.reduce((top, j) => Math.max(top, j.journeyId, j.stepId), 100) + 1;
  const journeyTriggers: SandboxJourneyTrigger[] = [];
  const emails: SandboxEmail[] = [];
  const testEmails: SandboxTestEmail[] = [];
  const refusals: Array<{ email: string; status: MemberStatus; title: string }> = [];
  const fire = webhooks.fire;

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
  for (const seed of seeds) addAudience(seed);

  /** The audience `listId` names (the first one when none is named), or a 404. */
  function audienceOf(listId: string | undefined): SandboxAudience {
    const id = listId ?? audiences.keys().next().value;
    const audience = id === undefined ? undefined : audiences.get(id);
    if (!audience) throw notFound();
    return audience;
  }

  function memberOr404(audience: SandboxAudience, hash: string): SandboxMember {
    const member = audience.members.get(hash.toLowerCase());
    if (!member) throw notFound();
    return member;
  }

  function campaignOr404(id: string): SandboxCampaign {
    const campaign = campaigns.get(id);
    if (!campaign) throw notFound();
    return campaign;
  }

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
    audience.forgotten.delete(id);
    return member;
  }

  function refusalRule(
    audience: SandboxAudience,
    current: SandboxMember | undefined,
    email: string,
    requested: MemberStatus,
    source: ChangeSource,
  ): Refusal | null {
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

  /** Mailchimp's refusal of a status change, or null when it is allowed (refusals are recorded for oracles). */
  function refusal(
    audience: SandboxAudience,
    current: SandboxMember | undefined,
    email: string,
    requested: MemberStatus,
    source: ChangeSource,
  ): Refusal | null {
    const found = refusalRule(audience, current, email, requested, source);
    if (found) refusals.push({ email: normaliseEmail(email), status: requested, title: found.title });
    return found;
  }

  /** Changes a member's status and fires the webhook the change causes (nothing when it is unchanged). */
  function setStatus(
    audience: SandboxAudience,
    member: SandboxMember,
    status: MemberStatus,
    source: ChangeSource,
    at: Date,
    extra: { reason?: string; campaignId?: string } = {},
  ): void {
    if (member.status === status) return;
    member.status = status;
    member.last_changed = mailchimpTime(at);
    if (status === 'subscribed') {
      member.timestamp_opt = mailchimpTime(at);
      fire(audience, 'subscribe', source, memberData(audience, member), at);
    }
    if (status === 'pending') audience.confirmationEmails.push(member.email_address);
    if (status === 'unsubscribed') {
      member.unsubscribe_reason = extra.reason ?? (source === 'api' ? 'N/A (Unsubscribed by an API call)' : 'manual');
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

  /** Sets the values of merge fields the audience defines (Mailchimp drops the others); true when one changed. */
  function applyMergeFields(
    audience: SandboxAudience,
    member: SandboxMember,
    values: Record<string, unknown> | undefined,
  ): boolean {
    let changed = false;
    for (const [tag, value] of Object.entries(values ?? {})) {
      if (!audience.mergeFields.has(tag)) continue;
      const text = value === null || value === undefined ? '' : String(value);
      if (member.merge_fields[tag] !== text) {
        member.merge_fields[tag] = text;
        changed = true;
      }
    }
    return changed;
  }

  /** A changed profile: `last_changed` moves and the profile webhook fires. */
  function profileChanged(audience: SandboxAudience, member: SandboxMember, source: ChangeSource, at: Date): void {
    member.last_changed = mailchimpTime(at);
    fire(audience, 'profile', source, memberData(audience, member), at);
  }

  function tagMember(audience: SandboxAudience, member: SandboxMember, name: string, active: boolean, at: Date) {
    let segment = [...audience.segments.values()].find((s) => s.name === name);
    if (!segment && !active) return;
    if (!segment) segment = addSegment(audience, name, at);
    if (active) segment.members.add(member.id);
    else segment.members.delete(member.id);
    segment.updated_at = mailchimpTime(at);
  }

  function addSegment(audience: SandboxAudience, name: string, at: Date): SandboxSegment {
    const segment: SandboxSegment = {
      id: nextSegmentId++,
      name,
      type: 'static',
      members: new Set(),
      created_at: mailchimpTime(at),
      updated_at: mailchimpTime(at),
    };
    audience.segments.set(segment.id, segment);
    return segment;
  }

  /**
   * An address change (the admin's edit, the member's own, or the API's PATCH with a new `email_address`): the
   * same member under a new address and hash, status and history kept; the `upemail` webhook fires. Returns
   * the other member holding the new address instead, when there is one (nothing changes then).
   */
  function changeAddress(
    audience: SandboxAudience,
    member: SandboxMember,
    newEmail: string,
    source: ChangeSource,
    at: Date,
  ): SandboxMember | null {
    const normalised = normaliseEmail(newEmail);
    const oldEmail = member.email_address;
    const taken = audience.members.get(subscriberHash(normalised));
    if (taken && taken !== member) return taken;
    audience.members.delete(member.id);
    const oldId = member.id;
    member.id = subscriberHash(normalised);
    member.email_address = normalised;
    member.last_changed = mailchimpTime(at);
    audience.members.set(member.id, member);
    for (const segment of audience.segments.values()) if (segment.members.delete(oldId)) segment.members.add(member.id);
    fire(
      audience,
      'upemail',
      source,
      {
        list_id: audience.id,
        new_id: member.unique_email_id,
        new_email: normalised,
        old_email: normaliseEmail(oldEmail),
      },
      at,
    );
    return null;
  }

  /** Permanent deletion: the member is gone, and the address is remembered so the API cannot re-import it. */
  function eraseMember(audience: SandboxAudience, member: SandboxMember, source: ChangeSource): void {
    const at = now();
    fire(audience, 'unsubscribe', source, { ...memberData(audience, member), action: 'delete', reason: 'manual' }, at);
    audience.members.delete(member.id);
    for (const segment of audience.segments.values()) segment.members.delete(member.id);
    audience.forgotten.add(member.id);
  }

  /** Who a campaign goes to (before it is sent) or went to (after). */
  function recipientsOf(campaign: SandboxCampaign): SandboxMember[] {
    const audience = audienceOf(campaign.list_id);
    if (campaign.status === 'sent')
      return campaign.sentTo.map((h) => audience.members.get(h)).filter((m): m is SandboxMember => m !== undefined);
    const segment = campaign.segment_id === null ? null : audience.segments.get(campaign.segment_id);
    return [...audience.members.values()].filter(
      (m) => m.status === 'subscribed' && (segment === null || segment?.members.has(m.id)),
    );
  }

  /** The journey step `journeyId`/`stepId`, if the account has it. */
  function journeyStep(journeyId: number, stepId: number): SandboxJourneyStep | undefined {
    return journeys.find((j) => j.journeyId === journeyId && j.stepId === stepId);
  }

  /** A new journey with one step that has the Customer Journeys API trigger; its ids as Mailchimp shows them. */
  function createJourney(step: Omit<SandboxJourneyStep, 'journeyId' | 'stepId'>): SandboxJourneyStep {
    audienceOf(step.listId);
    const journeyId = nextJourneyId++;
    const created: SandboxJourneyStep = { ...step, journeyId, stepId: nextJourneyId++ };
    journeys.push(created);
    return created;
  }

  /** `html` rendered for `member` now (merge fields as they are now) and kept as the email they received. */
  function sendEmail(
    audience: SandboxAudience,
    member: SandboxMember,
    html: string,
    meta: Pick<SandboxEmail, 'subject' | 'from' | 'via'>,
    linkId: string,
  ): SandboxEmail {
    const email: SandboxEmail = {
      to: normaliseEmail(member.email_address),
      subject: meta.subject,
      from: meta.from,
      html: renderForMember(html, audience, member, linkId, settings.listManageUrl()),
      sentAt: now(),
      via: meta.via,
    };
    emails.push(email);
    return email;
  }

  return {
    audiences,
    campaigns,
    journeys,
    journeyTriggers,
    emails,
    journeyStep,
    createJourney,
    sendEmail,
    listManageUrl: settings.listManageUrl,
    testEmails,
    refusals,
    now,
    fire,
    /** The next web id (audiences, members and campaigns share one sequence, as the ids are only unique). */
    nextWebId: () => nextWebId++,
    nextMergeId: () => nextMergeId++,
    audienceOf,
    memberOr404,
    campaignOr404,
    newMember,
    refusal,
    setStatus,
    applyMergeFields,
    profileChanged,
    tagMember,
    addSegment,
    eraseMember,
    changeAddress,
    recipientsOf,
  };
}
