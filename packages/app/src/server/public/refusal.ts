import { isTactfulError, PREFERENCES_LINK_TTL_HOURS } from '@tactful/core';
import type { Response } from 'express';
import { refusalOf } from '../error-status.js';
import { html } from '../html.js';
import { messagePage } from '../layout.js';
import { sendLinkForm } from './views/parts.js';

/** Renders the page for a refused token or bad input and returns true; false for anything unexpected. */
export function refusal(res: Response, error: unknown, next: string): boolean {
  if (!isTactfulError(error)) return false;
  const known = refusalOf(error.code);
  if (!known || known.offer === 'none') return false;
  const offer =
    known.offer === 'subscribe-form'
      ? html`<p><a href="/subscribe">Back to the form</a></p>`
      : known.offer === 'new-link'
        ? html`<p>${next}</p><p><a href="/subscribe">Subscribe form</a> · <a href="/preferences">Ask for a preference link</a></p>`
        : html`<p>${next}</p>`;
  res.status(known.status).send(messagePage(known.title, `${error.message} Nothing was changed.`, 'error', offer));
  return true;
}

/** An authentic preference link that expired: say so, and offer a fresh one by email (never show the data). */
export function linkRefusal(res: Response, error: unknown, token: string): boolean {
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
