/**
 * Delivery functions that turn outbox rows into adapter calls through the ports. One batch call per
 * target where the port allows it (Mailchimp: up to `maxBatch` members), with each item's own outcome, so a
 * partial failure retries only what failed.
 */
import { TactfulError } from '../errors/tactful-error.js';
import type { TactfulErrorCode } from '../errors/catalogue.js';
import type { CommercePlatform, ConsentPush, EmailProvider, MemberChange, PushResult } from '../ports.js';
import type { ConsentState, OptInLevel } from '../ports.js';
import type { DeliverBatch, DeliveryOutcome } from './dispatcher.js';
import type { OutboxItem } from './outbox.js';

interface ConsentPushPayload {
  email: string;
  externalIds?: Record<string, string>;
  purpose: string;
  state: ConsentState;
  level: OptInLevel;
  occurredAt: string;
  firstParty: boolean;
}

/** A customer's correction (kind `profile.push`, written by profile/service.ts `rectifyProfile`). */
interface ProfilePayload {
  email: string;
  externalIds?: Record<string, string>;
  fields: { firstName?: string | null; lastName?: string | null };
  /** Whether the person has an email-marketing state, i.e. an email provider's audience may hold them. */
  inAudience?: boolean;
}

interface ErasePayload {
  email: string;
  externalIds?: Record<string, string>;
  /** Every address the person ever had (the current one included); older rows carry only `email`. */
  emails?: string[];
  /** Every id the person ever had in each system. */
  allIds?: Record<string, string[]>;
}

/** The outbox kind of an address change another system must follow (written by identity/change.ts). */
export const EMAIL_CHANGE = 'subject.email_change';

interface EmailChangePayload {
  /** The address the system holds the person under (their previous one in Tactful). */
  email: string;
  newEmail: string;
  externalIds?: Record<string, string>;
}

/** Every address an erasure names, the current one first. */
const erasedEmails = (p: ErasePayload): string[] => [...new Set([p.email, ...(p.emails ?? [])].filter(Boolean))];

/** One outcome for an item made of several calls: the first failure, retryable only if every failure is. */
function combined(outcomes: DeliveryOutcome[]): DeliveryOutcome {
  const failures = outcomes.filter((o) => !o.ok);
  if (failures.length === 0) return { ok: true };
  const fatal = failures.find((f) => !f.ok && f.error instanceof TactfulError && !f.error.retryable);
  return fatal ?? failures[0]!;
}

function toPush(item: OutboxItem, system: string): ConsentPush {
  const p = item.payload as unknown as ConsentPushPayload;
  return {
    email: p.email,
    externalId: p.externalIds?.[system],
    purpose: p.purpose,
    state: p.state,
    level: p.level,
    occurredAt: new Date(p.occurredAt),
    firstParty: p.firstParty,
  };
}

function outcome(result: PushResult | undefined): DeliveryOutcome {
  if (!result)
    return {
      ok: false,
      error: new TactfulError('SYNC.NO_RESULT', 'The adapter returned no result for this item.', { retryable: true }),
    };
  if (result.ok) return { ok: true };
  // The adapter's own code is passed on as it named it: the outbox records it, and the scan of the catalogue
  // covers the codes of this repository's adapters.
  const code = result.code as TactfulErrorCode;
  return { ok: false, error: new TactfulError(code, result.message, { retryable: result.retryable }) };
}

const unsupported = (kind: string, system: string): DeliveryOutcome => ({
  ok: false,
  error: new TactfulError(
    'SYNC.UNSUPPORTED',
    `${system} cannot take "${kind}" (its adapter does not declare the capability); nothing was sent.`,
  ),
});

