/** One audience member at a time: add, read, upsert, update, archive, delete permanently, tag. */
import { normaliseEmail, subscriberHash } from '../../subscriber-hash.js';
import { ApiProblem, invalidResource, notFound } from '../problem.js';
import { memberData, memberJson } from '../responses.js';
import { mailchimpTime, type MemberStatus } from '../types.js';
import { emailPattern, paging, type SandboxContext, type SandboxRoute } from './context.js';

/** PUT (upsert) and PATCH (update) of a member, and POST's add: the status rules, merge fields, permissions. */
function updateMember(
  { state }: SandboxContext,
  listId: string | undefined,
  hash: string,
  body: Record<string, unknown>,
  upsert: boolean,
) {
  const audience = state.audienceOf(listId);
  const at = state.now();
  const email = normaliseEmail(String(body.email_address ?? ''));
  let member = audience.members.get(hash.toLowerCase());
  const created = member === undefined;
  if (!member && !upsert) throw notFound();
  if (body.email_address !== undefined && subscriberHash(email) !== hash.toLowerCase() && !member)
    throw invalidResource('The subscriber hash does not match the email address.');
  const requested = (member ? body.status : (body.status ?? body.status_if_new)) as MemberStatus | undefined;
  const refused =
    requested === undefined ? null : state.refusal(audience, member, member?.email_address ?? email, requested, 'api');
  if (refused) throw new ApiProblem(400, refused.title, refused.detail);
  if (!member) {
    if (!emailPattern.test(email))
      throw invalidResource(`${email} looks fake or invalid, please enter a real email address.`);
    member = state.newMember(audience, String(body.email_address).trim(), requested ?? 'subscribed', at);
    if (member.status === 'pending') audience.confirmationEmails.push(email);
  } else if (requested !== undefined) state.setStatus(audience, member, requested, 'api', at);
  // An existing member given another address moves to it (PATCH/PUT of the old hash), keeping its status.
  if (!created && body.email_address !== undefined && email !== member.email_address) {
    if (!emailPattern.test(email))
      throw invalidResource(`${email} looks fake or invalid, please enter a real email address.`);
    if (audience.forgotten.has(subscriberHash(email)))
      throw new ApiProblem(
        400,
        'Forgotten Email Not Subscribed',
        `${email} was permanently deleted and cannot be re-imported.`,
      );
    if (state.changeAddress(audience, member, email, 'api', at))
      throw new ApiProblem(400, 'Member Exists', `${email} is already a list member.`);
  }
  let changed = state.applyMergeFields(audience, member, body.merge_fields as Record<string, unknown> | undefined);
  const permissions = body.marketing_permissions as
    | Array<{ marketing_permission_id?: string; enabled?: boolean }>
    | undefined;
  for (const permission of permissions ?? []) {
    const held = member.marketing_permissions.find(
      (p) => p.marketing_permission_id === permission.marketing_permission_id,
    );
    if (!held)
      throw invalidResource(
        `Marketing permission ${permission.marketing_permission_id ?? '(none)'} does not exist on this audience.`,
      );
    if (permission.enabled !== undefined && held.enabled !== permission.enabled) {
      held.enabled = permission.enabled;
      changed = true;
    }
  }
  // A new subscribed member is a subscribe (its merge fields ride along), as in a batch; otherwise a profile change.
  if (created && member.status === 'subscribed') {
    if (changed) member.last_changed = mailchimpTime(at);
    state.fire(audience, 'subscribe', 'api', memberData(audience, member), at);
  } else if (changed) state.profileChanged(audience, member, 'api', at);
  return memberJson(audience, member);
}

export const memberRoutes: SandboxRoute[] = [
  {
    method: 'GET',
    path: '/lists/{list_id}/members',
    handle: ({ state }, { params, query }) => {
      const audience = state.audienceOf(params.list_id);
      const page = paging(query);
      const status = query.get('status');
      const since = query.get('since_last_changed');
      const sinceMs = since === null ? null : Date.parse(since);
      if (sinceMs !== null && Number.isNaN(sinceMs)) throw invalidResource('since_last_changed is not a valid date.');
      const all = [...audience.members.values()].filter(
        (m) => (status === null || m.status === status) && (sinceMs === null || Date.parse(m.last_changed) > sinceMs),
      );
      return {
        members: page.slice(all).map((m) => memberJson(audience, m)),
        list_id: audience.id,
        total_items: all.length,
        _links: [],
      };
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/members',
    handle: (context, { params, body }) => {
      const audience = context.state.audienceOf(params.list_id);
      const input = body as Record<string, unknown>;
      const email = String(input.email_address ?? '').trim();
      if (audience.members.has(subscriberHash(email)))
        throw new ApiProblem(
          400,
          'Member Exists',
          `${email} is already a list member. Use PUT to insert or update list members.`,
        );
      if (input.status === undefined)
        throw invalidResource('The resource submitted could not be validated: status is required.');
      return updateMember(context, audience.id, subscriberHash(email), { ...input, status_if_new: input.status }, true);
    },
  },
  {
    method: 'GET',
    path: '/lists/{list_id}/members/{subscriber_hash}',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      return memberJson(audience, state.memberOr404(audience, params.subscriber_hash ?? ''));
    },
  },
  {
    method: 'PUT',
    path: '/lists/{list_id}/members/{subscriber_hash}',
    handle: (context, { params, body }) =>
      updateMember(context, params.list_id, params.subscriber_hash ?? '', body as Record<string, unknown>, true),
  },
  {
    method: 'PATCH',
    path: '/lists/{list_id}/members/{subscriber_hash}',
    handle: (context, { params, body }) =>
      updateMember(context, params.list_id, params.subscriber_hash ?? '', body as Record<string, unknown>, false),
  },
  {
    // Archiving: the member stays, with status "archived".
    method: 'DELETE',
    path: '/lists/{list_id}/members/{subscriber_hash}',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      const member = state.memberOr404(audience, params.subscriber_hash ?? '');
      member.status = 'archived';
      member.last_changed = mailchimpTime(state.now());
      return null;
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/members/{subscriber_hash}/actions/delete-permanent',
    handle: ({ state }, { params }) => {
      const audience = state.audienceOf(params.list_id);
      state.eraseMember(audience, state.memberOr404(audience, params.subscriber_hash ?? ''), 'api');
      return null;
    },
  },
  {
    method: 'POST',
    path: '/lists/{list_id}/members/{subscriber_hash}/tags',
    handle: ({ state }, { params, body }) => {
      const audience = state.audienceOf(params.list_id);
      const member = state.memberOr404(audience, params.subscriber_hash ?? '');
      for (const tag of (body as { tags: Array<{ name: string; status: string }> }).tags)
        state.tagMember(audience, member, tag.name, tag.status === 'active', state.now());
      return null;
    },
  },
];
