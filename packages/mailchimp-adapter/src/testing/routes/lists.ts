/** Audiences (lists) and their merge fields. */
import { invalidResource } from '../problem.js';
import { listJson, mergeFieldJson } from '../responses.js';
import type { SandboxMergeField } from '../types.js';
import { paging, type SandboxRoute } from './context.js';

export const listRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/lists',
    handle: ({ state }, { query }) => {
      const page = paging(query);
      const all = [...state.audiences.values()];
      return {
        lists: page.slice(all).map(listJson),
        total_items: all.length,
        constraints: { may_create: true, max_instances: 100, current_total_instances: all.length },
        _links: [],
      };
    },
  },
  {
    method: 'GET',
    path: '/lists/{list_id}',
    handle: ({ state }, { params }) => listJson(state.audienceOf(params.list_id)),
  },
  {
    method: 'GET',
    path: '/lists/{list_id}/merge-fields',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      const fields = [...audience.mergeFields.values()].map((field) => mergeFieldJson(audience, field));
      return { merge_fields: fields, list_id: audience.id, total_items: fields.length, _links: [] };
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/merge-fields',
    handle: ({ state }, { params, body }) => {
      const audience = state.audienceOf(params.list_id);
      const input = body as {
        tag?: string;
        name: string;
        type: string;
        required?: boolean;
        public?: boolean;
        default_value?: string;
      };
      const tag = (input.tag ?? `MMERGE${audience.mergeFields.size + 1}`).toUpperCase();
      if (!/^[A-Z][A-Z0-9_]{0,9}$/.test(tag))
        throw invalidResource(`The merge tag "${tag}" is invalid: at most 10 letters, digits or underscores.`);
      if (audience.mergeFields.has(tag))
        throw invalidResource(`A Merge Field with the tag "${tag}" already exists for this list.`);
      const field: SandboxMergeField = {
        merge_id: state.nextMergeId(),
        tag,
        name: input.name,
        type: input.type,
        required: input.required ?? false,
        public: input.public ?? false,
        default_value: input.default_value ?? '',
      };
      audience.mergeFields.set(tag, field);
      for (const member of audience.members.values()) member.merge_fields[tag] ??= '';
      return mergeFieldJson(audience, field);
    },
  },
];