/** Delivers to a commerce platform: consent write-back (only email marketing), customer corrections and erasure. */
export function platformTarget(platform: CommercePlatform): DeliverBatch {
  return async (items) => {
    const out: DeliveryOutcome[] = new Array(items.length);
    const pushes: Array<[number, ConsentPush]> = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.kind === 'consent.push') {
        const push = toPush(item, platform.system);
        // A platform holds email marketing consent only; other purposes have nothing to write there.
        if (push.purpose !== 'email_marketing') out[i] = { ok: true };
        else if (!platform.capabilities.consentWrite || !platform.pushConsent)
          out[i] = unsupported(item.kind, platform.system);
        else pushes.push([i, push]);
      } else if (item.kind === 'subject.erase') {
        if (!platform.capabilities.erasure || !platform.eraseCustomer) out[i] = unsupported(item.kind, platform.system);
        else {
          // Every customer record the person ever had there (a customer id each), else the one under their address.
          const p = item.payload as unknown as ErasePayload;
          const ids = [...new Set([...(p.allIds?.[platform.system] ?? []), p.externalIds?.[platform.system]])].filter(
            (id): id is string => Boolean(id),
          );
          const refs =
            ids.length > 0 ? ids.map((externalId) => ({ email: p.email, externalId })) : [{ email: p.email }];
          const outcomes: DeliveryOutcome[] = [];
          for (const ref of refs) {
            try {
              await platform.eraseCustomer(ref);
              outcomes.push({ ok: true });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
          out[i] = combined(outcomes);
        }
      } else if (item.kind === EMAIL_CHANGE) {
        // A platform that cannot change a customer's address keeps its own: nothing to deliver.
        if (!platform.capabilities.emailChange || !platform.updateCustomer) out[i] = { ok: true };
        else {
          const p = item.payload as unknown as EmailChangePayload;
          try {
            await platform.updateCustomer({
              email: p.email,
              externalId: p.externalIds?.[platform.system],
              newEmail: p.newEmail,
            });
            out[i] = { ok: true };
          } catch (error) {
            out[i] = { ok: false, error };
          }
        }
      } else if (item.kind === 'profile.push') {
        // A platform that declares no customer update holds nothing Tactful may correct: nothing to deliver.
        if (!platform.capabilities.customerUpdate || !platform.updateCustomer) out[i] = { ok: true };
        else {
          const p = item.payload as unknown as ProfilePayload;
          try {
            await platform.updateCustomer({
              email: p.email,
              externalId: p.externalIds?.[platform.system],
              ...p.fields,
            });
            out[i] = { ok: true };
          } catch (error) {
            out[i] = { ok: false, error };
          }
        }
      } else out[i] = unsupported(item.kind, platform.system);
    }
    if (pushes.length > 0) {
      const results = await platform.pushConsent!(pushes.map(([, p]) => p));
      pushes.forEach(([i], j) => (out[i] = outcome(results[j])));
    }
    return out;
  };
}

/**
 * Delivers to an email provider: member consent changes, profile corrections (merge fields) and permanent
 * deletion, batched.
 */
export function providerTarget(provider: EmailProvider): DeliverBatch {
  return async (items) => {
    const out: DeliveryOutcome[] = new Array(items.length);
    const changes: Array<[number, MemberChange]> = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.kind === 'consent.push') {
        const push = toPush(item, provider.system);
        // The audience mirrors email marketing; other purposes travel as tags/permissions in later syncs.
        if (push.purpose !== 'email_marketing') out[i] = { ok: true };
        else changes.push([i, { email: push.email, consent: push }]);
      } else if (item.kind === 'subject.erase') {
        // A member for every address the person ever had: each is deleted (the item succeeds when all are).
        for (const email of erasedEmails(item.payload as unknown as ErasePayload))
          changes.push([i, { email, consent: { erased: true } }]);
      } else if (item.kind === EMAIL_CHANGE) {
        const p = item.payload as unknown as EmailChangePayload;
        changes.push([i, { email: p.email, newEmail: p.newEmail }]);
      } else if (item.kind === 'profile.push') {
        const p = item.payload as unknown as ProfilePayload;
        // Names travel as the audience's standard merge fields; someone outside the audience is not added.
        const mergeFields: Record<string, string> = {};
        if (p.fields.firstName !== undefined) mergeFields.FNAME = p.fields.firstName ?? '';
        if (p.fields.lastName !== undefined) mergeFields.LNAME = p.fields.lastName ?? '';
        if (p.inAudience === false || Object.keys(mergeFields).length === 0) out[i] = { ok: true };
        else changes.push([i, { email: p.email, mergeFields }]);
      } else out[i] = unsupported(item.kind, provider.system);
    }
    const perItem = new Map<number, DeliveryOutcome[]>();
    for (let start = 0; start < changes.length; start += provider.capabilities.maxBatch) {
      const slice = changes.slice(start, start + provider.capabilities.maxBatch);
      const results = await provider.pushMembers(slice.map(([, c]) => c));
      slice.forEach(([i], j) => perItem.set(i, [...(perItem.get(i) ?? []), outcome(results[j])]));
    }
    for (const [i, outcomes] of perItem) out[i] = combined(outcomes);
    return out;
  };
}
