import type { RequestHandler } from 'express';
import { html } from './html.js';
import { page, safeUrl } from './layout.js';
import type { Mailer, SentMail } from './mail.js';

/**
 * The demo inbox (demo mode only): the emails the app would send, newest first, and the campaign emails as
 * the email provider rendered them. An HTML email is shown as the recipient sees it, in a sandboxed frame
 * (no script, no same-origin access), with its images.
 */
export function demoInbox(box: Mailer & { messages: readonly SentMail[] }): RequestHandler {
  return (_req, res) => {
    const count = box.messages.length;
    res.set('Cache-Control', 'no-store').send(
      page({
        title: 'Demo inbox',
        body: html`<h1>Demo inbox</h1><div class="notice">Demo mode: the emails the app would send, and the campaign's emails as the Mailchimp sandbox rendered them, are kept here instead of being delivered, newest first. Never run a real shop with TACTFUL_DEMO=1.</div>
${count === 0 ? html`<p class="empty">No email yet.</p>` : html`<p class="small muted">${count} email${count === 1 ? '' : 's'}.</p>`}
${box.messages.map(
  (
    m,
    i,
  ) => html`<article class="card mail" data-to="${m.to}" data-subject="${m.subject}"><h2>${m.subject}</h2><p class="small muted">To ${m.to} · ${m.at.toISOString().slice(0, 16).replace('T', ' ')} UTC${m.from ? html` · from ${m.from}` : ''}</p>
${Object.keys(m.headers).length > 0 ? html`<pre class="small mono">${Object.entries(m.headers).map(([k, v]) => `${k}: ${v}\n`)}</pre>` : ''}
${Object.keys(m.links).length > 0 ? html`<p>${Object.entries(m.links).map(([role, href]) => html`<a class="button" data-link="${role}" href="${safeUrl(href)}">${role}</a> `)}</p>` : ''}
${
  m.html
    ? html`<details${i < 3 ? html` open` : ''}><summary>The email</summary><iframe class="mail-html" sandbox="allow-popups allow-popups-to-escape-sandbox" loading="lazy" title="${`Email to ${m.to}`}" srcdoc="${m.html}"></iframe></details>`
    : html`<pre class="small" style="white-space:pre-wrap">${m.text}</pre>`
}</article>`,
)}`,
      }),
    );
  };
}

const palette = ['#e8f1e4', '#fdf0d5', '#e3eefb', '#f6e3ec', '#ece6f7', '#e0f3f1'];

/**
 * A product picture for the demo shop (the Groceries catalogue has none): the product's name on a tile, so
 * the campaign emails show images the way a real shop's would, without reaching anything outside the app.
 */
export const demoProductImage: RequestHandler = (req, res) => {
  const title = (typeof req.query.title === 'string' ? req.query.title : '').trim().slice(0, 40) || 'product';
  let sum = 0;
  for (const c of title) sum = (sum * 31 + (c.codePointAt(0) ?? 0)) % 9973;
  const text = html`${title}`.value;
  res
    .type('image/svg+xml')
    .set('Cache-Control', 'public, max-age=86400')
    // An email is shown in a sandboxed frame (an origin of its own) and read in mail clients elsewhere: like a
    // shop's CDN picture, this one is for any origin to show.
    .set('Cross-Origin-Resource-Policy', 'cross-origin')
    .send(
      `<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160" viewBox="0 0 240 160"><rect width="240" height="160" rx="12" fill="${palette[sum % palette.length]}"/><text x="120" y="86" font-family="Helvetica,Arial,sans-serif" font-size="${title.length > 18 ? 16 : 22}" text-anchor="middle" fill="#1a1a1a">${text}</text></svg>`,
    );
};
