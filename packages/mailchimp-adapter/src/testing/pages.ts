/**
 * The member-facing pages Mailchimp's emails link to, on its list-manage host: `*|UNSUB|*` opens
 * `/unsubscribe?u=…&id=<list>&e=<unique email id>&c=<campaign>`, a page naming the address with one button;
 * the button posts to `/unsubscribe/post`, which unsubscribes the member (source `user`, reason `manual`, the
 * campaign counted) and fires the `unsubscribe` webhook as Mailchimp does, then confirms. `*|UPDATE_PROFILE|*`
 * opens `/profile?…`, where the member edits their name (`/profile/post`, the `profile` webhook). A link that
 * names no member answers 404; nothing is changed by a GET.
 */
import { escapeHtml } from '../campaign/template.js';
import type { SandboxState } from './state.js';
import type { SandboxAudience, SandboxMember } from './types.js';

/** The pages' answer to `request`, or null when it is not one of them (another handler may answer it). */
export type ListManagePages = (request: Request) => Promise<Response | null>;

function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;color:#241c15;background:#f6f6f4;margin:0;padding:24px}
main{max-width:480px;margin:0 auto;background:#fff;padding:24px;border-radius:8px}
button{background:#007c89;color:#fff;border:0;border-radius:4px;padding:10px 18px;font-size:16px;cursor:pointer}
input{font-size:16px;padding:6px;width:100%;box-sizing:border-box;margin:4px 0 12px}
.small{font-size:12px;color:#6b6b6b}</style></head>
<body><main>${body}<p class="small">Mailchimp sandbox (list-manage pages)</p></main></body>
</html>
`;
  return new Response(html, { status, headers: { 'content-type': 'text/html; charset=utf-8' } });
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
}

export function createListManagePages(state: SandboxState, baseUrl: () => string): ListManagePages {
  /** The audience and member a link names, with the campaign it came from. */
  function target(fields: URLSearchParams): { audience: SandboxAudience; member: SandboxMember; c: string } | null {
    const audience = state.audiences.get(fields.get('id') ?? '');
    const e = fields.get('e') ?? '';
    const member = audience && e !== '' ? [...audience.members.values()].find((m) => m.unique_email_id === e) : null;
    return audience && member ? { audience, member, c: fields.get('c') ?? '' } : null;
  }

  const notFoundPage = () =>
    page(404, 'Not found', '<h1>We could not find you</h1><p>This link names no contact of this audience.</p>');

  return async (request) => {
    const base = baseUrl().replace(/\/+$/, '');
    if (!request.url.startsWith(`${base}/`)) return null;
    const url = new URL(request.url);
    const path = url.pathname.slice(new URL(base).pathname.replace(/\/+$/, '').length);
    const method = request.method.toUpperCase();
    const known = ['/unsubscribe', '/unsubscribe/post', '/profile', '/profile/post'];
    if (!known.includes(path)) return null;
    const fields = method === 'POST' ? new URLSearchParams(await request.text()) : url.searchParams;
    const found = target(fields);
    if (!found) return notFoundPage();
    const { audience, member, c } = found;
    const link = { u: fields.get('u') ?? 'sandbox', id: audience.id, e: member.unique_email_id, c };
    const who = escapeHtml(member.email_address);
    const list = escapeHtml(audience.contact?.company ?? audience.name);

    if (path === '/unsubscribe' && method === 'GET') {
      if (member.status === 'unsubscribed')
        return page(200, 'Unsubscribe', `<h1>Already unsubscribed</h1><p>${who} is not on ${list}'s list.</p>`);
      return page(
        200,
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Unsubscribe <strong>${who}</strong> from ${list}'s list?</p>
<form method="post" action="${escapeHtml(`${base}/unsubscribe/post`)}">${hidden(link)}<button type="submit">Unsubscribe</button></form>`,
      );
    }
    if (path === '/unsubscribe/post' && method === 'POST') {
      if (member.status !== 'unsubscribed') {
        state.setStatus(audience, member, 'unsubscribed', 'user', state.now(), {
          reason: 'manual',
          ...(c !== '' ? { campaignId: c } : {}),
        });
        state.campaigns.get(c)?.unsubscribes.push(member.id);
      }
      return page(
        200,
        'Unsubscribe successful',
        `<h1>Unsubscribe successful</h1><p>You have been removed from ${list}'s list: ${who} will get no more emails from it.</p>`,
      );
    }
    if (path === '/profile' && method === 'GET') {
      const value = (tag: string) => escapeHtml(member.merge_fields[tag] ?? '');
      return page(
        200,
        'Update profile',
        `<h1>Update your profile</h1><p>${who}, on ${list}'s list.</p>
<form method="post" action="${escapeHtml(`${base}/profile/post`)}">${hidden(link)}
<label>First name <input name="FNAME" value="${value('FNAME')}"></label>
<label>Last name <input name="LNAME" value="${value('LNAME')}"></label>
<button type="submit">Update profile</button></form>`,
      );
    }
    if (path === '/profile/post' && method === 'POST') {
      const changes: Record<string, string> = {};
      for (const tag of ['FNAME', 'LNAME']) {
        const value = fields.get(tag);
        if (value !== null) changes[tag] = value.trim();
      }
      if (state.applyMergeFields(audience, member, changes))
        state.profileChanged(audience, member, 'user', state.now());
      return page(200, 'Profile updated', `<h1>Profile updated</h1><p>Thank you, ${who}.</p>`);
    }
    return page(405, 'Method not allowed', '<h1>Method not allowed</h1>');
  };
}
