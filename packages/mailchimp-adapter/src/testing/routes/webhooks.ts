/** An audience's webhooks: list, create (after Mailchimp's verification GET), delete. */
import { randomBytes } from 'node:crypto';
import { invalidResource, notFound } from '../problem.js';
import { webhookJson } from '../responses.js';
import type { SandboxWebhook } from '../types.js';
import type { SandboxRoute } from './context.js';

export const webhookRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/lists/{list_id}/webhooks',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      return {
        webhooks: audience.webhooks.map((hook) => webhookJson(audience, hook)),
        list_id: audience.id,
        total_items: audience.webhooks.length,
        _links: [],
      };
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/webhooks',
    handle: async ({ state, webhooks }, { params, body }) => {
      const audience = state.audienceOf(params.list_id);
      const input = body as {
        url?: string;
        events?: Partial<SandboxWebhook['events']>;
        sources?: Partial<SandboxWebhook['sources']>;
      };
      if (!input.url || !/^https?:\/\//.test(input.url))
        throw invalidResource('The webhook url must be an absolute http(s) URL.');
      // Mailchimp checks the URL with a GET before it saves the webhook.
      const status = await webhooks.verify(input.url);
      if (status !== 200)
        throw invalidResource(
          `The resource submitted could not be validated: we couldn't verify the URL ${input.url} (GET answered ${status}).`,
        );
      const hook: SandboxWebhook = {
        id: randomBytes(5).toString('hex'),
        url: input.url,
        events: {
          subscribe: false,
          unsubscribe: false,
          profile: false,
          cleaned: false,
          upemail: false,
          campaign: false,
          ...input.events,
        },
        sources: { user: false, admin: false, api: false, ...input.sources },
      };
      audience.webhooks.push(hook);
      return webhookJson(audience, hook);
    },
  },
  {
    method: 'DELETE',
    path: '/lists/{list_id}/webhooks/{webhook_id}',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      const index = audience.webhooks.findIndex((w) => w.id === params.webhook_id);
      if (index < 0) throw notFound();
      audience.webhooks.splice(index, 1);
      return null;
    },
  },
];
