import { AsyncLocalStorage } from 'node:async_hooks';
import { html, raw, type SafeHtml } from './html.js';

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

/** How the customers' pages show the shop (Settings → Shop brand); "Tactful" is then only a "powered by" line. */
export interface ShopBrand {
  name: string;
  /** An https URL (checked by the settings), or null for no logo. */
  logoUrl: string | null;
  /** #rrggbb, or null for the default accent. */
  accentColor: string | null;
}

/** Set by the app (app.ts) around every customer-facing request, so every public page carries the shop's brand. */
export const brandedPages = new AsyncLocalStorage<ShopBrand>();

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
  /** The shop's brand on a customer page; default: what app.ts set for this request. Admin pages never use it. */
  brand?: ShopBrand | undefined;
}

const adminNav: ReadonlyArray<[string, string]> = [
  ['/admin', 'Dashboard'],
  ['/admin/customers', 'Customers'],
  ['/admin/audit', 'Audit log'],
  ['/admin/segments', 'Segments'],
  ['/admin/recommendations', 'Recommendations'],
  ['/admin/campaign', 'Campaign'],
  ['/admin/flows', 'Flows'],
  ['/admin/data-requests', 'Data requests'],
  ['/admin/merge', 'Merge people'],
  ['/admin/settings', 'Settings'],
  ['/admin/connections', 'Connections'],
];

const headerCells = /<th\b[^>]*>([\s\S]*?)<\/th>/g;

/**
 * Gives every body cell of every table with a header row the text of its column's header (`data-label`), so
 * the stylesheet can show a long table as stacked rows, a label per cell, on a phone. Done here, once, for
 * every page's tables.
 */
export function labelTableCells(markup: string): string {
  return markup.replace(/<table\b[^>]*>[\s\S]*?<\/table>/g, (table) => {
    const end = table.indexOf('</thead>');
    if (end < 0) return table;
    const labels = [...table.slice(0, end).matchAll(headerCells)].map((m) =>
      (m[1] ?? '')
        .replace(/<[^>]*>/g, '')
        .replace(/"/g, '&quot;')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    const rest = table.slice(end).replace(/<tr\b[^>]*>[\s\S]*?<\/tr>/g, (row) => {
      let column = 0;
      return row.replace(/<td\b([^>]*)>/g, (cell, attrs: string) => {
        const label = labels[column] ?? '';
        const span = /colspan="(\d+)"/.exec(attrs);
        column += span ? Number(span[1]) : 1;
        return label === '' || span || attrs.includes('data-label=') ? cell : `<td data-label="${label}"${attrs}>`;
      });
    });
    return table.slice(0, end) + rest;
  });
}

const colourPattern = /^#[0-9a-fA-F]{6}$/;

/** A whole HTML document. */
export function page(options: PageOptions): string {
  const brand = options.admin ? undefined : (options.brand ?? brandedPages.getStore());
  const logo = brand?.logoUrl && safeUrl(brand.logoUrl).startsWith('https:') ? brand.logoUrl : null;
  const nav = options.admin
    ? html`<header class="top"><strong>Tactful</strong><nav class="admin-nav">${adminNav.map(
        ([href, label]) =>
          html`<a href="${href}"${options.admin?.current === href ? html` aria-current="page"` : ''}>${label}</a>`,
      )}</nav><form method="post" action="/admin/logout" class="sign-out"><button class="secondary" type="submit">Sign out</button></form></header>`
    : brand
      ? html`<header class="top brand">${logo ? html`<img class="logo" src="${logo}" alt="" height="32">` : ''}<strong>${brand.name}</strong></header>`
      : html`<header class="top"><strong>Tactful</strong></header>`;
  const accent = brand?.accentColor && colourPattern.test(brand.accentColor) ? brand.accentColor : null;
  const footer = brand ? html`<footer class="powered">Consent and preferences powered by Tactful</footer>` : '';
  const embedded = options.embedded ?? embeddedPages.getStore();
  const bridge = embedded
    ? html`<meta name="shopify-api-key" content="${embedded.apiKey}"><script src="${APP_BRIDGE_URL}"></script><script src="/assets/embedded.js" defer></script>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8">${bridge}<meta name="viewport" content="width=device-width,initial-scale=1">
<title>${options.title}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body${accent ? html` style="--accent:${accent}"` : ''}>${nav}<main${options.narrow ? html` class="narrow"` : ''}>${raw(labelTableCells(options.body.value))}</main>${footer}
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
