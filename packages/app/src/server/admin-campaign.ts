import express, { type Router } from 'express';
import { isTactfulError, type Tactful } from '@tactful/core';
import { absoluteUrl, type AppContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { signPreferencesToken } from './signed-links.js';
import { productTitles } from './subject-data.js';

/**
 * Campaign preview for one customer: would they get the related-product email now (consent for both
 * purposes, double opt-in where required, the contact policy), and what would it hold and why. Sending is
 * not here: the campaign pipeline (eligible audience, send through the provider, idempotent record) is not
 * built yet.
 */
export function adminCampaign(ctx: AppContext): Router {
  const tactful: Tactful = ctx.tactful;
  const router = express.Router();

  router.get('/admin/campaign', async (req, res) => {
    const email = typeof req.query.email === 'string' ? req.query.email.trim() : '';
    let preview: SafeHtml | string = '';
    if (email) {
      try {
        const view = await tactful.consent.show(email);
        const settings = await tactful.settings.get();
        const marketing = view.purposes.find((p) => p.purpose === 'email_marketing');
        const personal = view.purposes.find((p) => p.purpose === 'personalization');
        const problems: string[] = [];
        if (marketing?.state !== 'granted') problems.push(`email offers are ${marketing?.state ?? 'not asked'}`);
        else if (settings.requireDoubleOptIn && marketing.level !== 'confirmed') problems.push('email offers were not confirmed by double opt-in, which this shop requires');
        if (personal?.state !== 'granted') problems.push(`personal recommendations are ${personal?.state ?? 'not asked'}`);
        const contact = problems.length === 0 ? await tactful.contact.canContact(email) : null;
        if (contact && !contact.ok) problems.push(`${contact.detail} (next allowed ${contact.nextAllowedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`);
        let content: SafeHtml | string = '';
        if (personal?.state === 'granted') {
          const result = await tactful.recommend.forCustomer(email, { k: 4 });
          const titles = await productTitles(tactful, result.recommendations.flatMap((r) => r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : []))));
          const preferences = absoluteUrl(ctx, '/preferences', { token: await signPreferencesToken(tactful, view.subjectId) });
          const unsubscribe = marketing ? absoluteUrl(ctx, '/unsubscribe', { token: await tactful.consent.unsubscribeToken(email, 'email_marketing') }) : '';
          const top = result.recommendations[0]?.reasons.find((x) => x.kind === 'bought-with');
          content = html`<section class="card"><h2>The email</h2>
<p class="small muted">Headers: List-Unsubscribe: &lt;${unsubscribe}&gt; · List-Unsubscribe-Post: List-Unsubscribe=One-Click</p>
<h3>Picked for you</h3>${
            result.recommendations.length === 0
              ? html`<p class="empty">Nothing to recommend: the email would not be sent.</p>`
              : html`<p>${top && top.kind === 'bought-with' ? `Because you bought ${titles.get(top.because) ?? top.because}:` : 'You may like:'}</p>
<ul>${result.recommendations.map((r) => html`<li><strong>${r.product.title}</strong>${r.product.price ? ` — ${r.product.price}` : ''}</li>`)}</ul>`
          }
<p class="small">You receive this because you agreed to ${marketing?.clause ?? 'email offers'} (version ${marketing?.version ?? ''}) on ${marketing?.since ? marketing.since.toISOString().slice(0, 10) : '—'}.
<a href="${preferences}">Your preferences</a> · <a href="${unsubscribe}">Unsubscribe</a></p></section>`;
        }
        preview = html`${
          problems.length === 0
            ? html`<div class="notice ok" role="status">${email} would receive the email now.</div>`
            : html`<div class="notice error" role="alert">${email} would not receive it: ${problems.join('; ')}.</div>`
        }${content}`;
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        preview = html`<div class="notice error" role="alert">${error.message}</div>`;
      }
    }
    res.send(
      page({
        title: 'Campaign preview',
        admin: { current: '/admin/campaign' },
        body: html`<h1>Campaign preview</h1>
<form class="inline card" method="get" action="/admin/campaign"><label>Customer email<br><input type="email" name="email" value="${email}" required></label><button type="submit">Preview</button></form>
${preview}
<p class="small muted">Sending from here is not available yet: campaigns are sent by the campaign pipeline once it exists.</p>`,
      }),
    );
  });
  return router;
}
