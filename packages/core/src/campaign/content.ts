/**
 * What one related-product email says, decided here once for every provider and every preview: up to three
 * products with UTM-tagged links, a reason line that is true of the person, the line naming the consent
 * they gave (date, clause, version), and their preference-centre and unsubscribe links.
 */
import { consentViewOf, unsubscribeToken, type PurposeConsentView } from '../consent/service.js';
import { listPurposes } from '../consent/purposes.js';
import { preferencesToken } from '../consent/tokens.js';
import type { ShopContext } from '../shop/context.js';
import type { CampaignContent, CampaignProductContent, CampaignSender } from '../ports.js';
import type { ExplainedRecommendation } from '../recommend/service.js';
import { webUrl } from '../profile/web-url.js';
import { dateTimeFormat } from '../shop/intl.js';
import { formatMoney } from '../shop/money.js';

export const MAX_CAMPAIGN_PRODUCTS = 3;

type Reason = ExplainedRecommendation['reasons'][number];

/** A reason that is about this person (a purchase or a declaration), not mere popularity. */
export function isPersonalReason(reason: Reason): boolean {
  return reason.kind !== 'popular' && reason.kind !== 'popular-in-category';
}

/** Joins words as prose: "A", "A and B", "A, B and C". */
export function listJoin(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/**
 * The reason line for the products shown: every product's strongest personal reason, grouped ("Because you
 * bought Coffee and Whole milk, and you told us you like Tea."). Only reasons of shown products appear.
 */
export function reasonLine(shown: readonly ExplainedRecommendation[]): string {
  const bought: string[] = [];
  const told: string[] = [];
  for (const rec of shown) {
    const reason = rec.reasons.find(isPersonalReason);
    if (!reason) continue;
    if (reason.kind === 'bought-with') {
      const title = reason.becauseTitle ?? reason.because;
      if (!bought.includes(title)) bought.push(title);
    } else if ('category' in reason && typeof reason.category === 'string') {
      if (!told.includes(reason.category)) told.push(reason.category);
    }
  }
  const parts: string[] = [];
  if (bought.length > 0) parts.push(`you bought ${listJoin(bought)}`);
  if (told.length > 0) parts.push(`you told us you like ${listJoin(told)}`);
  if (parts.length === 0) return '';
  return `Because ${parts.join(', and ')}.`;
}

export function formatConsentDate(date: Date, locale = 'en-GB'): string {
  return dateTimeFormat(locale, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(date);
}

/** "You receive this because you agreed to email offers on 12 March 2026 (clause 4.2, version 3)." */
export function consentLine(
  view: Pick<PurposeConsentView, 'since' | 'clause' | 'version'>,
  purposeTitle: string,
): string {
  const when = view.since ? ` on ${formatConsentDate(view.since)}` : '';
  const clause = /^[\d.§\s]+$/.test(view.clause) ? view.clause.trim() : `"${view.clause}"`;
  const terms = [view.clause ? `clause ${clause}` : '', view.version ? `version ${view.version}` : '']
    .filter(Boolean)
    .join(', ');
  return `You receive this because you agreed to ${purposeTitle.toLowerCase()}${when}${terms ? ` (${terms})` : ''}.`;
}

/** The product link with the campaign's UTM parameters (existing query kept, UTM values replaced). */
export function utmLink(base: string, campaign: string, productId: string): string {
  const url = new URL(base);
  url.searchParams.set('utm_source', 'tactful');
  url.searchParams.set('utm_medium', 'email');
  url.searchParams.set('utm_campaign', campaign);
  url.searchParams.set('utm_content', productId);
  return url.toString();
}

export function productContent(
  rec: ExplainedRecommendation,
  campaign: string,
  shopUrl: string,
  currency = 'USD',
): CampaignProductContent {
  const p = rec.product;
  // Checked again here, not only at ingest: rows stored before the check, or a catalogue written by other code,
  // must not put a javascript: link into an email.
  const base = webUrl(p.url) ?? `${shopUrl.replace(/\/$/, '')}/products/${encodeURIComponent(rec.productId)}`;
  return {
    productId: rec.productId,
    title: p.title,
    url: utmLink(base, campaign, rec.productId),
    imageUrl: webUrl(p.imageUrl),
    ...(p.price ? { price: formatMoney(p.price, currency) } : {}),
  };
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A provider-neutral rendering of one email (dry runs, the admin preview, the demo inbox). */
export function renderPreview(input: { subject: string; sender: CampaignSender; content: CampaignContent }): {
  html: string;
  text: string;
} {
  const { subject, sender, content } = input;
  const e = escapeHtml;
  const items = content.products
    .map((p) => {
      const image = webUrl(p.imageUrl);
      const href = webUrl(p.url);
      return `<li class="product">${image ? `<img src="${e(image)}" alt="" width="80"> ` : ''}${href ? `<a href="${e(href)}">${e(p.title)}</a>` : e(p.title)}${p.price ? ` <span class="price">${e(p.price)}</span>` : ''}</li>`;
    })
    .join('');
  const html = `<article class="email-preview">
<p class="email-from">From: ${e(sender.name)} &lt;${e(sender.email)}&gt; · Subject: ${e(subject)}</p>
<p class="email-reason">${e(content.reason)}</p>
<ul class="email-products">${items}</ul>
<p class="email-consent">${e(content.consentLine)}</p>
<p class="email-links"><a href="${e(content.preferencesUrl)}">Choose what we may use and send</a> · <a href="${e(content.unsubscribeUrl)}">Unsubscribe</a></p>
<p class="email-address">${e(sender.name)} · ${e(sender.postalAddress)}</p>
</article>`;
  const text = [
    `From: ${sender.name} <${sender.email}>`,
    `Subject: ${subject}`,
    '',
    content.reason,
    ...content.products.map((p) => `- ${p.title}${p.price ? ` (${p.price})` : ''}: ${p.url}`),
    '',
    content.consentLine,
    `Your preferences: ${content.preferencesUrl}`,
    `Unsubscribe: ${content.unsubscribeUrl}`,
    `${sender.name} · ${sender.postalAddress}`,
  ].join('\n');
  return { html, text };
}

/** The lines every marketing email carries besides its products: the consent it rests on and the person's links. */
export type PersonalFrame = Pick<CampaignContent, 'consentLine' | 'preferencesUrl' | 'unsubscribeUrl'>;

/**
 * Builds each person's consent line and signed links (preference centre, one-click unsubscribe) under
 * `publicUrl`; null for a person with no email-marketing consent on record. Campaigns and flows share it.
 */
export async function personalFrame(
  ctx: ShopContext,
  publicUrl: string,
): Promise<(subjectId: string) => Promise<PersonalFrame | null>> {
  const purposes = await listPurposes(ctx.db, ctx.shopId);
  const emailPurposeTitle = purposes.find((p) => p.key === 'email_marketing')?.title ?? 'email offers';
  const shopKeys = await ctx.keys.shop(ctx.db, ctx.shopId);
  const link = (path: string, token: string) =>
    `${publicUrl.replace(/\/$/, '')}${path}?token=${encodeURIComponent(token)}`;
  return async (subjectId) => {
    const view = (await consentViewOf(ctx, subjectId)).find((v) => v.purpose === 'email_marketing');
    if (!view) return null;
    return {
      consentLine: consentLine(view, emailPurposeTitle),
      // Short-lived like every preference link (a forwarded email must not open the person's data for long);
      // opened later, the page offers to mail a fresh link to the address on file.
      preferencesUrl: link('/preferences', preferencesToken(shopKeys.tokenKey, ctx.shopId, subjectId, ctx.now())),
      unsubscribeUrl: link('/unsubscribe', await unsubscribeToken(ctx, subjectId, 'email_marketing')),
    };
  };
}
