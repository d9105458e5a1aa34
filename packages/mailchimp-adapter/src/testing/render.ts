/**
 * Mailchimp's merge language, as far as Tactful's campaigns use it: `*|TAG|*` values,
 * `*|IF:TAG|* … *|ELSE:|* … *|END:IF|*` blocks (true when the value is not empty), and the system tags
 * `*|UNSUB|*`, `*|UPDATE_PROFILE|*`, `*|LIST:ADDRESSLINE|*`, `*|LIST:COMPANY|*`, `*|LIST:NAME|*`, `*|EMAIL|*`.
 * Unknown tags are left as written, so a test sees a tag nobody filled.
 */
import type { SandboxAudience, SandboxMember } from './types.js';

export interface RenderContext {
  /** Merge values by tag (already restricted to the tags the audience defines). */
  merge: Record<string, string>;
  system: Record<string, string>;
}

const ifBlock = /\*\|IF:([A-Z0-9_]+)\|\*((?:(?!\*\|IF:)[\s\S])*?)\*\|END:IF\|\*/;

export function renderMergeTags(html: string, context: RenderContext): string {
  const tagValue = (tag: string): string | undefined => context.system[tag] ?? context.merge[tag];
  let out = html;
  // Innermost IF blocks first, until none is left.
  for (let match = ifBlock.exec(out); match; match = ifBlock.exec(out)) {
    const [whole, tag = '', body = ''] = match;
    const [whenTrue = '', whenFalse = ''] = body.split('*|ELSE:|*');
    const value = tagValue(tag);
    out = out.replace(whole, value !== undefined && value !== '' ? whenTrue : whenFalse);
  }
  return out.replace(/\*\|([A-Z0-9_:]+)\|\*/g, (whole, tag: string) => {
    const value = tagValue(tag);
    if (value !== undefined) return value;
    return tag in context.merge ? '' : whole;
  });
}

/**
 * The HTML `member` of `audience` gets: merge values from the member (empty for fields without one), the
 * audience's address and name, and Mailchimp's links for unsubscribe and profile on the list-manage pages at
 * `listManageUrl` (`https://<dc>.list-manage.com`, or where the sandbox serves them).
 */
export function renderForMember(
  html: string,
  audience: SandboxAudience,
  member: SandboxMember,
  campaignId: string,
  listManageUrl: string,
): string {
  const contact = audience.contact;
  const addressLine = contact
    ? [
        contact.company,
        contact.address1,
        contact.address2,
        contact.city,
        `${contact.state} ${contact.zip}`.trim(),
        contact.country,
      ]
        .filter((p) => p !== undefined && p !== '')
        .join(', ')
    : '';
  const listManage = listManageUrl.replace(/\/+$/, '');
  const query = listManageQuery(audience, member, campaignId);
  return renderMergeTags(html, {
    merge: { ...Object.fromEntries([...audience.mergeFields.keys()].map((t) => [t, ''])), ...member.merge_fields },
    system: {
      EMAIL: member.email_address,
      UNSUB: `${listManage}/unsubscribe?${query}`,
      UPDATE_PROFILE: `${listManage}/profile?${query}`,
      'LIST:ADDRESSLINE': addressLine,
      'LIST:COMPANY': contact?.company ?? '',
      'LIST:NAME': audience.name,
    },
  });
}

/** The query of Mailchimp's list-manage links: account (`u`), audience (`id`), member (`e`), campaign (`c`). */
export function listManageQuery(audience: SandboxAudience, member: SandboxMember, campaignId: string): string {
  const params = new URLSearchParams({ u: 'sandbox', id: audience.id, e: member.unique_email_id, c: campaignId });
  return params.toString();
}
