import { formatMoney, type LeftOut, type MerchandisingRules, type Tactful } from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { page, safeUrl } from '../../layout.js';

function fmt(n: number, digits = 3): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

function pct(n: number): string {
  return `${Math.round(n * 100)}%`;
}

type Related = Awaited<ReturnType<Tactful['recommend']['relatedExplained']>>;
type ForCustomer = Awaited<ReturnType<Tactful['recommend']['forCustomer']>>;
type Found = Awaited<ReturnType<Tactful['merchandising']['search']>>[number];

/** A product as the explorer shows it: picture, title, price. */
export interface ProductCard {
  productId: string;
  title: string;
  imageUrl?: string | null | undefined;
  price?: string | null | undefined;
  category?: string | null | undefined;
}

export interface ExplorerContext {
  currency: string;
  rules: MerchandisingRules;
  /** Where the merchandising buttons come back to. */
  back: string;
  /** The statistic the model ranks neighbours by (`uplift` by default). */
  statistic: string;
}

function picture(p: ProductCard): SafeHtml {
  return p.imageUrl
    ? html`<img class="product-img" src="${safeUrl(p.imageUrl)}" alt="" width="56" height="56" loading="lazy">`
    : html`<span class="product-img placeholder" aria-hidden="true">${p.title.slice(0, 1).toUpperCase()}</span>`;
}

function price(p: ProductCard, currency: string): string {
  const n = Number(p.price);
  return p.price && Number.isFinite(n) ? formatMoney(n, currency) : '';
}

/** "Never recommend" / "Favour" (or their undo) for one product, right where it is shown. */
export function merchButtons(productId: string, c: ExplorerContext): SafeHtml {
  const excluded = c.rules.excludedProducts.includes(productId);
  const pinned = c.rules.pinnedProducts.includes(productId);
  const button = (action: string, label: string, kind = 'secondary') =>
    html`<form method="post" action="/admin/merchandising" class="inline-form"><input type="hidden" name="action" value="${action}"><input type="hidden" name="productId" value="${productId}"><input type="hidden" name="back" value="${c.back}"><button type="submit" class="${kind} small-button">${label}</button></form>`;
  return html`<span class="merch-buttons">${excluded ? button('include-product', 'Allow again') : button('exclude-product', 'Never recommend')}${
    excluded ? '' : pinned ? button('unpin', 'Stop favouring') : button('pin', 'Favour')
  }</span>`;
}

function productLine(p: ProductCard, c: ExplorerContext, extra: SafeHtml | string, link = true): SafeHtml {
  const title = link
    ? html`<a href="/admin/recommendations?product=${encodeURIComponent(p.productId)}">${p.title}</a>`
    : html`${p.title}`;
  const badges = [
    c.rules.pinnedProducts.includes(p.productId) ? html`<span class="badge ok">favoured</span>` : '',
    c.rules.excludedProducts.includes(p.productId) ? html`<span class="badge bad">never recommended</span>` : '',
  ];
  return html`<li class="product-line" data-product="${p.productId}">${picture(p)}<div class="product-text"><strong>${title}</strong> ${badges}
<span class="small muted">${[price(p, c.currency), p.category ?? ''].filter(Boolean).join(' · ')}</span>${extra}</div>${merchButtons(p.productId, c)}</li>`;
}

function leftOutList(leftOut: readonly LeftOut[], c: ExplorerContext): SafeHtml | string {
  if (leftOut.length === 0) return '';
  return html`<h3>Left out by your rules</h3><ul class="plain left-out">${leftOut.map(
    (l) =>
      html`<li data-left-out="${l.productId}"><strong>${l.title}</strong> left out: ${l.note}.${
        l.rule === 'excluded-product'
          ? html` <form method="post" action="/admin/merchandising" class="inline-form"><input type="hidden" name="action" value="include-product"><input type="hidden" name="productId" value="${l.productId}"><input type="hidden" name="back" value="${c.back}"><button type="submit" class="secondary small-button">Allow again</button></form>`
          : ''
      }</li>`,
  )}</ul>`;
}

