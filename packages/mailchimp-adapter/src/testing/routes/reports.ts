/** A sent campaign's report: sends, opens, clicks and unsubscribes the test recorded through `actions`. */
import { reportJson } from '../responses.js';
import { paging, type SandboxRoute } from './context.js';

export const reportRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/reports/{campaign_id}',
    handle: ({ state }, { params }) => reportJson(state.campaignOr404(params.campaign_id ?? '')),
  },
  {
    method: 'GET',
    path: '/reports/{campaign_id}/email-activity',
    // Each recipient with what they did (`open`, `click`), as `actions.open` / `actions.click` recorded it.
    handle: ({ state }, { params, query }) => {
      const campaign = state.campaignOr404(params.campaign_id ?? '');
      const audience = state.audienceOf(campaign.list_id);
      const page = paging(query);
      const at = campaign.send_time ?? '';
      const emails = campaign.sentTo.map((hash) => ({
        campaign_id: campaign.id,
        list_id: audience.id,
        email_id: hash,
        email_address: audience.members.get(hash)?.email_address ?? '',
        activity: [
          ...campaign.opens.filter((h) => h === hash).map(() => ({ action: 'open', timestamp: at, ip: '' })),
          ...campaign.clicks.filter((h) => h === hash).map(() => ({ action: 'click', timestamp: at, ip: '', url: '' })),
        ],
      }));
      return { emails: page.slice(emails), campaign_id: campaign.id, total_items: emails.length, _links: [] };
    },
  },
];
