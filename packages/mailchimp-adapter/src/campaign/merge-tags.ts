/**
 * Mailchimp's merge language, as far as Tactful's campaigns use it: `*|TAG|*` values,
 * `*|IF:TAG|* … *|ELSE:|* … *|END:IF|*` blocks (true when the value is not empty), and the system tags
 * `*|UNSUB|*`, `*|UPDATE_PROFILE|*`, `*|LIST:ADDRESSLINE|*`, `*|LIST:COMPANY|*`, `*|LIST:NAME|*`, `*|EMAIL|*`.
 * Unknown tags are left as written, so a test sees a tag nobody filled. The sandbox renders every email with
 * it; the adapter fills a test email's own values with it and leaves the system tags to Mailchimp.
 */
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
