import type { PGlite } from '@electric-sql/pglite';

type Parsers = Record<number, (value: string, typeId?: number) => unknown>;
/** PGlite's `types.arrayParser`, passed in so this module does not load PGlite for a server-only user. */
type ArrayParser = (value: string, parse: (value: string) => unknown, typeId: number) => unknown;
interface QueryOptions {
  parsers?: Parsers;
  [option: string]: unknown;
}
interface Queryable {
  query(text: string, params?: unknown[], options?: QueryOptions): Promise<unknown>;
}

/**
 * The types drizzle's PGlite driver reads as text (timestamp, timestamptz, interval, date, and the arrays of
 * numeric, timestamp, timestamptz, interval and date), mapping them itself. A test pins this list to drizzle's.
 */
export const DRIZZLE_TEXT_TYPES = [1114, 1184, 1186, 1082, 1231, 1115, 1185, 1187, 1182] as const;

/** The element type of each array type among them (PGlite's array parsers look their element's parser up). */
const ELEMENT_OF: Record<number, number> = { 1231: 1700, 1115: 1114, 1185: 1184, 1187: 1186, 1182: 1082 };

/**
 * Drizzle's PGlite driver passes type parsers with every query, one for each of {@link DRIZZLE_TEXT_TYPES}, each
 * returning the text as it is. PGlite merges a query's parsers into a copy of all its own (over 300 types, one
 * per array type too) for every query it runs, which is a fifth to half of a small statement's time. So the
 * client drizzle gets has those parsers set once, as its own, and drizzle's queries go without them: the rows
 * are parsed the same, without the copy. Queries with other parsers pass unchanged.
 *
 * Returns the client to give drizzle, and the parsers the client had for those types before, which other callers
 * of the same client (plain SQL, where a timestamp is read as a Date) pass with their queries.
 */
export function shareDrizzleParsers(
  client: PGlite,
  arrayParser: ArrayParser,
): { forDrizzle: PGlite; ownParsers: Parsers } {
  const target = client as unknown as { parsers: Parsers };
  const ownParsers: Parsers = {};
  const asText = (value: string) => value;
  // Without a parser of its own, PGlite returns the text: the same as an identity parser.
  const own = (type: number) => target.parsers[type] ?? asText;
  for (const type of DRIZZLE_TEXT_TYPES) {
    const element = ELEMENT_OF[type];
    if (element === undefined) ownParsers[type] = own(type);
    else {
      // PGlite's array parser reads its element's parser from the client when it runs, which is text from now on.
      const parseElement = own(element);
      ownParsers[type] = (value: string) => arrayParser(value, parseElement, type);
    }
  }
  for (const type of DRIZZLE_TEXT_TYPES) target.parsers[type] = asText;
  const isDrizzles = (parsers: Parsers) => {
    const keys = Object.keys(parsers);
    return keys.length === DRIZZLE_TEXT_TYPES.length && DRIZZLE_TEXT_TYPES.every((type) => type in parsers);
  };
  const strip = (options: QueryOptions | undefined): QueryOptions | undefined => {
    if (!options?.parsers || !isDrizzles(options.parsers)) return options;
    const { parsers: _shared, ...rest } = options;
    return rest;
  };
  const wrap = <T extends Queryable>(inner: T): T =>
    new Proxy(inner, {
      get(object, property) {
        if (property === 'query')
          return (text: string, params?: unknown[], options?: QueryOptions) =>
            object.query(text, params, strip(options));
        if (property === 'transaction')
          return (run: (tx: Queryable) => Promise<unknown>) =>
            (object as unknown as PGlite).transaction((tx) => run(wrap(tx as unknown as Queryable)));
        const value = Reflect.get(object, property, object);
        return typeof value === 'function' ? value.bind(object) : value;
      },
    });
  return { forDrizzle: wrap(client as unknown as Queryable) as unknown as PGlite, ownParsers };
}
