import { Readable } from 'node:stream';
import express, { type Request, type Router } from 'express';
import { auditActions, formatMoney, isTactfulError, TactfulError, type Actor, type Tactful } from '@tactful/core';
import type { AdminAuth } from './admin-auth.js';
import { adminCampaign } from './admin-campaign.js';
import { adminDataRequests } from './admin-data-requests.js';
import { adminSegments } from './admin-segments.js';
import type { AppContext } from './context.js';
import { auditPage, dashboardData, topProducts, type AuditFilter, type ChartSpec } from './dashboard-data.js';
import { html, jsonForScript, type SafeHtml } from './html.js';
import { page, safeUrl } from './layout.js';
import { productTitles } from './subject-data.js';

const adminActor: Actor = { type: 'admin', id: 'dashboard' };

function q(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v.trim() : '';
}

export function loginPage(next: string, error?: string): string {
  const target = next.startsWith('/admin') ? next : '/admin';
  return page({
    title: 'Sign in',
    narrow: true,
    body: html`<h1>Sign in to Tactful</h1>${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/admin/login" class="card"><input type="hidden" name="next" value="${target}">
<label>Admin token<br><input type="password" name="token" required autocomplete="current-password"></label>
<p class="small muted">The value of TACTFUL_ADMIN_TOKEN. In the Shopify admin you are signed in by your Shopify session instead.</p>
<p><button type="submit">Sign in</button></p></form>`,
  });
}

function chartCard(name: string, title: string, note?: SafeHtml | string): SafeHtml {
  return html`<section class="card"><h2>${title}</h2><div class="chart"><canvas data-chart="${name}" role="img" aria-label="${title}"></canvas></div>${note ? html`<p class="small muted">${note}</p>` : ''}</section>`;
}

function chartPage(title: string, current: string, body: SafeHtml, charts: Record<string, ChartSpec>): string {
  return page({
    title,
    admin: { current },
    body: html`${body}<script type="application/json" id="chart-data">${jsonForScript(charts)}</script>`,
    scripts: ['/assets/chart.umd.min.js', '/assets/dashboard.js'],
  });
}

