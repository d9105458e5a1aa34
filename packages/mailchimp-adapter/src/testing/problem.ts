/**
 * Mailchimp's error answers: `application/problem+json` bodies with `type`, `title`, `status`, `detail` and
 * `instance` (the spec's `ProblemDetailDocument`), plus `errors` where Mailchimp lists field problems. Route
 * code throws an `ApiProblem`; the request handler turns it into the response.
 */
import { randomUUID } from 'node:crypto';
import { HttpResponse } from 'msw';

/** A Mailchimp error a route answers with; `extra` is merged into the body (e.g. `errors`). */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export function notFound(detail = 'The requested resource could not be found.'): ApiProblem {
  return new ApiProblem(404, 'Resource Not Found', detail);
}

export function invalidResource(detail: string): ApiProblem {
  return new ApiProblem(400, 'Invalid Resource', detail);
}

export function problem(
  status: number,
  title: string,
  detail: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return HttpResponse.json(
    {
      type: 'https://mailchimp.com/developer/marketing/docs/errors/',
      title,
      status,
      detail,
      instance: randomUUID(),
      ...extra,
    },
    { status, headers: { 'content-type': 'application/problem+json; charset=utf-8', ...headers } },
  );
}

export function problemResponse(error: ApiProblem): Response {
  return problem(error.status, error.title, error.detail, error.extra);
}

/** 429: Mailchimp's limit is on simultaneous connections; `retryAfter` in seconds, or none. */
export function tooManyRequests(limit: number, retryAfter?: number): Response {
  const detail = `You have exceeded the limit of ${limit} simultaneous connections.`;
  return retryAfter === undefined
    ? problem(429, 'Too Many Requests', detail)
    : problem(429, 'Too Many Requests', detail, {}, { 'retry-after': String(retryAfter) });
}

export function internalServerError(): Response {
  return problem(
    500,
    'Internal Server Error',
    'An unexpected internal error has occurred. Please contact Support for more information.',
  );
}

export function serviceUnavailable(): Response {
  return problem(503, 'Service Unavailable', 'Mailchimp is temporarily unavailable.');
}
