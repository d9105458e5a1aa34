/**
 * Batch subscribe/update (POST /lists/{list_id}): up to 500 members in one call, each applied on its own;
 * a member that cannot be applied is reported in `errors` of a 200 answer, the others go in.
 */
import { normaliseEmail, subscriberHash } from '../../subscriber-hash.js';
import { invalidResource } from '../problem.js';
import { memberData, memberJson, tagsOf } from '../responses.js';
import { mailchimpTime, type MemberStatus, type SandboxAudience } from '../types.js';
import { emailPattern, MAX_BATCH, type SandboxContext, type SandboxRoute } from './context.js';

interface BatchRequest {
  members: Array<Record<string, unknown>>;
  update_existing?: boolean;
  sync_tags?: boolean;
}

type BatchError = { email_address: string; error: string; error_code: string; field?: string };

/** Applies one member of a batch: its JSON when it went in (`created` says whether it is new), else its error. */
function applyOne(
  { state, faults }: SandboxContext,
  audience: SandboxAudience,
  request: BatchRequest,
  item: Record<string, unknown>,
  at: Date,
): { created: boolean; json: unknown } | BatchError {
  const email = normaliseEmail(String(item.email_address ?? ''));
  const status = item.status as MemberStatus | undefined;
  const injected = faults.batchMemberErrorFor(email);
  if (injected !== undefined) return { email_address: email, error: injected, error_code: 'ERROR_GENERIC' };
  if (!emailPattern.test(email))
    return {
      email_address: email,
      error: `${email} looks fake or invalid, please enter a real email address.`,
      error_code: 'ERROR_GENERIC',
      field: 'email_address',
    };
  const existing = audience.members.get(subscriberHash(email));
  if (existing && request.update_existing !== true)
    return {
      email_address: email,
      error: `${email} is already a list member, do you want to update? please provide update_existing:true in the request body`,
      error_code: 'ERROR_CONTACT_EXISTS',
    };
  if (!existing && status === undefined)
    return {
      email_address: email,
      error: 'Please provide a status for the new member.',
      error_code: 'ERROR_GENERIC',
      field: 'status',
    };
  const refused = status === undefined ? null : state.refusal(audience, existing, email, status, 'api');
  if (refused) return { email_address: email, error: refused.detail, error_code: 'ERROR_GENERIC' };
  const member = existing ?? state.newMember(audience, String(item.email_address).trim(), status ?? 'subscribed', at);
  if (!existing && member.status === 'pending') audience.confirmationEmails.push(email);
  const fieldsChanged = state.applyMergeFields(
    audience,
    member,
    item.merge_fields as Record<string, unknown> | undefined,
  );
  if (existing && status !== undefined) state.setStatus(audience, member, status, 'api', at);
  if (fieldsChanged) member.last_changed = mailchimpTime(at);
  if (Array.isArray(item.tags)) {
    const wanted = new Set((item.tags as unknown[]).map(String));
    if (request.sync_tags === true)
      for (const tag of tagsOf(audience, member))
        if (!wanted.has(tag.name)) state.tagMember(audience, member, tag.name, false, at);
    for (const name of wanted) state.tagMember(audience, member, name, true, at);
  }
  if (!existing && member.status === 'subscribed')
    state.fire(audience, 'subscribe', 'api', memberData(audience, member), at);
  else if (fieldsChanged) state.fire(audience, 'profile', 'api', memberData(audience, member), at);
  return { created: !existing, json: memberJson(audience, member) };
}

export const batchRoutes: SandboxRoute[] = [
  {
    method: 'POST',
    path: '/lists/{list_id}',
    handle: (context, { params, body }) => {
      const audience = context.state.audienceOf(params.list_id);
      const request = body as BatchRequest;
      if (request.members.length > MAX_BATCH)
        throw invalidResource(`You can only add up to ${MAX_BATCH} members in a single request.`);
      const at = context.state.now();
      const created: unknown[] = [];
      const updated: unknown[] = [];
      const errors: BatchError[] = [];
      for (const item of request.members) {
        const outcome = applyOne(context, audience, request, item, at);
        if ('error' in outcome) errors.push(outcome);
        else (outcome.created ? created : updated).push(outcome.json);
      }
      return {
        new_members: created,
        updated_members: updated,
        errors,
        total_created: created.length,
        total_updated: updated.length,
        error_count: errors.length,
        _links: [],
      };
    },
  },
];
