/**
 * The sandbox's route table: each route names its method and its path template as the OpenAPI spec writes
 * it (`/lists/{list_id}/members/{subscriber_hash}`), so a call is counted, faulted and validated under that
 * template. Matching compares path segments (routes are grouped by method and segment count, literal
 * segments before parameters); parameters arrive percent-decoded, by name.
 */
export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body, undefined when the request had none. */
  body: unknown;
}

export interface Route<C> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** The JSON answer (200), or null for 204 No Content; throws an `ApiProblem` for an error answer. */
  handle(context: C, request: RouteRequest): unknown;
}

export interface RouteMatch<C> {
  route: Route<C>;
  params: Record<string, string>;
}

interface Compiled<C> {
  route: Route<C>;
  /** Per segment: the literal text, or null for a parameter (named in `names`). */
  literals: Array<string | null>;
  names: string[];
}

function segmentsOf(path: string): string[] {
  return path === '/' || path === '' ? [] : path.slice(1).split('/');
}

export interface Router<C> {
  /** The route for a request path (below `/3.0`, no trailing slash), or null when none is implemented. */
  match(method: string, path: string): RouteMatch<C> | null;
  /** The route's template for a path, or the path itself: the key a call is counted and faulted under. */
  template(method: string, path: string): string;
}

export function createRouter<C>(routes: ReadonlyArray<Route<C>>): Router<C> {
  const groups = new Map<string, Array<Compiled<C>>>();
  for (const route of routes) {
    const segments = segmentsOf(route.path);
    const names: string[] = [];
    const literals = segments.map((segment) => {
      const param = /^\{([^}]+)\}$/.exec(segment);
      if (!param) return segment;
      names.push(param[1] ?? '');
      return null;
    });
    const key = `${route.method} ${segments.length}`;
    const group = groups.get(key) ?? [];
    if (group.some((other) => other.route.path === route.path))
      throw new Error(`Mailchimp sandbox: ${route.method} ${route.path} is routed twice`);
    group.push({ route, literals, names });
    groups.set(key, group);
  }
  for (const group of groups.values()) group.sort((a, b) => a.names.length - b.names.length);

  function match(method: string, path: string): RouteMatch<C> | null {
    const segments = segmentsOf(path);
    const group = groups.get(`${method} ${segments.length}`);
    if (!group) return null;
    for (const candidate of group) {
      const values: string[] = [];
      let matches = true;
      for (let i = 0; i < segments.length && matches; i += 1) {
        const literal = candidate.literals[i];
        const segment = segments[i] ?? '';
        if (literal === null) {
          if (segment === '') matches = false;
          else values.push(segment);
        } else if (literal !== segment) matches = false;
      }
      if (!matches) continue;
      const params: Record<string, string> = {};
      for (const [i, name] of candidate.names.entries()) {
        try {
          params[name] = decodeURIComponent(values[i] ?? '');
        } catch {
          // A malformed percent-escape names no resource.
          return null;
        }
      }
      return { route: candidate.route, params };
    }
    return null;
  }

  return {
    match,
    template: (method, path) => match(method, path)?.route.path ?? path,
  };
}