function parseDay(value: string, endOfDay: boolean): Date | undefined | 'invalid' {
  if (value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return 'invalid';
  const d = new Date(`${value}T${endOfDay ? '23:59:59.999' : '00:00:00.000'}Z`);
  return Number.isNaN(d.getTime()) ? 'invalid' : d;
}

async function auditFilter(
  tactful: Tactful,
  req: Request,
): Promise<{ filter: AuditFilter; problems: string[]; empty: boolean }> {
  const problems: string[] = [];
  const filter: AuditFilter = {};
  let empty = false;
  const action = q(req, 'action');
  if (action) {
    if ((auditActions as readonly string[]).includes(action)) filter.action = action;
    else problems.push(`Unknown action "${action}".`);
  }
  const email = q(req, 'email');
  if (email) {
    const subjectId = await tactful.audit.subjectIdOf(email).catch(() => null);
    if (subjectId) filter.subjectId = subjectId;
    else empty = true;
  }
  const subject = q(req, 'subject');
  if (subject && !filter.subjectId) filter.subjectId = subject;
  const since = parseDay(q(req, 'since'), false);
  const until = parseDay(q(req, 'until'), true);
  if (since === 'invalid') problems.push('"From" must be a date (YYYY-MM-DD).');
  else filter.since = since;
  if (until === 'invalid') problems.push('"To" must be a date (YYYY-MM-DD).');
  else filter.until = until;
  return { filter, problems, empty };
}

function details(value: Record<string, unknown>): string {
  return Object.entries(value)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

function fmt(n: number, digits = 3): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function adminPages(ctx: AppContext, auth: AdminAuth): Router {
  const { tactful } = ctx;
  const router = express.Router();

  router.get('/admin/login', (req, res) => {
    res.send(loginPage(q(req, 'next') || '/admin'));
  });
  router.post('/admin/login', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof body.token === 'string' ? body.token : '';
    const next =
      typeof body.next === 'string' && body.next.startsWith('/admin') && !body.next.startsWith('//')
        ? body.next
        : '/admin';
    if (!(await auth.login(req, res, token))) {
      res.status(401).send(loginPage(next, 'That token is not right. Nothing was changed.'));
      return;
    }
    res.redirect(303, next);
  });
  router.post('/admin/logout', async (req, res) => {
    await auth.logout(req, res);
    res.redirect(303, '/admin/login');
  });

  router.use(
    '/admin',
    auth.require((next) => loginPage(next)),
  );
  router.use('/admin', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  router.get('/admin', async (req, res) => {
    const days = Math.min(365, Math.max(7, Number(q(req, 'days')) || 30));
    const data = await dashboardData(tactful, days);
    const t = data.totals;
    const outbox = await tactful.outbox.counts();
    const body = html`<h1>Dashboard</h1>
<form class="inline" method="get" action="/admin"><label>Period <select name="days">${[7, 30, 90, 365].map((d) => html`<option value="${d}"${d === days ? html` selected` : ''}>last ${d} days</option>`)}</select></label><button type="submit" class="secondary">Show</button></form>
<div class="grid" style="margin-top:1rem">
<section class="card"><h2>Audience (email offers)</h2><p><strong>${t.granted}</strong> granted · <strong>${t.pending}</strong> pending · <strong>${t.withdrawn}</strong> withdrawn · ${t.subjects} people known</p>
<p class="small muted">In the period: ${t.requested} opt-ins requested, ${t.confirmed} confirmed${t.requested > 0 ? ` (${Math.round((100 * t.confirmed) / t.requested)}%)` : ''}, ${t.unsubscribed} one-click unsubscribes.</p></section>
<section class="card"><h2>Integrity and sync</h2><p><a href="/admin/audit/verify">Verify the hash chains</a> of the consent ledger and the audit log (reads them whole).</p>
<p class="small muted">Outbox to connected systems: ${Object.entries(outbox)
      .map(([k, v]) => `${String(v)} ${k}`)
      .join(', ')}.</p></section>
</div>
<div class="grid">
${chartCard('funnel', 'Consent funnel: requested → confirmed')}
${chartCard('changes', 'Grants and withdrawals')}
${chartCard('audience', 'Audience by state')}
${chartCard('unsubscribes', 'Unsubscribes')}
</div>
<section class="card"><h2>Campaigns: sends, opens, clicks and unsubscribes</h2>${
      data.campaigns === 0
        ? html`<p class="empty">No campaign was sent yet: see <a href="/admin/campaign">Campaign</a>.</p>`
        : html`<div class="chart"><canvas data-chart="campaigns" role="img" aria-label="Sends, opens, clicks and unsubscribes per campaign"></canvas></div>`
    }<p class="small muted">Opens, clicks and unsubscribes are the provider's reports (unique people), fetched with each send and on request from the Campaign page.</p></section>
<section class="card"><h2>Revenue from recommended products</h2>${
      data.recommendedRevenue === 0
        ? html`<p class="empty">No order in this period contains a product that an email featured to the buyer in the 30 days before.</p>`
        : html`<p><strong>${formatMoney(data.recommendedRevenue, (await tactful.settings.get()).currency)}</strong> in the period.</p><div class="chart"><canvas data-chart="revenue" role="img" aria-label="Revenue from recommended products per day"></canvas></div>`
    }<p class="small muted">An order line counts when the buyer was sent an email featuring that product in the 30 days before the order; amounts are summed as recorded, in the shop's currency.</p></section>`;
    res.send(chartPage('Dashboard', '/admin', body, data.charts as unknown as Record<string, ChartSpec>));
  });

  router.get('/admin/audit', async (req, res) => {
    const { filter, problems, empty } = await auditFilter(tactful, req);
    const pageText = q(req, 'page');
    // A page number beyond any log is a client's mistake (1e20 would overflow the query's offset).
    if (pageText !== '' && !/^[1-9]\d{0,5}$/.test(pageText))
      problems.push(`"${pageText}" is not a page number: use a whole number from 1 to 999999.`);
    const pageNo = /^[1-9]\d{0,5}$/.test(pageText) ? Number(pageText) : 1;
    const size = 50;
    const result =
      problems.length > 0 || empty
        ? { rows: [], total: 0 }
        : await auditPage(tactful, filter, size, (pageNo - 1) * size);
    const query = new URLSearchParams();
    for (const k of ['action', 'email', 'subject', 'since', 'until']) if (q(req, k)) query.set(k, q(req, k));
    const at = (p: number) => `/admin/audit?${new URLSearchParams([...query, ['page', String(p)]]).toString()}`;
    const body = html`<h1>Audit log</h1>
${problems.length > 0 ? html`<div class="notice error" role="alert">${problems.join(' ')}</div>` : ''}
<form class="inline card" method="get" action="/admin/audit">
<label>Action<br><select name="action"><option value="">any</option>${auditActions.map((a) => html`<option value="${a}"${q(req, 'action') === a ? html` selected` : ''}>${a}</option>`)}</select></label>
<label>Customer email<br><input type="email" name="email" value="${q(req, 'email')}"></label>
<label>From<br><input type="date" name="since" value="${q(req, 'since')}"></label>
<label>To<br><input type="date" name="until" value="${q(req, 'until')}"></label>
<button type="submit">Filter</button> <a class="button" href="/admin/audit.csv?${query.toString()}">Export CSV</a></form>
<p class="muted small">${result.total} entr${result.total === 1 ? 'y' : 'ies'}${empty ? ' (no customer with that email)' : ''}, newest first.</p>
<table><thead><tr><th class="num">#</th><th>When (UTC)</th><th>Action</th><th>Actor</th><th>Subject</th><th>Details</th></tr></thead><tbody>
${result.rows.map(
  (
    r,
  ) => html`<tr><td class="num">${r.seq}</td><td>${r.at.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${r.action}</td><td>${r.actorType}:${r.actorId}</td>
<td>${r.subjectId ? html`<a class="mono" href="/admin/audit?subject=${encodeURIComponent(r.subjectId)}">${r.subjectId.slice(0, 8)}</a>` : ''}</td><td class="mono small">${details(r.details)}</td></tr>`,
)}</tbody></table>
<div class="pager">${pageNo > 1 ? html`<a href="${at(pageNo - 1)}">← newer</a>` : ''}${pageNo * size < result.total ? html`<a href="${at(pageNo + 1)}">older →</a>` : ''}</div>`;
    res
      .status(problems.length > 0 ? 400 : 200)
      .send(page({ title: 'Audit log', admin: { current: '/admin/audit' }, body }));
  });

  router.get('/admin/audit/verify', async (_req, res) => {
    const verify = await tactful.audit.verify();
    const line = (name: string, v: { ok: boolean; rows: number }) =>
      html`<p>${name}: <strong>${v.ok ? 'intact' : 'BROKEN'}</strong> (${v.rows} ${name === 'Consent ledger' ? 'events' : 'entries'} checked)</p>`;
    const body = html`<h1>Hash chains</h1>${
      verify.ledger.ok && verify.audit.ok
        ? html`<div class="notice ok" role="status">Both chains are intact: no entry was changed, removed or inserted.</div>`
        : html`<div class="notice error" role="alert">A chain is broken: an entry was changed, removed or inserted outside Tactful. Export the audit log and investigate.</div>`
    }${line('Consent ledger', verify.ledger)}${line('Audit log', verify.audit)}<p class="small"><a href="/admin/audit">Back to the audit log</a></p>`;
    res
      .status(verify.ledger.ok && verify.audit.ok ? 200 : 409)
      .send(page({ title: 'Hash chains', admin: { current: '/admin/audit' }, body }));
  });

  router.get('/admin/audit.csv', async (req, res) => {
    const { filter, problems, empty } = await auditFilter(tactful, req);
    if (problems.length > 0) {
      res.status(400).type('text/plain').send(problems.join('\n'));
      return;
    }
    res
      .type('text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="audit-${tactful.shopId}.csv"`);
    const lines = tactful.audit.export('csv', empty ? { subjectId: 'no-such-subject' } : filter);
    await new Promise<void>((resolve, reject) => {
      Readable.from(lines).on('error', reject).pipe(res).on('finish', resolve).on('error', reject);
    });
  });

  router.use(adminSegments(tactful));
  router.use(adminDataRequests(tactful));
  router.use(adminCampaign(ctx));

  router.get('/admin/recommendations', async (req, res) => {
    const productId = q(req, 'product');
    const customer = q(req, 'customer');
    const products = await topProducts(tactful);
    let productSection: SafeHtml | string = '';
    if (productId) {
      try {
        const related = await tactful.recommend.related(productId, 10);
        const title = (await productTitles(tactful, [productId])).get(productId) ?? productId;
        productSection = html`<h2>Bought with ${title}</h2>${
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
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        productSection = html`<div class="notice error" role="alert">${error.message}</div>`;
      }
    }
    let customerSection: SafeHtml | string = '';
    if (customer) {
      try {
        const result = await tactful.recommend.forCustomer(customer, { k: 10 });
        const titles = await productTitles(
          tactful,
          result.recommendations.flatMap((r) =>
            r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : [])),
          ),
        );
        customerSection = html`<h2>For ${customer} (${result.purchases} order${result.purchases === 1 ? '' : 's'})</h2>${
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
                : `popular (${x.count} orders)`
        }</div>`,
    )}</td></tr>`,
)}</tbody></table>`
        }`;
      } catch (error) {
        if (!isTactfulError(error)) throw error;
        customerSection = html`<div class="notice error" role="alert">${error.message}</div>`;
      }
    }
    const body = html`<h1>Recommendations explorer</h1>
<div class="grid"><form class="card" method="get" action="/admin/recommendations"><h2>For a product</h2>
<label>Product<br><select name="product"><option value="">choose…</option>${products.map((p) => html`<option value="${p.productId}"${p.productId === productId ? html` selected` : ''}>${p.title} (${p.count})</option>`)}</select></label>
<button type="submit">Show related products</button>${products.length === 0 ? html`<p class="empty">No orders imported yet (tactful import orders).</p>` : ''}</form>
<form class="card" method="get" action="/admin/recommendations"><h2>For a customer</h2>
<label>Email or customer id<br><input type="text" name="customer" value="${customer}"></label><button type="submit">Show what and why</button>
<p class="small muted">Only for customers who allow personalisation.</p></form></div>
${productSection}${customerSection}`;
    res.send(page({ title: 'Recommendations', admin: { current: '/admin/recommendations' }, body }));
  });

  router.get('/admin/settings', async (req, res) => {
    res.send(await settingsPage(tactful, q(req, 'saved') === '1' ? 'Saved.' : undefined));
  });

  router.post('/admin/settings', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ttl = Number(body.optInTokenTtlHours);
    try {
      await tactful.settings.update(
        { requireDoubleOptIn: body.requireDoubleOptIn === 'on', optInTokenTtlHours: Number.isFinite(ttl) ? ttl : -1 },
        adminActor,
      );
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(400).send(await settingsPage(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  });

  router.post('/admin/sensitive', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const list = (typeof body.categories === 'string' ? body.categories : '')
      .split(/[\n,]/)
      .map((c) => c.trim())
      .filter(Boolean);
    try {
      await tactful.settings.update({ sensitiveCategories: list }, adminActor);
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(400).send(await settingsPage(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  });

  router.post('/admin/sender', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
    try {
      await tactful.settings.update(
        { sender: { name: text('senderName'), email: text('senderEmail'), postalAddress: text('senderAddress') } },
        adminActor,
      );
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(400).send(await settingsPage(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  });

  router.post('/admin/contact-policy', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
    const problems: string[] = [];
    const caps = text('caps')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .map((c) => {
        const m = /^(\d+)\s*(?:\/|per)\s*(\d+(?:\.\d+)?)\s*(?:d|days?)?$/i.exec(c);
        if (!m) problems.push(`"${c}" is not a cap: write e.g. 1/3 (one email per 3 days)`);
        return m ? { max: Number(m[1]), days: Number(m[2]) } : null;
      })
      .filter((c): c is { max: number; days: number } => c !== null);
    const quietStart = text('quietStart');
    const quietEnd = text('quietEnd');
    const resend = text('productResendDays');
    try {
      if (problems.length > 0) throw new TactfulError('CONFIG.INVALID', problems.join('; '));
      await tactful.contact.setPolicy({
        caps,
        quietHours: quietStart === '' && quietEnd === '' ? null : { start: quietStart, end: quietEnd },
        defaultTimeZone: text('defaultTimeZone') || 'UTC',
        productResendDays: resend === '' ? null : Number(resend),
      });
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(400).send(await settingsPage(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  });

  router.post('/admin/purposes', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const text = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : '');
    try {
      await tactful.purposes.define(
        {
          key: text('key'),
          title: text('title'),
          description: text('description'),
          documentUrl: text('documentUrl'),
          clause: text('clause'),
          version: text('version'),
        },
        adminActor,
      );
      res.redirect(303, '/admin/settings?saved=1');
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      res.status(400).send(await settingsPage(tactful, undefined, `${error.message} Nothing was changed.`));
    }
  });

  return router;
}

async function settingsPage(tactful: Tactful, ok?: string, error?: string): Promise<string> {
  const settings = await tactful.settings.get();
  const purposes = await tactful.purposes.list();
  const contact = await tactful.contact.policy();
  const purposeForm = (
    p: { key: string; title: string; description: string; documentUrl: string; clause: string; version: string } | null,
  ) => html`<form method="post" action="/admin/purposes" class="card">
<h2>${p ? p.title : 'New purpose'}</h2>
${p ? html`<input type="hidden" name="key" value="${p.key}"><p class="small muted">Key: <code>${p.key}</code>. Changing the version keeps consent given under earlier versions provable.</p>` : html`<label>Key (a-z, 0-9, _)<br><input type="text" name="key" required></label>`}
<label>Title<br><input type="text" name="title" value="${p?.title ?? ''}" required></label>
<label>Question shown to customers<br><input type="text" name="description" value="${p?.description ?? ''}" style="width:100%"></label>
<label>Terms document URL<br><input type="url" name="documentUrl" value="${p?.documentUrl ?? ''}" required style="width:100%"></label>
<div class="grid"><label>Clause<br><input type="text" name="clause" value="${p?.clause ?? ''}" required></label><label>Version<br><input type="text" name="version" value="${p?.version ?? ''}" required></label></div>
${p ? html`<p class="small"><a href="${safeUrl(p.documentUrl)}" rel="noopener noreferrer" target="_blank">Open the clause</a></p>` : ''}
<button type="submit">${p ? 'Save purpose' : 'Add purpose'}</button></form>`;
  return page({
    title: 'Settings',
    admin: { current: '/admin/settings' },
    body: html`<h1>Settings</h1>
${ok ? html`<div class="notice ok" role="status">${ok}</div>` : ''}${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/admin/settings" class="card"><h2>Consent</h2>
<label class="check"><input type="checkbox" name="requireDoubleOptIn"${settings.requireDoubleOptIn ? html` checked` : ''}><span>Require double opt-in (a confirmation email) before anyone is mailed</span></label>
<label>Confirmation links stay valid for (hours)<br><input type="number" name="optInTokenTtlHours" min="1" max="720" value="${settings.optInTokenTtlHours}"></label>
<p class="small muted">Connected systems: ${settings.connectedSystems.join(', ') || 'none'}.</p>
<button type="submit">Save</button></form>
<form method="post" action="/admin/sender" class="card"><h2>Sender identity</h2>
<p class="small muted">Every campaign email names its sender and carries a postal address (CAN-SPAM, ePrivacy). With Mailchimp, the address shown is the audience's own contact address: keep both the same.</p>
<div class="grid"><label>Name emails are from<br><input type="text" name="senderName" value="${settings.sender?.name ?? ''}" required maxlength="100"></label>
<label>Reply address<br><input type="email" name="senderEmail" value="${settings.sender?.email ?? ''}" required></label></div>
<label>Postal address<br><input type="text" name="senderAddress" value="${settings.sender?.postalAddress ?? ''}" required style="width:100%"></label>
<button type="submit">Save</button></form>
<form method="post" action="/admin/sensitive" class="card"><h2>Sensitive categories</h2>
<p class="small muted">Purchases in these catalogue categories (health, intimate items, ...) are never the basis or the stated reason of a recommendation, unless the customer allowed exactly that category in their preference centre.</p>
<label>Categories (one per line or comma-separated)<br><textarea name="categories" rows="3" style="width:100%">${settings.sensitiveCategories.join('\n')}</textarea></label>
<button type="submit">Save</button></form>
<form method="post" action="/admin/contact-policy" class="card"><h2>Frequency caps and quiet hours</h2>
<label>Caps (emails per days, all apply)<br><input type="text" name="caps" value="${contact.caps.map((c) => `${c.max}/${c.days}`).join(', ')}"></label>
<div class="grid"><label>Quiet hours from<br><input type="text" name="quietStart" placeholder="21:00" value="${contact.quietHours?.start ?? ''}"></label>
<label>to<br><input type="text" name="quietEnd" placeholder="08:00" value="${contact.quietHours?.end ?? ''}"></label></div>
<label>Time zone when the customer's is unknown<br><input type="text" name="defaultTimeZone" value="${contact.defaultTimeZone}"></label>
<label>Do not feature the same product to the same person again within (days; empty for no limit)<br><input type="number" name="productResendDays" min="1" value="${contact.productResendDays ?? ''}"></label>
<button type="submit">Save</button></form>
<h2>Purposes and their clauses</h2>
${purposes.map((p) => purposeForm(p))}
${purposeForm(null)}`,
  });
}
