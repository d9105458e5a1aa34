import { randomUUID } from 'node:crypto';
import { type ConsentEvidence, parseEmail } from '@tactful/core';
import express, { type Router } from 'express';
import type { AppContext } from '../context.js';
import { field, fieldList } from '../form-fields.js';
import { html } from '../html.js';
import { messagePage } from '../layout.js';
import { customerForm, evidenceOf } from './evidence.js';
import { sendAlreadySubscribed, sendConfirmation, sendWelcome } from './mails.js';
import { demoInboxHint } from './views/parts.js';
import { subscribeForm } from './views/subscribe.js';

/** The subscribe form: each purpose a separate choice, granted at once or after a confirmation email. */
export function subscribeRoutes(ctx: AppContext): Router {
  const { tactful } = ctx;
  const router = express.Router();

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
        await sendAlreadySubscribed(ctx, email, subjectId);
      }
      res.send(
        messagePage(
          'Check your inbox',
          `We sent a confirmation link to ${email}. Your subscription starts when you click it (the link is valid for ${settings.optInTokenTtlHours} hours).`,
          'ok',
          html`${demoInboxHint(ctx.demo)}`,
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
        html`${demoInboxHint(ctx.demo)}`,
      ),
    );
  });

  return router;
}
