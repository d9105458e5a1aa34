import { type ConsentState, isTactfulError, parseEmail, rfmLabels, type Tactful, type TestEmail } from '@tactful/core';
import express, { type Request, type Response, type Router } from 'express';
import { adminActorOf } from '../admin-auth.js';
import type { AppContext } from '../context.js';
import { statusOf } from '../error-status.js';
import { bodyText, queryText as q } from '../form-fields.js';
import { sendPreferenceLink } from '../public/mails.js';
import { purposeTitles } from '../public/purposes.js';
import { emailOfSubject, ordersOfSubject, productTitles, subjectRecord } from '../subject-data.js';
import {
  type CustomerListForm,
  customerGonePage,
  customerListPage,
  type CustomerPage,
  customerPage,
  erasedPage,
} from './views/customers.js';

const consentStates: readonly string[] = ['granted', 'pending', 'withdrawn', 'none'];

/** The list's form as typed, and the query it asks core for (or the problems with it). */
async function readListForm(tactful: Tactful, req: Request) {
  const purposes = await tactful.purposes.list();
  const form: CustomerListForm = {
    email: q(req, 'email'),
    consent: {},
    segment: q(req, 'segment'),
    rfm: q(req, 'rfm'),
  };
  const problems: string[] = [];
  const consent: Record<string, ConsentState> = {};
  for (const p of purposes) {
    const value = q(req, `consent.${p.key}`);
    if (value === '') continue;
    form.consent[p.key] = value;
    if (consentStates.includes(value)) consent[p.key] = value as ConsentState;
    else problems.push(`"${value}" is not a consent state: pick granted, pending, withdrawn or no decision.`);
  }
  let email: string | undefined;
  if (form.email !== '') {
    try {
      email = parseEmail(form.email);
    } catch {
      problems.push(`"${form.email}" is not an email address: type the whole address, e.g. ada@example.com.`);
    }
  }
  if (form.rfm !== '' && !rfmLabels.some((l) => l.label === form.rfm))
    problems.push(`"${form.rfm}" is not a customer group: pick one from the list.`);
  const after = q(req, 'after');
  return {
    purposes,
    form,
    problems,
    query: {
      ...(email !== undefined ? { email } : {}),
      ...(Object.keys(consent).length > 0 ? { consent } : {}),
      ...(form.rfm !== '' ? { rfmLabel: form.rfm } : {}),
      ...(form.segment !== '' ? { segment: form.segment } : {}),
      ...(after !== '' ? { after } : {}),
    },
  };
}

/**
 * Customers: the list (search by address through the blind index, filters, pages) and each customer's page,
 * whose every view is audited, with the owner's actions for a request by email: export, erase (typed
 * confirmation), send the preference link, and a test of their email to the owner's own address.
 */
