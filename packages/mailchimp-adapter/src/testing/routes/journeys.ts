/**
 * Customer Journeys: the API trigger of a journey step, the one Customer Journeys endpoint of the Marketing
 * API. The steps exist in the account (`sandbox.journeys.create`, or the sandbox options), as the owner makes
 * them in the journey builder with the "Customer Journeys API" starting point. A trigger sends the step's
 * email at once, rendered with the member's merge fields as they are at that moment; Mailchimp does not
 * dedupe triggers: the same member triggered twice gets the email twice.
 *
 * Answers: 204 on success; 404 for a journey or step the account does not have (the ids are integers), or an
 * address that is not a member of the journey's audience; 400 for a member who is not subscribed (a journey
 * sends only to subscribed contacts). The member is never added or changed.
 */
import { normaliseEmail, subscriberHash } from '../../subscriber-hash.js';
import { ApiProblem, notFound } from '../problem.js';
import type { SandboxRoute } from './context.js';

const integer = /^[1-9]\d{0,15}$/;

export const journeyRoutes: SandboxRoute[] = [
  {
    method: 'POST',
    path: '/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger',
    handle: ({ state }, { params, body }) => {
      const journeyId = integer.test(params.journey_id ?? '') ? Number(params.journey_id) : Number.NaN;
      const stepId = integer.test(params.step_id ?? '') ? Number(params.step_id) : Number.NaN;
      const step = state.journeyStep(journeyId, stepId);
      if (!step)
        throw notFound(
          `Journey ${params.journey_id} step ${params.step_id} does not exist or has no Customer Journeys API trigger.`,
        );
      const audience = state.audienceOf(step.listId);
      const email = normaliseEmail(String((body as { email_address: string }).email_address));
      const member = audience.members.get(subscriberHash(email));
      if (!member) throw notFound(`${email} is not a contact of the journey's audience.`);
      if (member.status !== 'subscribed')
        throw new ApiProblem(
          400,
          'Bad Request',
          `${email} is ${member.status}: a journey sends only to subscribed contacts of its audience.`,
        );
      const at = state.now();
      state.journeyTriggers.push({ journeyId, stepId, email, at });
      state.sendEmail(
        audience,
        member,
        step.html,
        {
          subject: step.subject ?? step.name ?? `Journey ${journeyId}`,
          from: `${step.fromName ?? audience.contact?.company ?? audience.name} <${step.replyTo ?? 'hello@sandbox.invalid'}>`,
          via: { kind: 'journey', journeyId, stepId },
        },
        `journey-${journeyId}-${stepId}`,
      );
      return null;
    },
  },
];
