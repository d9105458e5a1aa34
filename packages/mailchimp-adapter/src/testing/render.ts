/**
 * Mailchimp's merge language, as far as Tactful's campaigns use it: `*|TAG|*` values,
 * `*|IF:TAG|* … *|ELSE:|* … *|END:IF|*` blocks (true when the value is not empty), and the system tags
 * `*|UNSUB|*`, `*|UPDATE_PROFILE|*`, `*|LIST:ADDRESSLINE|*`, `*|LIST:COMPANY|*`, `*|LIST:NAME|*`, `*|EMAIL|*`.
 * Unknown tags are left as written, so a test sees a tag nobody filled.
 */
import { renderMergeTags } from '../campaign/merge-tags.js';
import type { SandboxAudience, SandboxMember } from './types.js';

export { renderMergeTags, type RenderContext } from '../campaign/merge-tags.js';

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
