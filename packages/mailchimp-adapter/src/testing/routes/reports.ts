/** A sent campaign's report: sends, opens, clicks and unsubscribes the test recorded through `actions`. */
import { reportJson } from '../responses.js';
import type { SandboxRoute } from './context.js';

export const reportRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/reports/{campaign_id}',
    handle: ({ state }, { params }) => reportJson(state.campaignOr404(params.campaign_id ?? '')),
  },
];
