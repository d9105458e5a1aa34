import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import express, { type Request, type Response, type Router } from 'express';
import {
  isTactfulError,
  parseEmail,
  type ConsentEvidence,
  type PreferencesView,
  type ProfileAttributes,
  type Purpose,
  type PurposeConsentView,
  type RecommendationReason,
  type Tactful,
  PREFERENCES_LINK_TTL_HOURS,
  consentMethodLabel,
} from '@tactful/core';
import { absoluteUrl, type AppContext } from './context.js';
import { html, type SafeHtml } from './html.js';
import { messagePage, page, safeUrl } from './layout.js';
import {
  freshForPrivacy,
  PRIVACY_LINK_MAX_AGE_MINUTES,
  readSignedToken,
  signPreferencesToken,
  type SignedPayloads,
} from './signed-links.js';
import { emailOfSubject, ordersOfSubject, productTitles, subjectRecord } from './subject-data.js';

const customerForm = { type: 'customer' as const, id: 'subscribe-form' };
const customerPreferences = { type: 'customer' as const, id: 'preference-centre' };

/** First-party evidence of a request: the client's IP (normalised) and user agent. Stored encrypted by the core. */
export function evidenceOf(req: Request): ConsentEvidence {
  const evidence: ConsentEvidence = {};
  const ip = (req.ip ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  if (isIP(ip)) evidence.ip = ip;
  const ua = req.get('user-agent');
  if (ua) evidence.userAgent = ua.slice(0, 1024);
  return evidence;
}

function field(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

function fieldList(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function stateBadge(state: string): SafeHtml {
  return html`<span class="state state-${['granted', 'pending', 'withdrawn'].includes(state) ? state : 'none'}">${state}</span>`;
}

function clauseLink(p: { documentUrl: string; clause: string; version: string }): SafeHtml {
  return html`<a href="${safeUrl(p.documentUrl)}" rel="noopener noreferrer" target="_blank">${p.clause}</a> <span class="muted small">(version ${p.version})</span>`;
}

const tokenErrors: Record<string, { status: number; title: string }> = {
  'CONSENT.TOKEN_FORGED': { status: 400, title: 'This link is not valid' },
  'CONSENT.TOKEN_EXPIRED': { status: 400, title: 'This link has expired' },
  'CONSENT.TOKEN_USED': { status: 409, title: 'This link was already used' },
};

/** Renders the page for a refused token or bad input and returns true; false for anything unexpected. */
function refusal(res: Response, error: unknown, next: string): boolean {
  if (!isTactfulError(error)) return false;
  const known = tokenErrors[error.code];
  if (known) {
    res
      .status(known.status)
      .send(
        messagePage(
          known.title,
          `${error.message} Nothing was changed.`,
          'error',
          html`<p>${next}</p><p><a href="/subscribe">Subscribe form</a> · <a href="/preferences">Ask for a preference link</a></p>`,
        ),
      );
    return true;
  }
  if (error.code === 'PROFILE.INVALID' || error.code.startsWith('PREFERENCES.')) {
    res
      .status(400)
      .send(messagePage('That did not work', `${error.message} Nothing was changed.`, 'error', html`<p>${next}</p>`));
    return true;
  }
  if (
    error.code === 'CONSENT.INVALID' ||
    error.code === 'CONSENT.UNKNOWN_PURPOSE' ||
    error.code === 'SUBJECT.NOT_FOUND'
  ) {
    res
      .status(400)
      .send(
        messagePage(
          'That did not work',
          `${error.message} Nothing was changed.`,
          'error',
          html`<p><a href="/subscribe">Back to the form</a></p>`,
        ),
      );
    return true;
  }
  return false;
}

async function purposeTitles(tactful: Tactful): Promise<Map<string, Purpose>> {
  return new Map((await tactful.purposes.list()).map((p) => [p.key, p]));
}

function subscribeForm(
  purposes: readonly Purpose[],
  values: { email?: string | undefined; chosen?: readonly string[] | undefined; error?: string | undefined } = {},
): string {
  return page({
    title: 'Subscribe',
    narrow: true,
    body: html`<h1>Stay in touch</h1>
${values.error ? html`<div class="notice error" role="alert">${values.error}</div>` : ''}
<form method="post" action="/subscribe" class="card">
  <label>Your email address<br><input type="email" name="email" required autocomplete="email" value="${values.email ?? ''}"></label>
  <p class="muted small">Choose what you agree to. Each choice is separate, and you can change it at any time.</p>
  ${purposes.map(
    (
      p,
    ) => html`<label class="check"><input type="checkbox" name="purpose" value="${p.key}"${values.chosen?.includes(p.key) ? html` checked` : ''}>
    <span><strong>${p.title}</strong><br>${p.description}<br><span class="small">Terms: ${clauseLink(p)}</span></span></label>`,
  )}
  <p><button type="submit">Subscribe</button></p>
</form>
<p class="small"><a href="/preferences">Already subscribed? Manage your preferences</a></p>`,
  });
}

/** The preference-centre link for a subject, signed for this shop. */
async function preferencesLink(ctx: AppContext, subjectId: string): Promise<string> {
  return absoluteUrl(ctx, '/preferences', { token: await signPreferencesToken(ctx.tactful, subjectId) });
}

/** A message confirming the subscription, with the one-click unsubscribe headers of RFC 8058. */
async function sendWelcome(
  ctx: AppContext,
  email: string,
  subjectId: string,
  purposes: readonly string[],
): Promise<void> {
  const links: Record<string, string> = { preferences: await preferencesLink(ctx, subjectId) };
  const headers: Record<string, string> = {};
  if (purposes.includes('email_marketing')) {
    links.unsubscribe = absoluteUrl(ctx, '/unsubscribe', {
      token: await ctx.tactful.consent.unsubscribeToken(email, 'email_marketing'),
    });
    headers['List-Unsubscribe'] = `<${links.unsubscribe}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  await ctx.mailer.send({
    to: email,
    subject: 'Your subscription is confirmed',
    text: `Thank you: your choices are saved.\n\nSee what we hold about you and change your choices: ${links.preferences}\n${links.unsubscribe ? `Unsubscribe from our emails with one click: ${links.unsubscribe}\n` : ''}`,
    headers,
    links,
  });
}

async function sendConfirmation(
  ctx: AppContext,
  email: string,
  token: string,
  purposes: readonly string[],
  titles: Map<string, Purpose>,
): Promise<void> {
  const confirm = absoluteUrl(ctx, '/confirm', { token });
  await ctx.mailer.send({
    to: email,
    subject: 'Please confirm your subscription',
    text: `Someone (we hope you) asked to subscribe ${email} to: ${purposes.map((p) => titles.get(p)?.title ?? p).join(', ')}.\n\nConfirm here: ${confirm}\n\nIf it was not you, ignore this message: nothing happens without your confirmation.`,
    headers: {},
    links: { confirm },
  });
}

function demoInboxHint(ctx: AppContext): SafeHtml | string {
  return ctx.demo
    ? html`<p class="small muted">Demo mode: emails are not sent; read them in the <a href="/demo/mail">demo inbox</a>.</p>`
    : '';
}

function describeReason(reason: RecommendationReason, titles: Map<string, string>): SafeHtml {
  switch (reason.kind) {
    case 'bought-with':
      return html`because you bought <strong>${titles.get(reason.because) ?? reason.because}</strong>: customers who bought it also bought this in ${reason.stats.count} orders
        (${(reason.stats.confidence * 100).toFixed(0)}% of them; ${reason.stats.lift.toFixed(1)}× more often than chance)`;
    case 'popular-in-category':
      return html`popular in <strong>${reason.category}</strong>, a category you bought from (${reason.count} orders)`;
    case 'declared-interest':
      return html`because you told us you like <strong>${reason.category}</strong>: one of its most popular products (${reason.count} orders)`;
    case 'popular':
      return html`one of the shop's most popular products (${reason.count} orders)`;
  }
}

export function publicPages(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

  router.get('/', (_req, res) => res.redirect(303, '/subscribe'));

  router.get('/subscribe', async (_req, res) => {
    res.send(subscribeForm(await tactful.purposes.list()));
  });

  router.post('/subscribe', async (req, res) => {
    const purposes = await tactful.purposes.list();
    const known = new Set(purposes.map((p) => p.key));
    const rawEmail = (field(req.body, 'email') ?? '').trim();
    const chosen = [...new Set(fieldList(req.body, 'purpose'))];
    const problems: string[] = [];
    let email = '';
    try {
      email = parseEmail(rawEmail);
    } catch {
      problems.push(rawEmail === '' ? 'Enter your email address.' : `"${rawEmail}" is not a valid email address.`);
    }
    const unknown = chosen.filter((c) => !known.has(c));
    if (unknown.length > 0) problems.push(`Unknown choice: ${unknown.join(', ')}. Reload the page and try again.`);
    if (chosen.length === 0) problems.push('Tick at least one box: we only record what you choose.');
    if (problems.length > 0) {
      res.status(400).send(subscribeForm(purposes, { email: rawEmail, chosen, error: problems.join(' ') }));
      return;
    }
    const titles = new Map(purposes.map((p) => [p.key, p]));
    const evidence: ConsentEvidence = { ...evidenceOf(req), formId: 'tactful-subscribe' };
    const settings = await tactful.settings.get();
    if (settings.requireDoubleOptIn) {
      // Anyone can type any address into this form: a purpose the person already granted is not asked
      // again (a new request would turn it back to pending until they confirm). The page reads the same
      // either way, so it does not tell who subscribed.
      const subjectId = await tactful.audit.subjectIdOf(email);
      const granted = new Set(
        subjectId
          ? (await tactful.consent.show(email)).purposes.filter((p) => p.state === 'granted').map((p) => p.purpose)
          : [],
      );
      const toRequest = chosen.filter((p) => !granted.has(p));
      // One address gets at most one such email every few minutes, however many clients post it; the page
      // reads the same when the email is held back (the earlier link still works).
      const mayMail = (toRequest.length > 0 || subjectId !== null) && (await tactful.mailThrottle.take(email)).allowed;
      // Held back: nothing is requested and nothing sent.
      if (mayMail && toRequest.length > 0) {
        const ticket = await tactful.consent.requestOptIn({ email, purposes: toRequest, evidence }, customerForm);
        await sendConfirmation(ctx, email, ticket.token, toRequest, titles);
      } else if (mayMail && subjectId) {
        const link = await preferencesLink(ctx, subjectId);
        await ctx.mailer.send({
          to: email,
          subject: 'You are already subscribed',
          text: `Someone (we hope you) asked to subscribe ${email} again: you already receive what was asked for, so nothing changed.\n\nSee or change your choices: ${link}`,
          headers: {},
          links: { preferences: link },
        });
      }
      res.send(
        messagePage(
          'Check your inbox',
          `We sent a confirmation link to ${email}. Your subscription starts when you click it (the link is valid for ${settings.optInTokenTtlHours} hours).`,
          'ok',
          html`${demoInboxHint(ctx)}`,
        ),
      );
      return;
    }
    const occurredAt = tactful.now();
    const batch = randomUUID();
    let subjectId = '';
    for (const purpose of chosen) {
      const outcome = await tactful.consent.record(
        {
          subject: { email },
          purpose,
          state: 'granted',
          level: 'single',
          occurredAt,
          source: { system: 'tactful', eventId: `form:${batch}:${purpose}`, method: 'form' },
          evidence,
        },
        customerForm,
      );
      subjectId = outcome.subjectId;
    }
    if ((await tactful.mailThrottle.take(email)).allowed) await sendWelcome(ctx, email, subjectId, chosen);
    res.send(
      messagePage(
        'You are subscribed',
        `Thank you: ${chosen.map((c) => titles.get(c)?.title ?? c).join(' and ')} recorded for ${email}.`,
        'ok',
        html`${demoInboxHint(ctx)}`,
      ),
    );
  });

  // The confirmation link only shows a button: mail scanners that open links change nothing.
  router.get('/confirm', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    try {
      const payload = await readSignedToken(tactful, token, 'opt-in');
      const titles = await purposeTitles(tactful);
      res.send(
        page({
          title: 'Confirm your subscription',
          narrow: true,
          body: html`<h1>Confirm your subscription</h1>
<div class="card"><p>You asked for:</p><ul>${payload.purposes.map((p) => html`<li><strong>${titles.get(p)?.title ?? p}</strong>${titles.get(p) ? html` — ${clauseLink(titles.get(p)!)}` : ''}</li>`)}</ul>
<form method="post" action="/confirm"><input type="hidden" name="token" value="${token}"><button type="submit">Yes, confirm</button></form></div>`,
        }),
      );
    } catch (error) {
      if (!refusal(res, error, 'Subscribe again to get a new confirmation link.')) throw error;
    }
  });

  router.post('/confirm', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    try {
      const { subjectId, purposes } = await tactful.consent.confirmOptIn(token, evidenceOf(req));
      const titles = await purposeTitles(tactful);
      const email = await emailOfSubject(tactful, subjectId);
      if (email) await sendWelcome(ctx, email, subjectId, purposes);
      res.send(
        messagePage(
          'Subscription confirmed',
          `Thank you: ${purposes.map((p) => titles.get(p)?.title ?? p).join(' and ')} confirmed.`,
          'ok',
          html`<p><a class="button" href="${await preferencesLink(ctx, subjectId)}">See what we hold and why</a></p>${demoInboxHint(ctx)}`,
        ),
      );
    } catch (error) {
      if (!refusal(res, error, 'Subscribe again to get a new confirmation link.')) throw error;
    }
  });

  // RFC 8058: GET shows a button; POST with List-Unsubscribe=One-Click (from the button or the mail client) unsubscribes.
  router.get('/unsubscribe', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : '';
    try {
      const payload = await readSignedToken(tactful, token, 'unsubscribe');
      const purpose = (await purposeTitles(tactful)).get(payload.purpose);
      res.send(
        page({
          title: 'Unsubscribe',
          narrow: true,
          body: html`<h1>Unsubscribe</h1><div class="card"><p>Stop <strong>${purpose?.title ?? payload.purpose}</strong>?</p>
<form method="post" action="/unsubscribe?token=${encodeURIComponent(token)}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" class="danger">Unsubscribe</button></form></div>`,
        }),
      );
    } catch (error) {
      if (!refusal(res, error, 'Use the link of a more recent email, or the preference centre.')) throw error;
    }
  });

  router.post('/unsubscribe', express.text({ type: 'multipart/form-data', limit: '16kb' }), async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : (field(req.body, 'token') ?? '');
    const oneClick =
      typeof req.body === 'string'
        ? /name="List-Unsubscribe"\r?\n\r?\nOne-Click\r?\n/i.test(req.body)
        : field(req.body, 'List-Unsubscribe') === 'One-Click';
    if (!oneClick) {
      res
        .status(400)
        .send(
          messagePage(
            'Unsubscribe request incomplete',
            'This request does not carry List-Unsubscribe=One-Click (RFC 8058). Nothing was changed: open the link and press the button.',
            'error',
          ),
        );
      return;
    }
    try {
      const outcome = await tactful.consent.unsubscribe(token, evidenceOf(req));
      const purpose = (await purposeTitles(tactful)).get(outcome.purpose);
      res.send(
        messagePage(
          'You are unsubscribed',
          outcome.alreadyWithdrawn
            ? `You were already unsubscribed from ${purpose?.title ?? outcome.purpose}.`
            : `Done: no more ${purpose?.title ?? outcome.purpose}.`,
          'ok',
          sendLinkForm(
            token,
            'Want to change your other choices? ' +
              'We can email a link to your preferences to the address this email was sent to.',
          ),
        ),
      );
    } catch (error) {
      if (!refusal(res, error, 'Use the link of a more recent email, or the preference centre.')) throw error;
    }
  });

  // The preference centre.
  router.get('/preferences', async (req, res) => {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (token === undefined) {
      res.send(linkRequestPage());
      return;
    }
    try {
      const payload = await readSignedToken(tactful, token, 'preferences');
      const saved = req.query.saved === 'confirm' ? 'confirm' : typeof req.query.saved === 'string' ? 'saved' : null;
      res.send(await preferenceCentre(ctx, payload, token, saved));
    } catch (error) {
      if (!linkRefusal(res, error, token) && !refusal(res, error, 'Ask for a new preference link.')) throw error;
    }
  });

  // "Email me a link to my preferences", from the unsubscribe page or an expired preference link: the fresh
  // link goes to the address on file and the page shows neither, so holding a forwarded email is not enough.
  router.post('/preferences/send-link', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    let subjectId: string;
    try {
      subjectId = await subjectOfLink(tactful, token);
    } catch (error) {
      if (!refusal(res, error, 'Ask for a preference link with your email address instead.')) throw error;
      return;
    }
    const email = await emailOfSubject(tactful, subjectId);
    if (email && (await tactful.mailThrottle.take(email)).allowed) {
      const link = await preferencesLink(ctx, subjectId);
      await ctx.mailer.send({
        to: email,
        subject: 'Your preference link',
        text:
          'See what we hold about you and change your choices ' +
          `(this link works for ${PREFERENCES_LINK_TTL_HOURS} hours): ${link}`,
        headers: {},
        links: { preferences: link },
      });
    }
    res.send(
      messagePage(
        'Check your inbox',
        'A link to your preferences is on its way to the address this link was sent to. ' +
          'We send at most two every ten minutes.',
        'ok',
        html`${demoInboxHint(ctx)}`,
      ),
    );
  });

  router.post('/preferences/link', async (req, res) => {
    const raw = (field(req.body, 'email') ?? '').trim();
    let email: string;
    try {
      email = parseEmail(raw);
    } catch {
      res.status(400).send(linkRequestPage(`"${raw}" is not a valid email address.`));
      return;
    }
    const subjectId = await tactful.audit.subjectIdOf(email);
    if (subjectId && (await tactful.mailThrottle.take(email)).allowed) {
      const link = await preferencesLink(ctx, subjectId);
      await ctx.mailer.send({
        to: email,
        subject: 'Your preference link',
        text: `See what we hold about you and change your choices: ${link}`,
        headers: {},
        links: { preferences: link },
      });
    }
    // The same answer either way: the page does not tell who is a customer.
    res.send(
      messagePage(
        'Check your inbox',
        `If ${email} is known to this shop, a link to your preferences is on its way.`,
        'ok',
        html`${demoInboxHint(ctx)}`,
      ),
    );
  });

  /** The person a preference link names, or null once the answer (refusal, or nothing held) was sent. */
  const preferencesHolder = async (
    token: string,
    res: Response,
  ): Promise<{ subjectId: string; email: string; payload: SignedPayloads['preferences'] } | null> => {
    let payload: SignedPayloads['preferences'];
    try {
      payload = await readSignedToken(tactful, token, 'preferences');
    } catch (error) {
      if (!linkRefusal(res, error, token) && !refusal(res, error, 'Ask for a new preference link.')) throw error;
      return null;
    }
    const subjectId = payload.subject;
    const email = await emailOfSubject(tactful, subjectId);
    if (!email) {
      res.status(410).send(messagePage('No data held', 'We hold no personal data for this link any more.', 'info'));
      return null;
    }
    return { subjectId, email, payload };
  };

  router.post('/preferences', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(token, res);
    if (!holder) return;
    const { email } = holder;
    const wanted = new Set(fieldList(req.body, 'purpose'));
    const view = await tactful.consent.show(email);
    const evidence: ConsentEvidence = { ...evidenceOf(req), formId: 'tactful-preferences' };
    const settings = await tactful.settings.get();
    const now = tactful.now();
    const batch = randomUUID();
    const toGrant: string[] = [];
    for (const p of view.purposes) {
      const on = p.state === 'granted' || p.state === 'pending';
      if (on && !wanted.has(p.purpose)) {
        await tactful.consent.record(
          {
            subject: { email },
            purpose: p.purpose,
            state: 'withdrawn',
            level: 'unknown',
            occurredAt: now,
            source: { system: 'tactful', eventId: `pref:${batch}:${p.purpose}`, method: 'form' },
            evidence,
          },
          customerPreferences,
        );
      } else if (!on && wanted.has(p.purpose)) {
        toGrant.push(p.purpose);
      }
    }
    let note = '';
    if (toGrant.length > 0) {
      if (settings.requireDoubleOptIn) {
        const ticket = await tactful.consent.requestOptIn({ email, purposes: toGrant, evidence }, customerPreferences);
        await sendConfirmation(ctx, email, ticket.token, toGrant, await purposeTitles(tactful));
        note = 'confirm';
      } else {
        for (const purpose of toGrant) {
          await tactful.consent.record(
            {
              subject: { email },
              purpose,
              state: 'granted',
              level: 'single',
              occurredAt: now,
              source: { system: 'tactful', eventId: `pref:${batch}:${purpose}`, method: 'form' },
              evidence,
            },
            customerPreferences,
          );
        }
      }
    }
    res.redirect(303, `/preferences?token=${encodeURIComponent(token)}&saved=${note || '1'}`);
  });

  // Rectification (Art. 16): the customer corrects their details; what they say is stored with source `customer`.
  router.post('/preferences/profile', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(token, res);
    if (!holder) return;
    const current = (await tactful.profiles.show(holder.email)).profile?.attributes ?? {};
    const patch: Record<string, unknown> = {};
    for (const name of editableAttributes) {
      const raw = field(req.body, name);
      if (raw === undefined) continue;
      const value = raw.trim();
      const before = current[name]?.value;
      const beforeText = typeof before === 'string' ? before : '';
      if (value === beforeText) continue; // unchanged: an imported value stays imported
      patch[name] = value === '' ? null : value;
    }
    if (field(req.body, 'interests-shown') === '1') {
      const chosen = [...new Set(fieldList(req.body, 'interest'))].sort();
      const before = current.interests?.value;
      const had = (Array.isArray(before) ? before : []).map((v) => v.toLowerCase()).sort();
      if (JSON.stringify(chosen.map((c) => c.toLowerCase())) !== JSON.stringify(had))
        patch.interests = chosen.length > 0 ? chosen : null;
    }
    try {
      if (Object.keys(patch).length > 0) await tactful.profiles.rectify(holder.email, patch, customerPreferences);
    } catch (error) {
      if (!refusal(res, error, 'Go back, fix the value and save again.')) throw error;
      return;
    }
    res.redirect(303, `/preferences?token=${encodeURIComponent(token)}&saved=1#details`);
  });

  // "Not this": exclude a purchase or a category from personalisation, or undo it; opt in to a sensitive category.
  router.post('/preferences/exclude', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(token, res);
    if (!holder) return;
    const product = field(req.body, 'product');
    const category = field(req.body, 'category');
    const undo = field(req.body, 'undo') === '1';
    try {
      if (field(req.body, 'sensitive') === '1' && category !== undefined)
        await tactful.preferences.allowSensitive(holder.email, category, { undo }, customerPreferences);
      else if (product !== undefined && category === undefined)
        await tactful.preferences.exclude(holder.email, { productId: product }, { undo }, customerPreferences);
      else if (category !== undefined && product === undefined)
        await tactful.preferences.exclude(holder.email, { category }, { undo }, customerPreferences);
      else {
        res
          .status(400)
          .send(messagePage('That did not work', 'Choose one purchase or one category. Nothing was changed.', 'error'));
        return;
      }
    } catch (error) {
      if (!refusal(res, error, 'Go back to your preferences and try again.')) throw error;
      return;
    }
    res.redirect(303, `/preferences?token=${encodeURIComponent(token)}&saved=1#not-this`);
  });

  // Data-subject rights through the core's privacy module: access (a JSON download) and erasure.
  const privacyAction = (action: 'export' | 'erase') => async (req: Request, res: Response) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(token, res);
    if (!holder) return;
    const { email } = holder;
    if (!freshForPrivacy(holder.payload, tactful.now())) {
      res
        .status(403)
        .send(
          messagePage(
            'We need a fresh link first',
            `To ${action === 'export' ? 'download' : 'delete'} your data, use a link we emailed you in the last ` +
              `${PRIVACY_LINK_MAX_AGE_MINUTES} minutes: links travel in emails that get forwarded. Nothing was changed.`,
            'error',
            sendLinkForm(token, 'We send the fresh link to the address on file.'),
          ),
        );
      return;
    }
    if (action === 'export') {
      const data = await tactful.privacy.export(email, customerPreferences);
      res
        .set('Content-Disposition', 'attachment; filename="my-data.json"')
        .set('Cache-Control', 'no-store')
        .type('application/json')
        .send(JSON.stringify(data, null, 2));
      return;
    }
    if (field(req.body, 'confirm') !== 'yes') {
      res
        .status(400)
        .send(
          messagePage(
            'Please confirm',
            'Tick the box to confirm that you want your data deleted. Nothing was changed.',
            'error',
          ),
        );
      return;
    }
    await tactful.privacy.erase(email, { reason: 'customer request (preference centre)' }, customerPreferences);
    res.send(
      messagePage(
        'Your data is deleted',
        'We deleted the personal data we held about you. We keep only a keyed fingerprint of your address so that no later import adds you back, and the proof of your past choices without your address.',
        'ok',
      ),
    );
  };
  router.post('/preferences/export', privacyAction('export'));
  router.post('/preferences/erase', privacyAction('erase'));

  return router;
}