export function adminCustomers(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

  router.get('/admin/customers', async (req, res) => {
    const { purposes, form, problems, query } = await readListForm(tactful, req);
    const settings = await tactful.settings.get();
    const segments = (await tactful.segments.list()).map((s) => s.name);
    let result: Awaited<ReturnType<Tactful['customers']['list']>> = { rows: [], next: null };
    let error = problems.length > 0 ? `${problems.join(' ')} Nothing was searched.` : undefined;
    if (!error) {
      try {
        result = await tactful.customers.list(query);
      } catch (e) {
        if (!isTactfulError(e)) throw e;
        error = e.message;
      }
    }
    const base = new URLSearchParams();
    for (const [k, v] of Object.entries(req.query))
      if (k !== 'after' && typeof v === 'string' && v !== '') base.set(k, v);
    const next = result.next ? new URLSearchParams([...base, ['after', result.next]]).toString() : null;
    res.status(error ? 400 : 200).send(
      customerListPage({
        form,
        purposes,
        segments,
        rfmLabels: rfmLabels.map((l) => l.label),
        rows: result.rows,
        next,
        paged: q(req, 'after') !== '',
        firstPage: base.toString(),
        error,
        currency: settings.currency,
      }),
    );
  });

  /** Gathers and renders the customer's page (after the view was audited); null when they are not (any more) here. */
  async function renderCustomer(
    subjectId: string,
    notes: { ok?: string; error?: string } = {},
  ): Promise<string | null> {
    const email = await emailOfSubject(tactful, subjectId);
    const record = await subjectRecord(tactful, subjectId);
    if (!email || !record) return null;
    const settings = await tactful.settings.get();
    const view = await tactful.consent.show(email);
    const history = await tactful.consent.history(email);
    const profile = (await tactful.profiles.show(email)).profile;
    const shaping = profile ? await tactful.preferences.show(email) : null;
    let recommendations: CustomerPage['recommendations'];
    if (view.purposes.find((p) => p.purpose === 'personalization')?.state !== 'granted')
      recommendations = { kind: 'not-allowed' };
    else {
      try {
        const found = await tactful.recommend.forCustomer(email, { k: 5 });
        const titles = await productTitles(
          tactful,
          found.recommendations.flatMap((r) => r.reasons.flatMap((x) => (x.kind === 'bought-with' ? [x.because] : []))),
        );
        recommendations = { kind: 'list', list: found.recommendations, titles };
      } catch (e) {
        if (!isTactfulError(e)) throw e;
        recommendations = { kind: 'refused', message: e.message };
      }
    }
    return customerPage({
      subjectId,
      email,
      record,
      purposes: await purposeTitles(tactful),
      consent: view.purposes,
      history: history.events,
      profile,
      shaping,
      orders: await ordersOfSubject(tactful, subjectId),
      emails: await tactful.customers.emails(subjectId),
      recommendations,
      currency: settings.currency,
      testTo: settings.sender?.email ?? null,
      demo: ctx.demo,
      ...notes,
    });
  }

  /** Shows the customer's page, audited as a view by the owner, with a note or a refusal. */
  async function show(res: Response, subjectId: string, status: number, notes: { ok?: string; error?: string } = {}) {
    if (!(await tactful.customers.viewed(subjectId, adminActorOf(res)))) {
      res.status(404).send(customerGonePage());
      return;
    }
    const body = await renderCustomer(subjectId, notes);
    if (body === null) res.status(404).send(customerGonePage());
    else res.status(status).send(body);
  }

  router.get('/admin/customers/:subject', async (req, res) => {
    const done = q(req, 'done');
    const ok =
      done === 'link'
        ? 'Their preference link is on its way to their address.'
        : done === 'test'
          ? `The test email is on its way to your address${ctx.demo ? ' (see the demo inbox)' : ''}.`
          : undefined;
    await show(res, req.params.subject, 200, ok ? { ok } : {});
  });

  router.get('/admin/customers/:subject/export.json', async (req, res) => {
    const subjectId = req.params.subject;
    const email = await emailOfSubject(tactful, subjectId);
    if (!email) {
      res.status(404).send(customerGonePage());
      return;
    }
    const bundle = await tactful.privacy.export(email, adminActorOf(res), {
      requestId: `admin-${tactful.now().toISOString()}`,
    });
    res
      .type('application/json')
      .set('Content-Disposition', `attachment; filename="customer-${subjectId.replace(/[^A-Za-z0-9-]/g, '_')}.json"`)
      .send(`${JSON.stringify(bundle, null, 2)}\n`);
  });

  router.post('/admin/customers/:subject/preference-link', async (req, res) => {
    const subjectId = req.params.subject;
    const email = await emailOfSubject(tactful, subjectId);
    if (!email) {
      res.status(404).send(customerGonePage());
      return;
    }
    await sendPreferenceLink(ctx, email, subjectId, 'asked');
    await tactful.customers.acted(subjectId, adminActorOf(res), 'preference link sent');
    res.redirect(303, `/admin/customers/${encodeURIComponent(subjectId)}?done=link`);
  });

  router.post('/admin/customers/:subject/test-send', async (req, res) => {
    const subjectId = req.params.subject;
    const subject = bodyText(req, 'subject').trim();
    const mailbox =
      ctx.demo && 'messages' in ctx.mailer
        ? async (mail: TestEmail) =>
            ctx.mailer.send({
              to: mail.to,
              subject: mail.subject,
              from: `${mail.sender.name} <${mail.sender.email}>`,
              html: mail.html,
              text: mail.text,
              headers: {},
              links: {},
            })
        : undefined;
    if (subject.length > 150) {
      await show(res, subjectId, 400, { error: 'The subject line is longer than 150 characters. Nothing was sent.' });
      return;
    }
    try {
      await tactful.campaign.testSend(
        { subjectId, publicUrl: ctx.publicUrl, ...(subject ? { subject } : {}) },
        { provider: ctx.provider, mailbox, actor: adminActorOf(res) },
      );
      res.redirect(303, `/admin/customers/${encodeURIComponent(subjectId)}?done=test`);
    } catch (error) {
      if (!isTactfulError(error)) throw error;
      await show(res, subjectId, statusOf(error), { error: `${error.message} Nothing was sent.` });
    }
  });

  router.post('/admin/customers/:subject/erase', async (req, res) => {
    const subjectId = req.params.subject;
    const email = await emailOfSubject(tactful, subjectId);
    if (!email) {
      res.status(404).send(customerGonePage());
      return;
    }
    const typed = bodyText(req, 'confirm').trim().toLowerCase();
    if (typed !== email) {
      await show(res, subjectId, 400, {
        error:
          typed === ''
            ? 'Type the customer’s address to confirm the erasure. Nothing was erased.'
            : `“${typed}” is not this customer’s address: type it exactly to confirm. Nothing was erased.`,
      });
      return;
    }
    const result = await tactful.privacy.erase(
      email,
      { reason: 'customer request (by email, to the shop owner)' },
      adminActorOf(res),
    );
    res.send(erasedPage(result));
  });

  return router;
}
