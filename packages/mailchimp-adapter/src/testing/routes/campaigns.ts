/**
 * Regular campaigns: create for an audience (optionally a saved segment), set the HTML, send. A send is
 * refused, like Mailchimp's checklist, without an unsubscribe link, the audience's postal address, the
 * subject/from/reply-to settings, or a subscribed recipient. A send renders each recipient's email and keeps it
 * (`sandbox.emails()`).
 */
import { randomBytes } from 'node:crypto';
import { ApiProblem, invalidResource } from '../problem.js';
import { campaignJson } from '../responses.js';
import type { SandboxState } from '../state.js';
import { mailchimpTime, type SandboxCampaign } from '../types.js';
import { renderMergeTags } from '../../campaign/merge-tags.js';
import { paging, type SandboxRoute } from './context.js';

function render(state: SandboxState, campaign: SandboxCampaign) {
  return campaignJson(campaign, state.recipientsOf(campaign).length);
}

export const campaignRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/campaigns',
    handle: ({ state }, { query }) => {
      const listId = query.get('list_id');
      const page = paging(query);
      const all = [...state.campaigns.values()].filter((c) => listId === null || c.list_id === listId);
      return { campaigns: page.slice(all).map((c) => render(state, c)), total_items: all.length, _links: [] };
    },
  },
  {
    method: 'POST',
    path: '/campaigns',
    handle: ({ state }, { body }) => {
      const input = body as {
        type: string;
        recipients?: { list_id: string; segment_opts?: { saved_segment_id?: number } };
        settings?: SandboxCampaign['settings'];
      };
      if (!input.recipients) throw invalidResource('A campaign needs recipients.list_id.');
      const audience = state.audienceOf(input.recipients.list_id);
      const segmentId = input.recipients.segment_opts?.saved_segment_id ?? null;
      if (segmentId !== null && !audience.segments.has(segmentId))
        throw invalidResource(`Segment ${segmentId} does not exist on list ${audience.id}.`);
      const campaign: SandboxCampaign = {
        id: randomBytes(5).toString('hex'),
        web_id: state.nextWebId(),
        type: input.type,
        status: 'save',
        create_time: mailchimpTime(state.now()),
        send_time: null,
        list_id: audience.id,
        segment_id: segmentId,
        settings: { ...input.settings },
        html: null,
        sentTo: [],
        opens: [],
        clicks: [],
        unsubscribes: [],
      };
      state.campaigns.set(campaign.id, campaign);
      return render(state, campaign);
    },
  },
  {
    method: 'GET',
    path: '/campaigns/{campaign_id}',
    handle: ({ state }, { params }) => render(state, state.campaignOr404(params.campaign_id ?? '')),
  },
  {
    method: 'PUT',
    path: '/campaigns/{campaign_id}/content',
    handle: ({ state }, { params, body }) => {
      const campaign = state.campaignOr404(params.campaign_id ?? '');
      if (campaign.status !== 'save')
        throw new ApiProblem(400, 'Bad Request', 'The content of a sent campaign cannot be changed.');
      campaign.html = (body as { html?: string }).html ?? null;
      return { html: campaign.html ?? '', plain_text: '', _links: [] };
    },
  },
  {
    method: 'POST',
    path: '/campaigns/{campaign_id}/actions/send',
    handle: ({ state }, { params }) => {
      const campaign = state.campaignOr404(params.campaign_id ?? '');
      if (campaign.status !== 'save') throw new ApiProblem(400, 'Bad Request', 'This campaign has already been sent.');
      const audience = state.audienceOf(campaign.list_id);
      const problems: string[] = [];
      if (!campaign.html) problems.push('the campaign has no content');
      else if (!campaign.html.includes('*|UNSUB|*')) problems.push('the content has no *|UNSUB|* unsubscribe link');
      if (!audience.contact?.address1)
        problems.push('the audience has no postal address (*|LIST:ADDRESSLINE|*) — required by anti-spam law');
      for (const key of ['subject_line', 'from_name', 'reply_to'] as const)
        if (!campaign.settings[key]) problems.push(`settings.${key} is missing`);
      const recipients = state.recipientsOf(campaign);
      if (recipients.length === 0) problems.push('the segment has no subscribed members');
      if (problems.length > 0)
        throw new ApiProblem(400, 'Bad Request', `Your Campaign is not ready to send. ${problems.join('; ')}.`, {
          errors: problems,
        });
      campaign.status = 'sent';
      campaign.send_time = mailchimpTime(state.now());
      campaign.sentTo = recipients.map((m) => m.id);
      // Each recipient's email is rendered now, from their merge fields as they are at the send.
      for (const member of recipients)
        state.sendEmail(
          audience,
          member,
          campaign.html ?? '',
          {
            subject: campaign.settings.subject_line ?? '',
            from: `${campaign.settings.from_name ?? ''} <${campaign.settings.reply_to ?? ''}>`,
            via: { kind: 'campaign', campaignId: campaign.id },
          },
          campaign.id,
        );
      state.fire(
        audience,
        'campaign',
        'system',
        {
          id: campaign.id,
          subject: campaign.settings.subject_line ?? '',
          status: 'sent',
          reason: '',
          list_id: audience.id,
        },
        state.now(),
      );
      return null;
    },
  },
  {
    method: 'POST',
    path: '/campaigns/{campaign_id}/actions/test',
    // Mailchimp's "send a test": to up to six addresses, of a campaign that has content and its settings; the
    // recipients need not be members, and the audience's reports never count it.
    handle: ({ state }, { params, body }) => {
      const campaign = state.campaignOr404(params.campaign_id ?? '');
      const input = body as { test_emails?: unknown; send_type?: unknown };
      const to = Array.isArray(input.test_emails) ? input.test_emails : [];
      const problems: string[] = [];
      if (to.length === 0) problems.push('test_emails must list at least one address');
      if (to.length > 6) problems.push('a test goes to at most 6 addresses');
      for (const address of to)
        if (typeof address !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address))
          problems.push(`${String(address)} is not a valid email address`);
      if (input.send_type !== 'html' && input.send_type !== 'plaintext')
        problems.push('send_type must be html or plaintext');
      if (!campaign.html) problems.push('the campaign has no content');
      for (const key of ['subject_line', 'from_name', 'reply_to'] as const)
        if (!campaign.settings[key]) problems.push(`settings.${key} is missing`);
      if (problems.length > 0)
        throw new ApiProblem(400, 'Bad Request', `Your test email could not be sent. ${problems.join('; ')}.`, {
          errors: problems,
        });
      const audience = state.audienceOf(campaign.list_id);
      for (const address of to as string[])
        state.testEmails.push({
          campaignId: campaign.id,
          to: address,
          subject: campaign.settings.subject_line ?? '',
          fromName: campaign.settings.from_name ?? '',
          replyTo: campaign.settings.reply_to ?? '',
          html: renderMergeTags(campaign.html ?? '', {
            merge: {},
            system: {
              'LIST:NAME': audience.name,
              'LIST:COMPANY': audience.contact?.company ?? '',
              'LIST:ADDRESSLINE': [audience.contact?.address1, audience.contact?.city, audience.contact?.country]
                .filter((p) => p)
                .join(', '),
              UNSUB: 'https://sandbox.list-manage.com/unsubscribe?test=1',
              EMAIL: address,
            },
          }),
          at: state.now(),
        });
      return null;
    },
  },
  {
    method: 'DELETE',
    path: '/campaigns/{campaign_id}',
    handle: ({ state }, { params }) => {
      const campaign = state.campaignOr404(params.campaign_id ?? '');
      state.campaigns.delete(campaign.id);
      return null;
    },
  },
];
