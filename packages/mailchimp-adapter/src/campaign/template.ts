/**
 * Tactful's related-product email, written in Mailchimp's merge language so Mailchimp fills it per
 * member: up to three products (`*|P1_TITLE|*`, `*|P1_URL|*`, `*|P1_IMG|*`, `*|P1_PRICE|*`, …), the
 * reason line, the "you agreed on DATE (clause, version)" line, the preference-centre link, `*|UNSUB|*`
 * and the audience's postal address `*|LIST:ADDRESSLINE|*`. Empty product slots vanish through
 * `*|IF:…|*` blocks. Tactful decides every line (`CampaignContent`); this file only lays them out.
 */
import type { CampaignContent } from '@tactful/core';

export const MAX_PRODUCTS = 3;

export interface CampaignMergeTags {
  reason: string;
  /** The whole "you receive this because you agreed on DATE (clause, version)" line. */
  consent: string;
  prefsUrl: string;
  /** The journey trigger's idempotency marker (default `TF_JOURNEY`): see `campaign/journey.ts`. */
  journeyKey?: string | undefined;
}

export const defaultMergeTags: CampaignMergeTags = { reason: 'REASON', consent: 'CONSENT', prefsUrl: 'PREFS_URL' };

/** A merge field the adapter creates on the audience when it is missing. */
export interface MergeFieldSpec {
  tag: string;
  name: string;
  type: 'text' | 'url' | 'imageurl';
}

/** The merge fields a campaign needs on the audience (created when missing). */
export function campaignMergeFields(tags: CampaignMergeTags = defaultMergeTags): MergeFieldSpec[] {
  const fields: MergeFieldSpec[] = [];
  for (let n = 1; n <= MAX_PRODUCTS; n += 1) {
    fields.push(
      { tag: `P${n}_TITLE`, name: `Tactful product ${n} title`, type: 'text' },
      { tag: `P${n}_URL`, name: `Tactful product ${n} URL`, type: 'url' },
      { tag: `P${n}_IMG`, name: `Tactful product ${n} image`, type: 'imageurl' },
      { tag: `P${n}_PRICE`, name: `Tactful product ${n} price`, type: 'text' },
    );
  }
  fields.push(
    { tag: tags.reason, name: 'Tactful reason line', type: 'text' },
    { tag: tags.consent, name: 'Tactful consent line', type: 'text' },
    { tag: tags.prefsUrl, name: 'Tactful preference centre', type: 'url' },
  );
  return fields;
}

/** What makes one recipient's content unsendable (no product, no reason or consent line); empty when it is sendable. */
export function contentProblems(content: CampaignContent): string[] {
  const problems: string[] = [];
  if (content.products.length === 0) problems.push('has no product');
  if (!content.reason.trim() || !content.consentLine.trim()) problems.push('has no reason or consent line');
  return problems;
}

/** The merge values for one recipient, keyed by merge tag. */
export function campaignFieldsFor(
  content: CampaignContent,
  tags: CampaignMergeTags = defaultMergeTags,
): Record<string, string> {
  const fields: Record<string, string> = {};
  for (let n = 1; n <= MAX_PRODUCTS; n += 1) {
    const product = content.products[n - 1];
    fields[`P${n}_TITLE`] = product?.title ?? '';
    fields[`P${n}_URL`] = product?.url ?? '';
    fields[`P${n}_IMG`] = product?.imageUrl ?? '';
    fields[`P${n}_PRICE`] = product?.price ?? '';
  }
  fields[tags.reason] = content.reason;
  fields[tags.consent] = content.consentLine;
  fields[tags.prefsUrl] = content.preferencesUrl;
  return fields;
}

/** Text made safe inside HTML (element content and double-quoted attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface CampaignTemplateOptions {
  storeName: string;
  heading?: string;
  tags?: CampaignMergeTags;
  /** A line shown above everything else (a test email says so here). */
  note?: string;
}

export function renderCampaignHtml(options: CampaignTemplateOptions): string {
  const tags = options.tags ?? defaultMergeTags;
  const store = escapeHtml(options.storeName);
  const heading = escapeHtml(options.heading ?? 'Picked for you');
  const product = (n: number) => `*|IF:P${n}_TITLE|*
      <tr><td style="padding:12px 0;border-top:1px solid #eee">
        *|IF:P${n}_IMG|*<a href="*|P${n}_URL|*"><img src="*|P${n}_IMG|*" alt="*|P${n}_TITLE|*" width="120" style="display:block;border:0"></a>*|END:IF|*
        <p style="margin:8px 0 0"><a href="*|P${n}_URL|*" style="color:#1a1a1a;font-weight:bold">*|P${n}_TITLE|*</a></p>
        *|IF:P${n}_PRICE|*<p style="margin:4px 0 0;color:#555">*|P${n}_PRICE|*</p>*|END:IF|*
      </td></tr>
      *|END:IF|*`;
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${heading}</title></head>
<body style="margin:0;padding:0;font-family:Helvetica,Arial,sans-serif;color:#1a1a1a">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
    <table role="presentation" width="560" cellpadding="0" cellspacing="0" style="max-width:560px;padding:24px">
      ${options.note ? `<tr><td><p class="tactful-test-note" style="margin:0 0 16px;padding:8px 12px;background:#fff4d6;border:1px solid #e0b400;font-weight:bold">${escapeHtml(options.note)}</p></td></tr>` : ''}
      <tr><td><h1 style="font-size:22px;margin:0 0 8px">${heading}</h1>
        <p class="tactful-reason" style="margin:0 0 16px">*|${tags.reason}|*</p></td></tr>
      ${[1, 2, 3].map(product).join('\n      ')}
      <tr><td style="padding-top:24px;font-size:12px;color:#777">
        <p class="tactful-agreed">*|${tags.consent}|*</p>
        <p><a href="*|${tags.prefsUrl}|*">Choose what we may use and send</a> · <a href="*|UNSUB|*">Unsubscribe</a></p>
        <p>${store} · *|LIST:ADDRESSLINE|*</p>
      </td></tr>
    </table>
  </td></tr></table>
</body>
</html>
`;
}
