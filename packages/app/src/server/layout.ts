import { AsyncLocalStorage } from 'node:async_hooks';
import { html, type SafeHtml } from './html.js';

/** Shopify's App Bridge, loaded from Shopify's CDN as Shopify documents it (the only script not served by this app). */
export const APP_BRIDGE_URL = 'https://cdn.shopify.com/shopifycloud/app-bridge.js';

/** The admin page is shown inside the Shopify admin: it loads App Bridge for the app with this client id (API key). */
export interface EmbeddedPage {
  apiKey: string;
}

/**
 * Set by the app (app.ts) around every admin request when the app is embedded, so each admin page gets the
 * App Bridge tags without every route passing them; `PageOptions.embedded` overrides it.
 */
export const embeddedPages = new AsyncLocalStorage<EmbeddedPage>();

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** Admin pages get the dashboard navigation; `current` marks the active entry. */
  admin?: { current: string } | undefined;
  /** Extra scripts served by this app (paths under /assets). */
  scripts?: readonly string[] | undefined;
  narrow?: boolean | undefined;
  /**
   * Embedded in the Shopify admin: the head gets `<meta name="shopify-api-key">`, App Bridge from Shopify's
   * CDN (first script, synchronous, as App Bridge requires) and /assets/embedded.js, which puts a fresh
   * session token on every admin navigation and form. Default: what app.ts set for this request; `false` for none.
   */
  embedded?: EmbeddedPage | false | undefined;
}

const adminNav: ReadonlyArray<[string, string]> = [
  ['/admin', 'Dashboard'],
  ['/admin/audit', 'Audit log'],
  ['/admin/segments', 'Segments'],
  ['/admin/recommendations', 'Recommendations'],
  ['/admin/campaign', 'Campaign'],
  ['/admin/flows', 'Flows'],
  ['/admin/data-requests', 'Data requests'],
  ['/admin/settings', 'Settings'],
];

/** A whole HTML document. */
export function page(options: PageOptions): string {
  const nav = options.admin
    ? html`<header class="top"><strong>Tactful</strong>${adminNav.map(
        ([href, label]) =>
          html`<a href="${href}"${options.admin?.current === href ? html` aria-current="page"` : ''}>${label}</a>`,
      )}<form method="post" action="/admin/logout" style="margin-left:auto"><button class="secondary" type="submit">Sign out</button></form></header>`
    : html`<header class="top"><strong>Tactful</strong></header>`;
  const embedded = options.embedded ?? embeddedPages.getStore();
  const bridge = embedded
    ? html`<meta name="shopify-api-key" content="${embedded.apiKey}"><script src="${APP_BRIDGE_URL}"></script><script src="/assets/embedded.js" defer></script>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">${bridge}<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${options.title}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body>${nav}<main${options.narrow ? html` class="narrow"` : ''}>${options.body}</main>
${(options.scripts ?? []).map((src) => html`<script src="${src}"></script>`)}
</body></html>`.value;
}

/** A page that says what went wrong and what to do. */
export function messagePage(
  title: string,
  message: string,
  kind: 'error' | 'ok' | 'info' = 'info',
  extra?: SafeHtml,
): string {
  return page({
    title,
    narrow: true,
    body: html`<h1>${title}</h1><div class="notice ${kind === 'info' ? '' : kind}" role="${kind === 'error' ? 'alert' : 'status'}">${message}</div>${extra ?? ''}`,
  });
}

/** An http(s) or same-site URL for an href; anything else (javascript:, data:) becomes "#". */
export function safeUrl(value: string | null | undefined): string {
  if (!value) return '#';
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '#';
  } catch {
    return '#';
  }
}
