/**
 * The one msw handler in front of the routes: what every Marketing API request goes through, in Mailchimp's
 * order. A drawn fault first; then the simultaneous-connection limit (429 past it); the call is counted
 * under its endpoint's template; authentication (HTTP Basic with the API key, or an OAuth bearer token);
 * queued faults; an unknown endpoint is a 404; the JSON body is parsed and checked against the OpenAPI spec;
 * then the route answers.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { SandboxFaults } from './faults.js';
import type { SpecValidator } from './openapi.js';
import { ApiProblem, problem, problemResponse, tooManyRequests } from './problem.js';
import type { Route, Router } from './router.js';
import type { SandboxContext } from './routes/index.js';

/** What a test reads of the traffic: `sandbox.calls`. */
export interface MailchimpSandboxCalls {
  /** Calls to one endpoint, e.g. `count('POST', '/lists/{list_id}')`. */
  count(method: string, template: string): number;
  /** Every call by `METHOD template`. */
  all(): Record<string, number>;
  /** Calls that change something (anything but GET). */
  writes(): number;
  total(): number;
  reset(): void;
  /** The most requests in flight at once so far (those refused for concurrency included). */
  readonly peakInFlight: number;
  /** Requests answered 429 because more than `maxConnections` were in flight. */
  readonly rejectedForConcurrency: number;
}

type SpecOperation = NonNullable<ReturnType<SpecValidator['match']>>;

export interface HandlerSettings {
  baseUrl: string;
  apiKey: string;
  accessToken: string | undefined;
  maxConnections: number;
  latencyMs: number | undefined;
  spec: SpecValidator | null;
}

function authorised(header: string | null, apiKey: string, accessToken: string | undefined): boolean {
  if (header === null) return false;
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1) === apiKey;
  }
  return accessToken !== undefined && header === `Bearer ${accessToken}`;
}

export function createSandboxHandler(
  settings: HandlerSettings,
  router: Router<SandboxContext>,
  context: SandboxContext,
  faults: SandboxFaults,
): { handler: HttpHandler; calls: MailchimpSandboxCalls } {
  const { apiKey, accessToken, maxConnections, latencyMs, spec } = settings;
  const counts = new Map<string, number>();
  let inFlight = 0;
  let peakInFlight = 0;
  let rejectedForConcurrency = 0;
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  // The spec's operation for each route, looked up once: matching the route's own template finds the same
  // operation a request path of that route does, without scanning the spec's paths on every request.
  const operations = new Map<Route<SandboxContext>, SpecOperation | null>();
  const operationOf = (validator: SpecValidator, route: Route<SandboxContext>): SpecOperation | null => {
    let operation = operations.get(route);
    if (operation === undefined) {
      operation = validator.match(route.method, route.path);
      operations.set(route, operation);
    }
    return operation;
  };

  // A prefix test, not an msw path pattern: msw would percent-decode the path (and throw on a malformed
  // escape) before the router sees it, and compile its pattern again for every request.
  const prefix = `${settings.baseUrl}/`;
  const handler = http.all(
    ({ request }) => request.url.startsWith(prefix),
    async ({ request }) => {
      const url = new URL(request.url);
      const path = url.pathname.replace(/^\/3\.0/, '').replace(/\/$/, '') || '/';
      const method = request.method.toUpperCase();
      const drawn = faults.drawRequestFault();
      if (drawn) {
        const template = router.template(method, path);
        count(`${method} ${template}`);
        return faults.answerDrawn(drawn, method, template, maxConnections);
      }
      inFlight += 1;
      peakInFlight = Math.max(peakInFlight, inFlight);
      try {
        if (inFlight > maxConnections) {
          rejectedForConcurrency += 1;
          return tooManyRequests(maxConnections, 1);
        }
        const found = router.match(method, path);
        const template = found?.route.path ?? path;
        count(`${method} ${template}`);
        const text = method === 'GET' || method === 'DELETE' ? '' : await request.text();
        if (latencyMs) await new Promise((resolve) => setTimeout(resolve, latencyMs));
        else await new Promise((resolve) => setImmediate(resolve));
        if (!authorised(request.headers.get('authorization'), apiKey, accessToken))
          return problem(
            401,
            'API Key Invalid',
            "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
          );
        const queued = faults.answerQueued(method, template, maxConnections);
        if (queued) return queued;
        if (!found) return problem(404, 'Resource Not Found', `The sandbox does not implement ${method} ${path}.`);
        let body: unknown;
        if (text !== '') {
          try {
            body = JSON.parse(text);
          } catch {
            return problem(400, 'JSON Parse Error', 'We encountered an unspecified JSON parsing error.');
          }
        }
        if (spec) {
          const operation = operationOf(spec, found.route);
          if (!operation)
            return problem(
              404,
              'Resource Not Found',
              `${method} ${path} is not part of the Marketing API specification.`,
            );
          if (operation.bodyRef !== null) {
            const problems = body === undefined ? ['(body) is required'] : spec.validateBody(operation, body);
            if (problems.length > 0)
              return problem(
                400,
                'Invalid Resource',
                "The resource submitted could not be validated. For field-specific details, see the 'errors' array.",
                { errors: problems.map((message) => ({ field: message.split(' ')[0] ?? '', message })) },
              );
          }
        }
        try {
          const result = await found.route.handle(context, { params: found.params, query: url.searchParams, body });
          return result === null ? new HttpResponse(null, { status: 204 }) : HttpResponse.json(result);
        } catch (error) {
          if (error instanceof ApiProblem) return problemResponse(error);
          throw error;
        }
      } finally {
        inFlight -= 1;
      }
    },
  );

  const calls: MailchimpSandboxCalls = {
    count: (method, template) => counts.get(`${method.toUpperCase()} ${template}`) ?? 0,
    all: () => Object.fromEntries(counts),
    writes: () => [...counts].filter(([k]) => !k.startsWith('GET ')).reduce((n, [, v]) => n + v, 0),
    total: () => [...counts.values()].reduce((n, v) => n + v, 0),
    reset: () => counts.clear(),
    get peakInFlight() {
      return peakInFlight;
    },
    get rejectedForConcurrency() {
      return rejectedForConcurrency;
    },
  };
  return { handler, calls };
}
