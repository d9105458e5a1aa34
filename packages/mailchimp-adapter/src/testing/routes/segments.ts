/** Static segments (tags are static segments too): list, create, add and remove members. */
import { subscriberHash } from '../../subscriber-hash.js';
import { invalidResource, notFound } from '../problem.js';
import { memberJson, segmentJson } from '../responses.js';
import { mailchimpTime } from '../types.js';
import { MAX_BATCH, paging, type SandboxRoute } from './context.js';

export const segmentRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/lists/{list_id}/segments',
    handle: ({ state }, { params, query }) => {
      const audience = state.audienceOf(params.list_id);
      const type = query.get('type');
      const page = paging(query);
      const all = [...audience.segments.values()].filter((s) => type === null || s.type === type);
      return {
        segments: page.slice(all).map((s) => segmentJson(audience, s)),
        list_id: audience.id,
        total_items: all.length,
        _links: [],
      };
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/segments',
    handle: ({ state }, { params, body }) => {
      const audience = state.audienceOf(params.list_id);
      const input = body as { name: string; static_segment?: string[] };
      if (input.static_segment === undefined)
        throw invalidResource('The sandbox only supports static segments (static_segment).');
      if ([...audience.segments.values()].some((s) => s.name === input.name))
        throw invalidResource(`A segment named "${input.name}" already exists.`);
      const segment = state.addSegment(audience, input.name, state.now());
      for (const email of input.static_segment) {
        const hash = subscriberHash(email);
        if (audience.members.has(hash)) segment.members.add(hash);
      }
      return segmentJson(audience, segment);
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/segments/{segment_id}',
    handle: ({ state }, { params, body }) => {
      const audience = state.audienceOf(params.list_id);
      const segment = audience.segments.get(Number(params.segment_id));
      if (!segment) throw notFound('The requested segment could not be found.');
      const input = body as { members_to_add?: string[]; members_to_remove?: string[] };
      if ((input.members_to_add?.length ?? 0) > MAX_BATCH || (input.members_to_remove?.length ?? 0) > MAX_BATCH)
        throw invalidResource(`You can add or remove at most ${MAX_BATCH} members at a time.`);
      const added: unknown[] = [];
      const removed: unknown[] = [];
      const missing: string[] = [];
      for (const email of input.members_to_add ?? []) {
        const member = audience.members.get(subscriberHash(email));
        if (!member) missing.push(email);
        else if (!segment.members.has(member.id)) {
          segment.members.add(member.id);
          added.push(memberJson(audience, member));
        }
      }
      for (const email of input.members_to_remove ?? []) {
        const member = audience.members.get(subscriberHash(email));
        if (member && segment.members.delete(member.id)) removed.push(memberJson(audience, member));
      }
      segment.updated_at = mailchimpTime(state.now());
      const errors =
        missing.length > 0 ? [{ email_addresses: missing, error: 'Email addresses do not belong to this list' }] : [];
      return {
        members_added: added,
        members_removed: removed,
        errors,
        total_added: added.length,
        total_removed: removed.length,
        error_count: missing.length,
        _links: [],
      };
    },
  },
];
