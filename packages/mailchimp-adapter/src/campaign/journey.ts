/**
 * One person's related-product email through a Customer Journey step (`EmailProvider.triggerJourney`): the
 * member's merge fields are set to what Tactful decided (the campaign's own fields, `campaignFieldsFor`), then
 * the step is triggered, and Mailchimp sends the step's email rendered from those fields. The step's email is
 * designed in Mailchimp's journey builder with the campaign template's merge tags.
 *
 * Never subscribes anyone: the member is read first; someone Mailchimp does not hold is `MAILCHIMP.NOT_A_MEMBER`,
 * someone not subscribed `MAILCHIMP.NOT_SUBSCRIBED`, and nothing is written for them.
 *
 * Idempotency across restarts. Mailchimp does not dedupe triggers (the same member triggered twice gets two
 * emails) and keeps no record of them the API can read, so the adapter keeps its own marker on the member, in
 * the merge field `mergeTags.journeyKey` (`TF_JOURNEY`, created with the campaign fields, not public): a
 * digest of each of the last ten keys triggered (16 characters each), newest first. A key is written there
 * "armed" (`~digest`) in the same PATCH as the content, before the trigger, and confirmed after Mailchimp
 * answered 204. So, for a key:
 * - confirmed in the marker: `already`, nothing is sent;
 * - armed and never confirmed: an earlier attempt was interrupted (the process died, or the trigger went
 *   unanswered) and may have sent the email. It is not sent again: `MAILCHIMP.JOURNEY_FAILED`, not retryable,
 *   says the outcome is unknown (at most once, never twice);
 * - a trigger Mailchimp refused (any HTTP error answer, after the client's retries of 429 and 5xx) sent nothing:
 *   the marker is put back, and the same key may be tried again.
 * Triggers of one address are serialised within a provider; two processes triggering the same address at the
 * same moment could lose a marker update (the flows engine leases each step to one worker).
 */
import { createHash } from 'node:crypto';
import type { JourneyTriggerRequest, JourneyTriggerResult } from '@tactful/core';
import { TactfulError, isTactfulError } from '@tactful/core';
import type { MailchimpClient } from '../client.js';
import type { MailchimpOptions } from '../options.js';
import { normaliseEmail, subscriberHash } from '../subscriber-hash.js';
import { campaignFieldsFor, contentProblems, type MergeFieldSpec } from './template.js';

/** Keys remembered per member (the merge field holds at most 255 characters). */
const REMEMBERED = 10;
const ARMED = '~';
const positiveInteger = /^[1-9]\d{0,15}$/;

interface Marker {
  armed: string | null;
  confirmed: string[];
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 16);
}

function readMarker(value: unknown): Marker {
  const marker: Marker = { armed: null, confirmed: [] };
  for (const part of (typeof value === 'string' ? value : '').split(' ')) {
    if (part.startsWith(ARMED) && part.length > 1) marker.armed ??= part.slice(1);
    else if (part !== '') marker.confirmed.push(part);
  }
  return marker;
}

function writeMarker(marker: Marker): string {
  const parts = [...(marker.armed ? [`${ARMED}${marker.armed}`] : []), ...marker.confirmed];
  return parts.slice(0, REMEMBERED).join(' ');
}