/** A button that mails a fresh preference link to the address on file of the token's person. */
function sendLinkForm(token: string, note: string): SafeHtml {
  return html`${note ? html`<p>${note}</p>` : ''}<form method="post" action="/preferences/send-link"><input type="hidden" name="token" value="${token}"><button type="submit" class="secondary">Email me a link to my preferences</button></form>`;
}

/** An authentic preference link that expired: say so, and offer a fresh one by email (never show the data). */
function linkRefusal(res: Response, error: unknown, token: string): boolean {
  if (!isTactfulError(error, 'CONSENT.TOKEN_EXPIRED')) return false;
  res
    .status(400)
    .send(
      messagePage(
        'This link has expired',
        `Preference links work for ${PREFERENCES_LINK_TTL_HOURS} hours. Nothing was changed.`,
        'error',
        sendLinkForm(token, 'We can email a fresh link to the address this one was sent to.'),
      ),
    );
  return true;
}

/** The person of a preference link (expired ones too) or an unsubscribe link: only to mail them a fresh link. */
async function subjectOfLink(tactful: Tactful, token: string): Promise<string> {
  try {
    return (await readSignedToken(tactful, token, 'preferences', { allowExpired: true })).subject;
  } catch (error) {
    if (!isTactfulError(error, 'CONSENT.TOKEN_FORGED')) throw error;
    return (await readSignedToken(tactful, token, 'unsubscribe')).subject;
  }
}