export function relatedSection(product: ProductCard, result: Related, c: ExplorerContext): SafeHtml {
  const { related, leftOut } = result;
  return html`<section class="card" aria-labelledby="related-title"><ul class="plain">${productLine(product, c, '', false)}</ul>
<h2 id="related-title">People who bought ${product.title} also bought</h2>${
    related.length === 0
      ? html`<p class="empty">No product is bought with this one often enough to say so yet.</p>`
      : html`<ul class="plain">${related.map((n) =>
          productLine(
            { productId: n.productId, title: n.product?.title ?? n.productId, ...n.product },
            c,
            html`<span class="sentence">In ${n.stats.count} order${n.stats.count === 1 ? '' : 's'} together: ${pct(n.stats.confidence)} of the orders with ${product.title} also had it, ${fmt(n.stats.lift, 1)}× more often than chance.</span>
<details class="stats"><summary>Statistics</summary><dl class="facts"><dt>Orders together</dt><dd>${n.stats.count}</dd><dt>Support</dt><dd>${fmt(n.stats.support, 4)}</dd><dt>Confidence</dt><dd>${fmt(n.stats.confidence)}</dd><dt>Lift</dt><dd>${fmt(n.stats.lift, 2)}</dd><dt>G² (log-likelihood)</dt><dd>${fmt(n.stats.llr, 1)}</dd><dt>Ranking score (${c.statistic})</dt><dd>${fmt(n.score)}</dd></dl></details>`,
          ),
        )}</ul>`
  }${leftOutList(leftOut, c)}</section>`;
}

function reasonText(
  reason: ForCustomer['recommendations'][number]['reasons'][number],
  titles: Map<string, string>,
): string {
  switch (reason.kind) {
    case 'bought-with':
      return `they bought ${titles.get(reason.because) ?? reason.because}: bought together in ${reason.stats.count} orders`;
    case 'popular-in-category':
      return `popular in ${reason.category}, a category they buy from (${reason.count} orders)`;
    case 'declared-interest':
      return `they told us they like ${reason.category} (${reason.count} orders)`;
    case 'popular':
      return `one of the shop's most popular products (${reason.count} orders)`;
    case 'pinned':
      return 'you favour it';
  }
}

export function customerSection(
  customer: string,
  result: ForCustomer,
  titles: Map<string, string>,
  c: ExplorerContext,
): SafeHtml {
  return html`<section class="card" aria-labelledby="customer-title"><h2 id="customer-title">What ${customer} would be shown (${result.purchases} order${result.purchases === 1 ? '' : 's'})</h2>${
    result.recommendations.length === 0
      ? html`<p class="empty">Nothing to recommend.</p>`
      : html`<ul class="plain">${result.recommendations.map((r) =>
          productLine(
            { ...r.product, productId: r.productId },
            c,
            html`<span class="sentence">Because ${reasonText(r.reasons[0]!, titles)}.</span>
<details class="stats"><summary>Statistics</summary><dl class="facts"><dt>Source</dt><dd>${r.source}</dd><dt>Score</dt><dd>${fmt(r.score)}</dd>${r.reasons.map(
              (x) =>
                x.kind === 'bought-with'
                  ? html`<dt>${titles.get(x.because) ?? x.because}</dt><dd>${x.statistic} ${fmt(x.value, 3)} · together ${x.stats.count}× · lift ${fmt(x.stats.lift, 2)} · G² ${fmt(x.stats.llr, 1)}</dd>`
                  : html`<dt>${x.kind}</dt><dd>${reasonText(x, titles)}</dd>`,
            )}</dl></details>`,
          ),
        )}</ul>`
  }${leftOutList(result.leftOut, c)}</section>`;
}

export function refusedSection(message: string): SafeHtml {
  return html`<div class="notice error" role="alert">${message}</div>`;
}

export interface MerchandisingView {
  rules: MerchandisingRules;
  titles: Map<string, string>;
  keptOut: LeftOut[];
  categories: string[];
  find: string;
  found: Found[];
}

function merchandisingSection(m: MerchandisingView, c: ExplorerContext): SafeHtml {
  const name = (id: string) => m.titles.get(id) ?? id;
  const small = (action: string, fields: Record<string, string>, label: string) =>
    html`<form method="post" action="/admin/merchandising" class="inline-form"><input type="hidden" name="action" value="${action}">${Object.entries(
      fields,
    ).map(
      ([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`,
    )}<input type="hidden" name="back" value="${c.back}"><button type="submit" class="secondary small-button">${label}</button></form>`;
  const automatic = m.keptOut.filter((k) => k.rule !== 'excluded-product' && k.rule !== 'excluded-category');
  return html`<section class="card" id="merchandising" aria-labelledby="merch-title"><h2 id="merch-title">What the shop recommends</h2>
