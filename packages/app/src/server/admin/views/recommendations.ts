import type { Tactful } from '@tactful/core';
import { html, type SafeHtml } from '../../html.js';
import { page } from '../../layout.js';

function fmt(n: number, digits = 3): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

type Related = Awaited<ReturnType<Tactful['recommend']['related']>>;
type ForCustomer = Awaited<ReturnType<Tactful['recommend']['forCustomer']>>;

export function relatedSection(title: string, related: Related): SafeHtml {
  return html`<h2>Bought with ${title}</h2>${
    related.length === 0
      ? html`<p class="empty">No product passes the significance test with this one yet.</p>`
      : html`<table><thead><tr><th>Product</th><th class="num">Together</th><th class="num">Support</th><th class="num">Confidence</th><th class="num">Lift</th><th class="num">G² (LLR)</th><th class="num">Score</th></tr></thead><tbody>
${related.map(
  (
    n,
  ) => html`<tr><td><a href="/admin/recommendations?product=${encodeURIComponent(n.productId)}">${n.product?.title ?? n.productId}</a></td><td class="num">${n.stats.count}</td><td class="num">${fmt(n.stats.support, 4)}</td>
<td class="num">${fmt(n.stats.confidence)}</td><td class="num">${fmt(n.stats.lift, 2)}</td><td class="num">${fmt(n.stats.llr, 1)}</td><td class="num">${fmt(n.score)}</td></tr>`,
)}</tbody></table>`
  }`;
}

export function customerSection(customer: string, result: ForCustomer, titles: Map<string, string>): SafeHtml {
  return html`<h2>For ${customer} (${result.purchases} order${result.purchases === 1 ? '' : 's'})</h2>${
    result.recommendations.length === 0
      ? html`<p class="empty">Nothing to recommend.</p>`
      : html`<table><thead><tr><th>Product</th><th>Source</th><th class="num">Score</th><th>Why</th></tr></thead><tbody>
${result.recommendations.map(
  (r) =>
    html`<tr><td>${r.product.title}</td><td>${r.source}</td><td class="num">${fmt(r.score)}</td><td class="small">${r.reasons.map(
      (x) =>
        html`<div>${
          x.kind === 'bought-with'
            ? `because they bought ${titles.get(x.because) ?? x.because} (${x.statistic} ${fmt(x.value, 2)}, together ${x.stats.count}×, lift ${fmt(x.stats.lift, 2)})`
            : x.kind === 'popular-in-category'
              ? `popular in ${x.category} (${x.count} orders)`
              : x.kind === 'declared-interest'
                ? `they told us they like ${x.category}`
                : x.kind === 'pinned'
                  ? 'recommended by the shop'
                  : `popular (${x.count} orders)`
        }</div>`,
    )}</td></tr>`,
)}</tbody></table>`
  }`;
}

export function refusedSection(message: string): SafeHtml {
  return html`<div class="notice error" role="alert">${message}</div>`;
}

export interface Explorer {
  products: ReadonlyArray<{ productId: string; title: string; count: number }>;
  productId: string;
  customer: string;
  productSection: SafeHtml | string;
  customerSection: SafeHtml | string;
}

export function recommendationsPage({
  products,
  productId,
  customer,
  productSection,
  customerSection,
}: Explorer): string {
  const body = html`<h1>Recommendations explorer</h1>
<div class="grid"><form class="card" method="get" action="/admin/recommendations"><h2>For a product</h2>
<label>Product<br><select name="product"><option value="">choose…</option>${products.map((p) => html`<option value="${p.productId}"${p.productId === productId ? html` selected` : ''}>${p.title} (${p.count})</option>`)}</select></label>
<button type="submit">Show related products</button>${products.length === 0 ? html`<p class="empty">No orders imported yet (tactful import orders).</p>` : ''}</form>
<form class="card" method="get" action="/admin/recommendations"><h2>For a customer</h2>
<label>Email or customer id<br><input type="text" name="customer" value="${customer}"></label><button type="submit">Show what and why</button>
<p class="small muted">Only for customers who allow personalisation.</p></form></div>
${productSection}${customerSection}`;
  return page({ title: 'Recommendations', admin: { current: '/admin/recommendations' }, body });
}