function linkRequestPage(error?: string): string {
  return page({
    title: 'Your preferences',
    narrow: true,
    body: html`<h1>Your preferences</h1>${error ? html`<div class="notice error" role="alert">${error}</div>` : ''}
<form method="post" action="/preferences/link" class="card"><p>We will email you a private link to see what we hold about you and change your choices.</p>
<label>Your email address<br><input type="email" name="email" required autocomplete="email"></label><p><button type="submit">Email me my link</button></p></form>`,
  });
}

const attributeLabels: Record<string, string> = {
  firstName: 'First name',
  lastName: 'Last name',
  gender: 'Gender',
  birthDate: 'Birth date',
  country: 'Country',
  region: 'Region',
  city: 'City',
  jobTitle: 'Job title',
  timeZone: 'Time zone',
  phone: 'Phone',
};

/** What a customer may correct in the preference centre (interests are chosen from the catalogue's categories). */
const editableAttributes = [
  'firstName',
  'lastName',
  'gender',
  'birthDate',
  'country',
  'region',
  'city',
  'jobTitle',
] as const;

const inputTypes: Partial<Record<(typeof editableAttributes)[number], string>> = { birthDate: 'date' };

function detailsForm(token: string, attributes: ProfileAttributes, shaping: PreferencesView): SafeHtml {
  const text = (name: string) => {
    const v = attributes[name as keyof ProfileAttributes]?.value;
    return typeof v === 'string' ? v : '';
  };
  return html`<form method="post" action="/preferences/profile" class="card" id="details-form"><input type="hidden" name="token" value="${token}">
<p class="small muted">What you enter here replaces what we imported or worked out: it is marked as coming from you, and your name is corrected in the shop's other systems too. Leave a field empty to remove it.</p>
<div class="grid">${editableAttributes.map(
    (name) =>
      html`<label>${attributeLabels[name] ?? name}<br><input name="${name}" type="${inputTypes[name] ?? 'text'}" value="${text(name)}"${name === 'country' ? html` maxlength="2" placeholder="BE"` : ''}></label>`,
  )}</div>
<fieldset><legend>What you like (we use it when we know little about you)</legend><input type="hidden" name="interests-shown" value="1">
${shaping.categories.map(
  (c) =>
    html`<label class="check"><input type="checkbox" name="interest" value="${c.category}"${c.declaredInterest ? html` checked` : ''}><span>${c.category}</span></label>`,
)}</fieldset>
<p><button type="submit">Save my details</button></p></form>`;
}