<p class="small muted">These rules apply to every recommendation: this explorer, campaign emails, the preference centre and automated flows. A customer's own "not this" and their consent always come first.</p>
<form method="get" action="/admin/recommendations" class="inline"><label>Find a product by title<br><input type="search" name="find" value="${m.find}" placeholder="e.g. gift card"></label><button type="submit" class="secondary">Search</button></form>
${m.find ? (m.found.length === 0 ? html`<p class="empty">No product title contains "${m.find}".</p>` : html`<ul class="plain">${m.found.map((p) => productLine(p, c, ''))}</ul>`) : ''}
<div class="grid"><div><h3>Favoured (first leads)</h3>${
    m.rules.pinnedProducts.length === 0
      ? html`<p class="empty">None.</p>`
      : html`<ol class="rule-list">${m.rules.pinnedProducts.map(
          (id, i) =>
            html`<li data-pinned="${id}">${name(id)} ${i > 0 ? small('move-up', { productId: id }, 'Move up') : ''}${small('unpin', { productId: id }, 'Remove')}</li>`,
        )}</ol>`
  }</div>
<div><h3>Never recommended</h3>${
    m.rules.excludedProducts.length === 0 && m.rules.excludedCategories.length === 0
      ? html`<p class="empty">None.</p>`
      : html`<ul class="rule-list">${m.rules.excludedProducts.map(
          (id) =>
            html`<li data-excluded="${id}">${name(id)} ${small('include-product', { productId: id }, 'Allow again')}</li>`,
        )}${m.rules.excludedCategories.map(
          (cat) =>
            html`<li data-excluded-category="${cat}">Category <strong>${cat}</strong> ${small('include-category', { category: cat }, 'Allow again')}</li>`,
        )}</ul>`
  }
<form method="post" action="/admin/merchandising" class="inline"><input type="hidden" name="action" value="exclude-category"><input type="hidden" name="back" value="${c.back}"><label>Never recommend a category<br><select name="category"><option value="">choose…</option>${m.categories.map((cat) => html`<option value="${cat}">${cat}</option>`)}</select></label><button type="submit" class="secondary">Never recommend</button></form></div></div>
<details><summary>Left out automatically (${automatic.length}): gift cards, out of stock, not published</summary>${
    automatic.length === 0
      ? html`<p class="empty">None.</p>`
      : html`<ul class="plain">${automatic.map((k) => html`<li>${k.title}: ${k.note}</li>`)}</ul>`
  }</details></section>`;
}

export interface Explorer {
  products: ReadonlyArray<{ productId: string; title: string; count: number }>;
  productId: string;
  customer: string;
  notice?: { kind: 'ok' | 'error'; text: string } | undefined;
  productSection: SafeHtml | string;
  customerSection: SafeHtml | string;
  merchandising: MerchandisingView;
  context: ExplorerContext;
}

export function recommendationsPage(e: Explorer): string {
  const { products, productId, customer, productSection, customerSection } = e;
  const body = html`<h1>Recommendations</h1>
${e.notice ? html`<div class="notice ${e.notice.kind}" role="${e.notice.kind === 'error' ? 'alert' : 'status'}">${e.notice.text}</div>` : ''}
<div class="grid"><form class="card" method="get" action="/admin/recommendations"><h2>What goes with a product</h2>
<label>Product<br><select name="product"><option value="">choose…</option>${products.map((p) => html`<option value="${p.productId}"${p.productId === productId ? html` selected` : ''}>${p.title} (${p.count} orders)</option>`)}</select></label>
<button type="submit">Show related products</button>${products.length === 0 ? html`<p class="empty">No orders imported yet (tactful import orders).</p>` : ''}</form>
<form class="card" method="get" action="/admin/recommendations"><h2>What a customer would be shown</h2>
<label>Email or customer id<br><input type="text" name="customer" value="${customer}"></label><button type="submit">Show what and why</button>
<p class="small muted">Only for customers who allow personalisation.</p></form></div>
${productSection}${customerSection}
${merchandisingSection(e.merchandising, e.context)}`;
  return page({ title: 'Recommendations', admin: { current: '/admin/recommendations' }, body });
}
