import { httpStatusOf, type TactfulError } from '@tactful/core';

/**
 * How a request refused by the core is answered: the HTTP status, and for a page the title shown above the
 * error's own message and what it offers next: `new-link` the route's next step plus the subscribe form and a
 * preference-link request (the link itself is unusable), `next-step` the route's own advice, `subscribe-form`
 * a way back to the form (nothing on the page the person came from can be fixed), `none` no page (a download).
 */
export interface Refusal {
  status: number;
  title: string;
  offer: 'new-link' | 'next-step' | 'subscribe-form' | 'none';
}

const didNotWork = 'That did not work';

/** The one table from error code to answer; a code ending in `.` stands for every code of that family. */
const refusals = new Map<string, Refusal>(
  Object.entries({
    'CONSENT.TOKEN_FORGED': { status: 400, title: 'This link is not valid', offer: 'new-link' },
    'CONSENT.TOKEN_EXPIRED': { status: 400, title: 'This link has expired', offer: 'new-link' },
    'CONSENT.TOKEN_USED': { status: 409, title: 'This link was already used', offer: 'new-link' },
    'PROFILE.INVALID': { status: 400, title: didNotWork, offer: 'next-step' },
    'PREFERENCES.': { status: 400, title: didNotWork, offer: 'next-step' },
    'CONSENT.INVALID': { status: 400, title: didNotWork, offer: 'subscribe-form' },
    'CONSENT.UNKNOWN_PURPOSE': { status: 400, title: didNotWork, offer: 'subscribe-form' },
    // A public page does not confirm whether an address is known (the catalogue's 404 would): the person is
    // offered the subscribe form, as for any other input that did not work.
    'SUBJECT.NOT_FOUND': { status: 400, title: didNotWork, offer: 'subscribe-form' },
    'PRIVACY.NOT_FOUND': { status: 404, title: 'Not found', offer: 'none' },
  } satisfies Record<string, Refusal>),
);

/** The answer to a refusal with this code, or undefined when the code is not a refusal of the request. */
export function refusalOf(code: string): Refusal | undefined {
  return refusals.get(code) ?? refusals.get(code.slice(0, code.indexOf('.') + 1));
}

/**
 * The status of an admin form's refusal: the table's, else 503 for what may pass when tried again (a provider
 * that did not answer), else the status the error catalogue gives the code (`docs/errors.md`).
 */
export function statusOf(error: TactfulError): number {
  return refusalOf(error.code)?.status ?? (error.retryable ? 503 : httpStatusOf(error.code));
}