export function createJourneyTrigger(deps: {
  client: MailchimpClient;
  options: MailchimpOptions;
  sanitise: (value: string) => string;
  /** Creates the campaign merge fields, and `extra`, when missing; returns those it created. */
  ensureMergeFields: (extra: MergeFieldSpec[]) => Promise<string[]>;
}) {
  const { client, options } = deps;
  const listId = options.audienceId;
  const markerTag = options.mergeTags.journeyKey ?? 'TF_JOURNEY';
  /** Fields are checked once per provider, and again when a write shows one is missing. */
  let fieldsReady: Promise<unknown> | null = null;
  const ensureFields = (again = false) => {
    if (again || fieldsReady === null)
      fieldsReady = deps
        .ensureMergeFields([{ tag: markerTag, name: 'Tactful journey keys', type: 'text' }])
        .catch((error: unknown) => {
          fieldsReady = null;
          throw error;
        });
    return fieldsReady;
  };
  /** The running trigger per address: one at a time, so two keys never overwrite each other's marker. */
  const running = new Map<string, Promise<unknown>>();

  function ids(request: JourneyTriggerRequest): { journeyId: number; stepId: number } {
    const problems: string[] = [];
    if (!positiveInteger.test(request.journeyId)) problems.push(`journeyId "${request.journeyId}" is not Mailchimp's`);
    if (!positiveInteger.test(request.stepId)) problems.push(`stepId "${request.stepId}" is not Mailchimp's`);
    if (problems.length > 0)
      throw new TactfulError(
        'CONFIG.INVALID',
        `Cannot trigger the Customer Journey: ${problems.join('; ')} (both are the numbers in the URL the journey builder shows for its Customer Journeys API trigger).`,
        { details: problems },
      );
    return { journeyId: Number(request.journeyId), stepId: Number(request.stepId) };
  }

  async function trigger(request: JourneyTriggerRequest): Promise<JourneyTriggerResult> {
    const { journeyId, stepId } = ids(request);
    const problems = [
      ...(request.key.trim() === '' ? ['the key is empty'] : []),
      ...contentProblems(request.message.content).map((p) => `the content ${p}`),
    ];
    if (problems.length > 0)
      throw new TactfulError(
        'MAILCHIMP.CAMPAIGN_INVALID',
        `Cannot trigger journey ${journeyId}: ${problems.join('; ')}.`,
        { details: problems },
      );
    const email = normaliseEmail(request.message.email);
    const hash = subscriberHash(email);
    const key = digest(request.key);

    const member = await client.getMember(listId, hash);
    if (!member)
      throw new TactfulError(
        'MAILCHIMP.NOT_A_MEMBER',
        'The address is not a member of the Mailchimp audience: a journey sends only to its subscribed contacts, and Tactful never adds anyone for it.',
      );
    if (member.status !== 'subscribed')
      throw new TactfulError(
        'MAILCHIMP.NOT_SUBSCRIBED',
        `The member is ${member.status} in Mailchimp: a journey sends only to subscribed contacts, and Tactful never subscribes anyone for it.`,
      );
    const before = readMarker(member.merge_fields?.[markerTag]);
    if (before.confirmed.includes(key)) return { status: 'already' };
    if (before.armed === key)
      throw new TactfulError(
        'MAILCHIMP.JOURNEY_FAILED',
        `An earlier trigger of journey ${journeyId} step ${stepId} with this key was interrupted before Mailchimp confirmed it, so the email may have gone out: it is not triggered again (never twice). Check the member's activity in Mailchimp.`,
      );

    const content: Record<string, string> = {};
    for (const [tag, value] of Object.entries(campaignFieldsFor(request.message.content, options.mergeTags)))
      content[tag.toUpperCase()] = deps.sanitise(value);
    const armed = writeMarker({ armed: key, confirmed: before.confirmed });
    const setMarker = (value: string, fields: Record<string, string> = {}) =>
      client.patchMember(listId, hash, { merge_fields: { ...fields, [markerTag]: value } });

    await ensureFields();
    let written = await setMarker(armed, content);
    if (written.merge_fields?.[markerTag] !== armed) {
      // Someone deleted a field in Mailchimp since they were checked: Mailchimp dropped its value silently.
      await ensureFields(true);
      written = await setMarker(armed, content);
      if (written.merge_fields?.[markerTag] !== armed)
        throw new TactfulError(
          'MAILCHIMP.JOURNEY_FAILED',
          `Mailchimp did not keep the merge field ${markerTag} on the audience, so a retry could send twice: nothing was triggered.`,
        );
    }
    const restore = () => setMarker(writeMarker(before)).catch(() => undefined);
    if (written.status !== 'subscribed') {
      await restore();
      throw new TactfulError(
        'MAILCHIMP.NOT_SUBSCRIBED',
        `The member became ${written.status} in Mailchimp meanwhile: nothing was triggered.`,
      );
    }

    try {
      await client.triggerJourney(journeyId, stepId, email);
    } catch (error) {
      // Answered with an error: Mailchimp sent nothing, so the key is free again. Unanswered: it stays armed.
      if (!isTactfulError(error) || error.status === undefined) throw error;
      await restore();
      if (error.status === 404)
        throw new TactfulError(
          'MAILCHIMP.NOT_FOUND',
          `Mailchimp has no journey ${journeyId} with a step ${stepId} that has the Customer Journeys API trigger (or the contact left the audience): check the journey id configured for the shop.`,
          { cause: error, status: 404, body: error.body, retryable: false },
        );
      if (error.retryable) throw error;
      throw new TactfulError(
        'MAILCHIMP.JOURNEY_FAILED',
        `Mailchimp refused to trigger journey ${journeyId} step ${stepId} (${error.status}): ${error.message}`,
        { cause: error, status: error.status, body: error.body, retryable: false },
      );
    }
    // Sent. Confirming is best effort (the client retries it): unconfirmed, a retry of this key is refused, never sent.
    await setMarker(writeMarker({ armed: null, confirmed: [key, ...before.confirmed] })).catch(() => undefined);
    return { status: 'triggered' };
  }

  return {
    /** `EmailProvider.triggerJourney`: one trigger per address at a time within this provider. */
    triggerJourney(request: JourneyTriggerRequest): Promise<JourneyTriggerResult> {
      const address = normaliseEmail(request.message.email);
      const previous = running.get(address) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => trigger(request));
      running.set(address, next);
      const forget = () => {
        if (running.get(address) === next) running.delete(address);
      };
      next.then(forget, forget);
      return next;
    },
  };
}
