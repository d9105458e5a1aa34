import { randomUUID } from 'node:crypto';
import { type ConsentEvidence, isTactfulError, parseEmail } from '@tactful/core';
import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import { field, fieldList } from '../form-fields.js';
import { html } from '../html.js';
import { messagePage } from '../layout.js';
import { freshForPrivacy, readSignedToken, type SignedPayloads } from '../signed-links.js';
import { emailOfSubject, ordersOfSubject, productTitles, subjectRecord } from '../subject-data.js';
import { customerPreferences, evidenceOf } from './evidence.js';
import { preferencesHolder, subjectOfLink } from './links.js';
import { sendConfirmation, sendPreferenceLink } from './mails.js';
import { purposeTitles } from './purposes.js';
import { linkRefusal, refusal } from './refusal.js';
import { demoInboxHint } from './views/parts.js';
import {
  editableAttributes,
  linkRequestPage,
  type PreferenceCentre,
  preferenceCentrePage,
} from './views/preference-centre.js';

/** Gathers what the preference centre shows for the person of a valid link. */
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
  let recommendations: PreferenceCentre['recommendations'];
  if (personalization?.state !== 'granted') {
    recommendations = { kind: 'not-allowed' };
  } else {
    try {
      const result = await tactful.recommend.forCustomer(email, { k: 5 });
      const titles = await productTitles(
        tactful,
        result.recommendations.flatMap((r) => r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : []))),
      );
      recommendations = { kind: 'list', list: result.recommendations, titles };
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      recommendations = { kind: 'refused', message: error.message };
    }
  }
  return preferenceCentrePage({
    shopId: tactful.shopId,
    token,
    expiresAt: payload.exp,
    fresh,
    saved,
    email,
    record,
    purposes,
    consent: view,
    history,
    orders,
    profile,
    shaping,
    recommendations,
  });
}

/** The preference centre behind a signed link: see the choices and the data, change them, ask for a link. */
export function preferenceRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

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
    if (email && (await tactful.mailThrottle.take(email)).allowed)
      await sendPreferenceLink(ctx, email, subjectId, 'renewed');
    res.send(
      messagePage(
        'Check your inbox',
        'A link to your preferences is on its way to the address this link was sent to. ' +
          'We send at most two every ten minutes.',
        'ok',
        html`${demoInboxHint(ctx.demo)}`,
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
    if (subjectId && (await tactful.mailThrottle.take(email)).allowed)
      await sendPreferenceLink(ctx, email, subjectId, 'asked');
    // The same answer either way: the page does not tell who is a customer.
    res.send(
      messagePage(
        'Check your inbox',
        `If ${email} is known to this shop, a link to your preferences is on its way.`,
        'ok',
        html`${demoInboxHint(ctx.demo)}`,
      ),
    );
  });

  router.post('/preferences', async (req, res) => {
    const token = field(req.body, 'token') ?? '';
    const holder = await preferencesHolder(tactful, token, res);
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
    const holder = await preferencesHolder(tactful, token, res);
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
    const holder = await preferencesHolder(tactful, token, res);
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

  return router;
}
