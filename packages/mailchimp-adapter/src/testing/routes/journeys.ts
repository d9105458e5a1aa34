/** Customer Journeys: the API trigger of a journey step (the steps are configured in the sandbox options). */
import { normaliseEmail, subscriberHash } from '../../subscriber-hash.js';
import { ApiProblem, notFound } from '../problem.js';
import type { SandboxRoute } from './context.js';

export const journeyRoutes: SandboxRoute[] = [
  {
    method: 'POST',
    path: '/customer-journeys/journeys/{journey_id}/steps/{step_id}/actions/trigger',
    handle: ({ state, journeys }, { params, body }) => {
      const journeyId = Number(params.journey_id);
      const stepId = Number(params.step_id);
      const step = journeys.find((j) => j.journeyId === journeyId && j.stepId === stepId);
      if (!step) throw notFound(`Journey ${journeyId} step ${stepId} does not exist or has no API trigger.`);
      const email = normaliseEmail(String((body as { email_address: string }).email_address));
      const member = state.audienceOf(step.listId).members.get(subscriberHash(email));
      if (member?.status !== 'subscribed')
        throw new ApiProblem(400, 'Bad Request', `${email} is not a subscribed member of the journey's audience.`);
      state.journeyTriggers.push({ journeyId, stepId, email });
      return null;
    },
  },
];
