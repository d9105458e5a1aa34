import { z } from 'zod';
import { emailAddress } from '../identity/email.js';
import { consentMethods, consentStates, optInLevels, type ConsentMethod } from '../ports.js';

export const firstPartyOptInMethods: readonly ConsentMethod[] = ['form', 'double_opt_in_confirmation'];

export const purposeKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]{1,62}$/, 'a purpose is lower-case letters, digits and underscores, e.g. email_marketing');

export const subjectRef = z.object({
  email: emailAddress,
  /** Ids of the same person in other systems, e.g. `{ shopify: 'gid://shopify/Customer/1' }`. */
  externalIds: z.record(z.string(), z.string().min(1)).optional(),
});
export type SubjectRef = z.output<typeof subjectRef>;

export const consentSource = z.object({
  /** The system that reported the event: `tactful`, `shopify`, `mailchimp`, `cli`, ... */
  system: z.string().min(1).max(64),
  /** The id the source gave this event; `(system, eventId)` is unique per shop. */
  eventId: z.string().min(1).max(256),
  method: z.enum(consentMethods),
});
export type ConsentSource = z.output<typeof consentSource>;

export const consentEvidence = z
  .object({
    ip: z.union([z.ipv4(), z.ipv6()]).optional(),
    userAgent: z.string().max(1024).optional(),
    formId: z.string().max(256).optional(),
    policyVersion: z.string().max(64).optional(),
    clause: z.string().max(256).optional(),
    confirmationTokenId: z.string().max(128).optional(),
  })
  .strict();
export type ConsentEvidence = z.output<typeof consentEvidence>;

const isoDate = z
  .union([z.date(), z.iso.datetime({ offset: true }).transform((s) => new Date(s))])
  .refine((d) => !Number.isNaN(d.getTime()), 'not a valid date');

/** A consent event as it arrives from anywhere, before the ledger records it. */
export const consentEventInput = z
  .object({
    subject: subjectRef,
    purpose: purposeKey,
    state: z.enum(consentStates),
    level: z.enum(optInLevels).default('unknown'),
    occurredAt: isoDate,
    source: consentSource,
    evidence: consentEvidence.default({}),
  })
  .strict();
export type ConsentEventInput = z.input<typeof consentEventInput>;
export type ConsentEventData = z.output<typeof consentEventInput>;

/** A consent event as the ledger holds it. `echo` marks a change Tactful itself pushed, reported back. */
export interface ConsentEvent extends ConsentEventData {
  id: string;
  subjectId: string;
  recordedAt: Date;
  echo: boolean;
}
