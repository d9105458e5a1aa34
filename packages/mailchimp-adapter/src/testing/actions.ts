/**
 * Changes made in Mailchimp itself rather than through the API: by the member (`user`: the signup form, an
 * unsubscribe link, the confirmation email) or the account owner (`admin`), plus opens and clicks for
 * reports. Each fires the webhooks Mailchimp would.
 */
import { subscriberHash, normaliseEmail } from '../subscriber-hash.js';
import { memberData } from './responses.js';
import type { SandboxState } from './state.js';
import { mailchimpTime, type ChangeSource, type MemberStatus, type SandboxMember } from './types.js';

/** `sandbox.actions`. */
export interface MailchimpSandboxActions {
  /** The member unsubscribes (by default through a link: source `user`, reason `manual`). */
  unsubscribe(
    email: string,
    opts?: { listId?: string; reason?: 'manual' | 'abuse'; campaignId?: string; source?: ChangeSource },
  ): void;
  /** Signs up through Mailchimp's form: pending on a double opt-in audience, else subscribed. */
  subscribe(
    email: string,
    opts?: { listId?: string; source?: ChangeSource; mergeFields?: Record<string, string>; ip?: string },
  ): SandboxMember;
  /** The member clicks the link in Mailchimp's opt-in confirmation email. */
  confirm(email: string, opts?: { listId?: string; ip?: string }): void;
  /** The address bounces (or is reported for abuse) and Mailchimp cleans it. */
  clean(email: string, opts?: { listId?: string; campaignId?: string; reason?: 'hard' | 'abuse' }): void;
  /** The member (or the owner) edits the profile's merge fields. */
  updateProfile(
    email: string,
    mergeFields: Record<string, string>,
    opts?: { listId?: string; source?: ChangeSource },
  ): void;
  /** The member (or the owner) changes the address; the member keeps its unique email id. */
  changeEmail(oldEmail: string, newEmail: string, opts?: { listId?: string; source?: ChangeSource }): void;
  /** Permanently deletes ("forgets") the member from Mailchimp's admin. */
  erase(email: string, opts?: { listId?: string }): void;
  /** The member opens a sent campaign. */
  open(campaignId: string, email: string): void;
  /** The member clicks a link in a sent campaign. */
  click(campaignId: string, email: string): void;
}

const FORM_IP = '203.0.113.7';

export function createSandboxActions(state: SandboxState): MailchimpSandboxActions {
  const { now, fire } = state;
  const target = (email: string, listId: string | undefined) => {
    const audience = state.audienceOf(listId);
    return { audience, member: state.memberOr404(audience, subscriberHash(email)) };
  };

  return {
    unsubscribe(email, opts = {}) {
      const { audience, member } = target(email, opts.listId);
      state.setStatus(audience, member, 'unsubscribed', opts.source ?? 'user', now(), {
        reason: opts.reason ?? 'manual',
        ...(opts.campaignId ? { campaignId: opts.campaignId } : {}),
      });
      if (opts.campaignId) state.campaigns.get(opts.campaignId)?.unsubscribes.push(member.id);
    },
    subscribe(email, opts = {}) {
      const audience = state.audienceOf(opts.listId);
      const normalised = normaliseEmail(email);
      const at = now();
      const source = opts.source ?? 'user';
      const status: MemberStatus = audience.double_optin && source === 'user' ? 'pending' : 'subscribed';
      let member = audience.members.get(subscriberHash(normalised));
      if (!member) {
        member = state.newMember(audience, normalised, status, at);
        member.timestamp_signup = mailchimpTime(at);
        member.ip_opt = opts.ip ?? FORM_IP;
        state.applyMergeFields(audience, member, opts.mergeFields);
        if (status === 'pending') audience.confirmationEmails.push(normalised);
        else fire(audience, 'subscribe', source, memberData(audience, member), at);
      } else {
        member.ip_opt = opts.ip ?? FORM_IP;
        state.applyMergeFields(audience, member, opts.mergeFields);
        state.setStatus(audience, member, status, source, at);
      }
      return member;
    },
    confirm(email, opts = {}) {
      const { audience, member } = target(email, opts.listId);
      if (member.status !== 'pending') throw new Error(`${email} is ${member.status}, not pending`);
      member.ip_opt = opts.ip ?? FORM_IP;
      state.setStatus(audience, member, 'subscribed', 'user', now());
    },
    clean(email, opts = {}) {
      const { audience, member } = target(email, opts.listId);
      state.setStatus(audience, member, 'cleaned', 'api', now(), {
        reason: opts.reason ?? 'hard',
        ...(opts.campaignId ? { campaignId: opts.campaignId } : {}),
      });
    },
    updateProfile(email, mergeFields, opts = {}) {
      const { audience, member } = target(email, opts.listId);
      const at = now();
      if (state.applyMergeFields(audience, member, mergeFields))
        state.profileChanged(audience, member, opts.source ?? 'user', at);
    },
    changeEmail(oldEmail, newEmail, opts = {}) {
      const { audience, member } = target(oldEmail, opts.listId);
      const taken = state.changeAddress(audience, member, newEmail, opts.source ?? 'user', now());
      if (taken) throw new Error(`${taken.email_address} is already a member of audience ${audience.id}`);
    },
    erase(email, opts = {}) {
      const { audience, member } = target(email, opts.listId);
      state.eraseMember(audience, member, 'admin');
    },
    open(campaignId, email) {
      state.campaignOr404(campaignId).opens.push(subscriberHash(email));
    },
    click(campaignId, email) {
      state.campaignOr404(campaignId).clicks.push(subscriberHash(email));
    },
  };
}