function excludeButton(
  token: string,
  target: { product: string } | { category: string },
  undo: boolean,
  label: string,
  sensitive = false,
): SafeHtml {
  return html`<form method="post" action="/preferences/exclude" class="inline"><input type="hidden" name="token" value="${token}">
${'product' in target ? html`<input type="hidden" name="product" value="${target.product}">` : html`<input type="hidden" name="category" value="${target.category}">`}
${undo ? html`<input type="hidden" name="undo" value="1">` : ''}${sensitive ? html`<input type="hidden" name="sensitive" value="1">` : ''}
<button type="submit" class="secondary">${label}</button></form>`;
}

function notThisSection(token: string, shaping: PreferencesView): SafeHtml {
  const bought = new Set(shaping.purchases.map((p) => p.category).filter((c): c is string => c !== null));
  const categories = shaping.categories.filter((c) => bought.has(c.category) || c.excluded || c.declaredInterest);
  return html`<p class="small muted">Bought something as a gift, or would rather we did not use a kind of product? Say so: it is then never used to choose what we show or send you, nor named as a reason. You can undo it here at any time.</p>
<table id="not-this-products"><thead><tr><th>Your purchase</th><th>Category</th><th>Used for recommendations</th><th></th></tr></thead><tbody>
${shaping.purchases.map((p) => {
  const category = shaping.categories.find((c) => c.category === p.category);
  const state = p.excluded
    ? 'no (you excluded it)'
    : category?.excluded
      ? 'no (you excluded its category)'
      : category?.sensitive && !category.optedIn
        ? 'no (sensitive category)'
        : 'yes';
  return html`<tr data-product="${p.productId}"><td>${p.title}</td><td>${p.category ?? '—'}</td><td>${state}</td><td>${excludeButton(token, { product: p.productId }, p.excluded, p.excluded ? 'Use it again' : 'Not this')}</td></tr>`;
})}</tbody></table>
<table id="not-this-categories"><thead><tr><th>Category</th><th>Used for recommendations</th><th></th></tr></thead><tbody>
${categories.map(
  (
    c,
  ) => html`<tr data-category="${c.category}"><td>${c.category}${c.sensitive ? html` <span class="small muted">(sensitive)</span>` : ''}</td>
<td>${c.excluded ? 'no (you excluded it)' : c.sensitive && !c.optedIn ? 'no (sensitive: only with your permission)' : 'yes'}</td>
<td>${excludeButton(token, { category: c.category }, c.excluded, c.excluded ? 'Use it again' : 'Not this category')}
${c.sensitive && !c.excluded ? excludeButton(token, { category: c.category }, c.optedIn, c.optedIn ? 'Stop using it' : 'You may use it', true) : ''}</td></tr>`,
)}</tbody></table>`;
}

