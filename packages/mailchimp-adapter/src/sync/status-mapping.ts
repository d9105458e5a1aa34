import type { ConsentPush, ExternalConsent } from '@tactful/core';
import type { MailchimpMember } from '../schemas.js';

/**
 * How Tactful's consent for the status purpose (`email_marketing`) becomes a Mailchimp member status.
 * Rendered as the table in the README; `mapConsentToStatus` is its executable form.
 */
export const statusMappingTable = [
  {
    tactful: 'granted (at the required level)',
    mailchimp: 'subscribed',
    note: 'New members and members who are subscribed, pending or transactional.',
  },
  {
    tactful: 'granted (below the required level, e.g. single opt-in when double opt-in is required)',
    mailchimp: 'pending',
    note: "Mailchimp's confirmation email is the double opt-in.",
  },
  {
    tactful: 'granted, member is unsubscribed or cleaned in Mailchimp, firstParty: true',
    mailchimp: 'pending',
    note: 'Only fresh first-party consent goes back, through confirmation.',
  },
  {
    tactful: 'granted, member is unsubscribed or cleaned in Mailchimp, firstParty: false',
    mailchimp: '(nothing sent)',
    note: 'Result MAILCHIMP.COMPLIANCE_STATE: Mailchimp refuses, and so does Tactful.',
  },
  {
    tactful: 'granted, member is pending in Mailchimp, firstParty: false',
    mailchimp: '(status not sent)',
    note: "The member's own confirmation completes it; fields and tags still go.",
  },
  {
    tactful: 'pending',
    mailchimp: 'pending',
    note: "Mailchimp's confirmation email is the double opt-in. For an unsubscribed or cleaned member only with firstParty: true (else MAILCHIMP.COMPLIANCE_STATE).",
  },
  { tactful: 'withdrawn', mailchimp: 'unsubscribed', note: 'From any status.' },
  {
    tactful: 'none',
    mailchimp: '(nothing sent)',
    note: 'No consent yet: Tactful does not create or change the member.',
  },
  {
    tactful: 'erased',
    mailchimp: 'actions/delete-permanent',
    note: 'Mailchimp then refuses to re-import the address.',
  },
] as const;

export type StatusDecision =
  | { kind: 'status'; status: 'subscribed' | 'pending' | 'unsubscribed' }
  | { kind: 'skip' }
  | { kind: 'refuse'; code: string; message: string };

export function mapConsentToStatus(
  push: ConsentPush,
  context: { requireDoubleOptIn: boolean; mailchimpStatus: string | null },
): StatusDecision {
  const inComplianceState = context.mailchimpStatus === 'unsubscribed' || context.mailchimpStatus === 'cleaned';
  switch (push.state) {
    case 'withdrawn':
      return { kind: 'status', status: 'unsubscribed' };
    case 'pending':
      // Moving someone who opted out to pending makes Mailchimp mail them a confirmation: first-party only.
      if (inComplianceState && !push.firstParty) {
        return {
          kind: 'refuse',
          code: 'MAILCHIMP.COMPLIANCE_STATE',
          message: `${push.email} is ${context.mailchimpStatus} in Mailchimp; only fresh first-party consent may send them a confirmation email (pending).`,
        };
      }
      return { kind: 'status', status: 'pending' };
    case 'none':
      return { kind: 'skip' };
    case 'granted': {
      if (inComplianceState) {
        if (push.firstParty) return { kind: 'status', status: 'pending' };
        return {
          kind: 'refuse',
          code: 'MAILCHIMP.COMPLIANCE_STATE',
          message: `${push.email} is ${context.mailchimpStatus} in Mailchimp; only fresh first-party consent (a form or a double opt-in confirmation) can bring them back, and it goes through pending.`,
        };
      }
      const levelMet = !context.requireDoubleOptIn || push.level === 'confirmed';
      if (!levelMet && context.mailchimpStatus === 'subscribed') return { kind: 'skip' };
      // Pending in Mailchimp: the person's own confirmation (or fresh first-party consent) completes it, not a sync.
      if (context.mailchimpStatus === 'pending' && (!push.firstParty || !levelMet)) return { kind: 'skip' };
      return { kind: 'status', status: levelMet ? 'subscribed' : 'pending' };
    }
  }
}

/** Mailchimp's view of a member as Tactful consent for the status purpose. `cleaned` is not a withdrawal. */
export function memberToConsent(member: MailchimpMember, purpose: string): ExternalConsent {
  const lastChanged = new Date(member.last_changed);
  const optedIn = member.timestamp_opt ? new Date(member.timestamp_opt) : null;
  const state =
    member.status === 'subscribed'
      ? 'granted'
      : member.status === 'pending'
        ? 'pending'
        : member.status === 'unsubscribed'
          ? 'withdrawn'
          : 'none';
  const occurredAt = state === 'granted' && optedIn && !Number.isNaN(optedIn.getTime()) ? optedIn : lastChanged;
  const signedUp = member.timestamp_signup ? new Date(member.timestamp_signup) : null;
  // A sign-up followed by a later opt-in confirmation is Mailchimp's double opt-in.
  const confirmed =
    state === 'granted' && signedUp !== null && optedIn !== null && optedIn.getTime() > signedUp.getTime();
  return {
    email: member.email_address.trim().toLowerCase(),
    purpose,
    state,
    level: confirmed ? 'confirmed' : 'unknown',
    occurredAt,
    sourceEventId: `${member.unique_email_id ?? member.id}:${member.status}:${occurredAt.toISOString()}`,
    method: 'sync',
    rawState: member.status,
  };
}