function purposeRow(p: PurposeConsentView, purpose: Purpose | undefined): SafeHtml {
  const on = p.state === 'granted' || p.state === 'pending';
  return html`<tr><td><label class="check"><input type="checkbox" name="purpose" value="${p.purpose}"${on ? html` checked` : ''}>
<span><strong>${purpose?.title ?? p.purpose}</strong><br><span class="small muted">${purpose?.description ?? ''}</span></span></label></td>
<td>${stateBadge(p.state)}${p.state === 'granted' ? html` <span class="small muted">${p.level === 'confirmed' ? 'confirmed by email' : p.level}</span>` : ''}</td>
<td class="small">${p.since ? p.since.toISOString().slice(0, 10) : '—'}${p.source ? html`<br><span class="muted">${p.source.system}, ${consentMethodLabel(p.source)}</span>` : ''}</td>
<td class="small">${clauseLink(p)}</td></tr>`;
}

async function preferenceCentre(
  ctx: AppContext,
  payload: SignedPayloads['preferences'],
  token: string,
  saved: 'saved' | 'confirm' | null,
): Promise<string> {
  const { tactful } = ctx;
  const subjectId = payload.subject;
  const fresh = freshForPrivacy(payload, tactful.now());
  const email = await emailOfSubject(tactful, subjectId);
  const record = await subjectRecord(tactful, subjectId);
  if (!email || !record) return messagePage('No data held', 'We hold no personal data for this link any more.', 'info');
  const purposes = await purposeTitles(tactful);
  const view = await tactful.consent.show(email);
  const history = await tactful.consent.history(email);
  const orders = await ordersOfSubject(tactful, subjectId);
  const profile = (await tactful.profiles.show(email)).profile;
  const shaping = await tactful.preferences.show(email);
  const personalization = view.purposes.find((p) => p.purpose === 'personalization');
  let recommendations: SafeHtml;
  if (personalization?.state !== 'granted') {
    recommendations = html`<p class="empty">You have not allowed personal recommendations, so we build none for you.</p>`;
  } else {
    try {
      const result = await tactful.recommend.forCustomer(email, { k: 5 });
      const titles = await productTitles(
        tactful,
        result.recommendations.flatMap((r) => r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : []))),
      );
      recommendations =
        result.recommendations.length === 0
          ? html`<p class="empty">Nothing to recommend yet.</p>`
          : html`<ol>${result.recommendations.map((r) => html`<li><strong>${r.product.title}</strong><ul>${r.reasons.map((reason) => html`<li class="small">${describeReason(reason, titles)}</li>`)}</ul></li>`)}</ol>`;
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      recommendations = html`<p class="empty">No recommendations: ${error.message}</p>`;
    }
  }
  const evidenceRows = history.events.filter((e) => e.evidence.ip || e.evidence.userAgent);
  const attributeRows = Object.entries(profile?.attributes ?? {}).flatMap(([name, attribute]) =>
    attribute ? [{ name, ...attribute }] : [],
  );
  return page({
    title: 'Your preferences',
    body: html`<h1>Your preferences</h1>
${saved ? html`<div class="notice ok" role="status">Your choices are saved.${saved === 'confirm' ? ' We sent you an email to confirm what you turned on: it starts when you click the link.' : ''}</div>` : ''}
<p>For <strong>${email}</strong> at ${tactful.shopId}. This private link is valid for ${PREFERENCES_LINK_TTL_HOURS} hours, until ${new Date(payload.exp * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC.</p>
<h2>Your choices</h2>
<form method="post" action="/preferences"><input type="hidden" name="token" value="${token}">
<table><thead><tr><th>Purpose</th><th>State</th><th>Since, from</th><th>Terms</th></tr></thead><tbody>
${view.purposes.map((p) => purposeRow(p, purposes.get(p.purpose)))}</tbody></table>
<p class="small muted">Turning a purpose on sends you a confirmation email first. Turning it off takes effect at once.</p>
<p><button type="submit">Save my choices</button></p></form>

<h2>What we hold and why</h2>
<table><thead><tr><th>Data</th><th>Value</th><th>Where it comes from</th><th>Why we keep it</th></tr></thead><tbody>
<tr><td>Email address</td><td>${email}</td><td>${record.registeredBy ? `${record.registeredBy.source}, ${record.registeredBy.method.replace(/_/g, ' ')}` : '—'}, ${record.createdAt.toISOString().slice(0, 10)}</td><td>To know who made each choice, and to email you what you agreed to.</td></tr>
${Object.entries(record.externalIds).map(([system, id]) => html`<tr><td>Customer id in ${system}</td><td class="mono">${id}</td><td>${system}</td><td>To keep your choices the same in every system the shop uses.</td></tr>`)}
${attributeRows.map(
  (a) =>
    html`<tr><td>${attributeLabels[a.name] ?? a.name}</td><td>${Array.isArray(a.value) ? a.value.join(', ') : a.value}</td><td>${a.source}, ${a.updatedAt.slice(0, 10)}</td><td>To personalise what we show you (you allow personal recommendations).</td></tr>`,
)}
${profile?.rfm ? html`<tr><td>Customer group</td><td>${profile.rfm.label}</td><td>computed from your orders (recency ${profile.rfm.recency}, frequency ${profile.rfm.frequency}, spend ${profile.rfm.monetary} on a 1-5 scale)</td><td>To choose which offers suit you; deleted if you withdraw personal recommendations.</td></tr>` : ''}
${profile && profile.categories.length > 0 ? html`<tr><td>Interests</td><td>${profile.categories.map((c) => c.category).join(', ')}</td><td>the categories of what you bought</td><td>To recommend products you may like.</td></tr>` : ''}
${
  shaping.preferences.excludedProducts.length > 0
    ? html`<tr><td>Purchases you excluded</td><td>${
        shaping.purchases
          .filter((p) => p.excluded)
          .map((p) => p.title)
          .join(', ') || shaping.preferences.excludedProducts.join(', ')
      }</td><td>you, here</td><td>Never used to choose what we show or send you; kept so we remember.</td></tr>`
    : ''
}
${shaping.preferences.excludedCategories.length > 0 ? html`<tr><td>Categories you excluded</td><td>${shaping.preferences.excludedCategories.join(', ')}</td><td>you, here</td><td>Never used to choose what we show or send you; kept so we remember.</td></tr>` : ''}
${shaping.preferences.sensitiveOptIns.length > 0 ? html`<tr><td>Sensitive categories you allowed</td><td>${shaping.preferences.sensitiveOptIns.join(', ')}</td><td>you, here</td><td>Only with your permission do we use purchases in these categories.</td></tr>` : ''}
${profile === null ? html`<tr><td>Profile</td><td class="empty">none</td><td>—</td><td>You have not allowed personal recommendations, so we keep no profile beyond your address and your choices.</td></tr>` : ''}
<tr><td>Record of your choices</td><td>${history.events.length} event${history.events.length === 1 ? '' : 's'}</td><td>the forms, links and systems listed above</td><td>The law asks us to prove each consent: we keep this record even after you withdraw.</td></tr>
${evidenceRows.map(
  (e) =>
    html`<tr><td>Evidence of a choice</td><td class="small">${e.evidence.ip ? `IP ${e.evidence.ip}` : ''}${e.evidence.userAgent ? html`<br>${e.evidence.userAgent}` : ''}</td><td>${consentMethodLabel({ method: e.source.method, formId: e.evidence.formId })}, ${e.occurredAt.toISOString().slice(0, 16).replace('T', ' ')}</td><td>Proof of your ${purposes.get(e.purpose)?.title ?? e.purpose} choice (${e.state}).</td></tr>`,
)}
</tbody></table>

<h2 id="details">Correct your details</h2>
${profile ? detailsForm(token, profile.attributes, shaping) : html`<p class="empty">You have not allowed personal recommendations, so we keep no details about you beyond your address and your choices.</p>`}

<h2 id="not-this">Not this</h2>
${profile ? notThisSection(token, shaping) : html`<p class="empty">Nothing about you is used for recommendations.</p>`}

<h2>Your orders</h2>
${
  orders.length === 0
    ? html`<p class="empty">We hold no orders for you.</p>`
    : html`<p class="small muted">Kept for the sales contract. ${personalization?.state === 'granted' ? 'Because you allow personal recommendations, they also choose what we show you.' : 'They are not used for recommendations, since you have not allowed personalisation.'}</p>
<table><thead><tr><th>Order</th><th>Date</th><th>Products</th><th class="num">Total</th><th>Used for recommendations</th></tr></thead><tbody>
${orders.map(
  (
    o,
  ) => html`<tr><td>${o.name ?? o.orderId}</td><td>${o.createdAt.toISOString().slice(0, 10)}</td><td>${o.lines.map((l, i) => html`${i > 0 ? ', ' : ''}${l.title}${l.quantity > 1 ? ` × ${l.quantity}` : ''}`)}</td>
<td class="num">${o.totalPrice ?? ''} ${o.currency ?? ''}</td><td>${o.counted && personalization?.state === 'granted' ? 'yes' : o.counted ? 'no (no consent)' : 'no (cancelled or refunded)'}</td></tr>`,
)}</tbody></table>`
}

<h2>Why we recommend what we recommend</h2>
${recommendations}

${
  !fresh
    ? html`<h2>Your data</h2><div class="card"><p>To download or delete your data we first email you a fresh link (it allows this for ${PRIVACY_LINK_MAX_AGE_MINUTES} minutes), so that a forwarded email cannot.</p>${sendLinkForm(token, '')}</div>`
    : html`<h2>Your data</h2><div class="card"><form method="post" action="/preferences/export"><input type="hidden" name="token" value="${token}"><button class="secondary" type="submit">Download my data</button></form>
<form method="post" action="/preferences/erase" style="margin-top:1rem"><input type="hidden" name="token" value="${token}">
<label class="check"><input type="checkbox" name="confirm" value="yes" required><span>I understand this deletes my data and cannot be undone.</span></label>
<button class="danger" type="submit">Delete my data</button></form></div>`
}`,
  });
}
