/**
 * The segment language: a JSON tree of `all` / `any` / `not` over predicates. Each node is an object with
 * exactly one key naming its kind; the leaves are validated with zod and every error names its path
 * (`all[1].orderCount.min`). See docs/privacy.md for the reference and examples.
 */
import { z } from 'zod';
import { purposeKey } from '../consent/event.js';
import { consentStates } from '../ports.js';
import { TactfulError } from '../errors/tactful-error.js';
import { rfmLabels } from '../profile/rfm.js';

export const ageBands = ['<18', '18-24', '25-34', '35-44', '45-54', '55-64', '65+'] as const;
export type AgeBand = (typeof ageBands)[number];
export const ageBandRange: Record<AgeBand, [number, number]> = {
  '<18': [0, 17],
  '18-24': [18, 24],
  '25-34': [25, 34],
  '35-44': [35, 44],
  '45-54': [45, 54],
  '55-64': [55, 64],
  '65+': [65, 200],
};

/** Attributes a predicate may name: the plain ones compare directly, the sealed ones by keyed hash. */
export const segmentAttributes = [
  'firstName',
  'lastName',
  'gender',
  'birthDate',
  'age',
  'country',
  'region',
  'city',
  'jobTitle',
  'timeZone',
] as const;
export type SegmentAttribute = (typeof segmentAttributes)[number];

const oneOrMany = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1).max(1000)]);
const scalar = z.union([z.string().min(1).max(200), z.number()]);
const range = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((r) => r.min !== undefined || r.max !== undefined, 'give min, max or both')
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, 'min is greater than max');
const score = z.number().int().min(1).max(5);
const scoreRange = z.tuple([score, score]).refine(([a, b]) => a <= b, 'the first score is greater than the second');

export const predicateSchemas = {
  attribute: z
    .object({
      name: z.enum(segmentAttributes),
      eq: scalar.optional(),
      in: z.array(scalar).min(1).max(1000).optional(),
      between: z.tuple([z.number(), z.number()]).optional(),
      exists: z.boolean().optional(),
    })
    .strict()
    .refine(
      (p) => [p.eq, p.in, p.between, p.exists].filter((v) => v !== undefined).length === 1,
      'give exactly one of eq, in, between, exists',
    )
    .refine(
      (p) => p.between === undefined || p.name === 'age',
      'between applies to age only (other attributes are text or stored encrypted)',
    ),
  ageBand: oneOrMany(z.enum(ageBands)),
  location: z
    .object({
      country: oneOrMany(z.string().regex(/^[A-Za-z]{2}$/, 'a two-letter ISO country code')).optional(),
      region: oneOrMany(z.string().min(1)).optional(),
      city: oneOrMany(z.string().min(1)).optional(),
    })
    .strict()
    .refine(
      (l) => l.country !== undefined || l.region !== undefined || l.city !== undefined,
      'give country, region or city',
    ),
  interests: z
    .object({
      anyOf: z.array(z.string().min(1)).min(1).optional(),
      allOf: z.array(z.string().min(1)).min(1).optional(),
    })
    .strict()
    .refine((i) => (i.anyOf === undefined) !== (i.allOf === undefined), 'give exactly one of anyOf, allOf'),
  rfm: z
    .object({ recency: scoreRange.optional(), frequency: scoreRange.optional(), monetary: scoreRange.optional() })
    .strict()
    .refine((r) => r.recency || r.frequency || r.monetary, 'give recency, frequency or monetary as [from, to]'),
  rfmLabel: oneOrMany(z.enum(rfmLabels.map((l) => l.label) as [string, ...string[]])),
  purchased: z
    .object({
      product: oneOrMany(z.string().min(1)).optional(),
      category: oneOrMany(z.string().min(1)).optional(),
      withinDays: z.number().int().positive().max(36500).optional(),
    })
    .strict()
    .refine((p) => p.product !== undefined || p.category !== undefined, 'give product, category or both'),
  orderCount: range,
  revenue: range,
  consent: z.object({ purpose: purposeKey, state: oneOrMany(z.enum(consentStates)) }).strict(),
} as const;

export type PredicateKind = keyof typeof predicateSchemas;
export type Predicate = { [K in PredicateKind]: { [P in K]: z.output<(typeof predicateSchemas)[K]> } }[PredicateKind];
export type Segment = { all: Segment[] } | { any: Segment[] } | { not: Segment } | Predicate;

const kinds = ['all', 'any', 'not', ...Object.keys(predicateSchemas)] as const;

function pathText(path: Array<string | number>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

function fail(path: Array<string | number>, message: string): never {
  const where = pathText(path);
  throw new TactfulError('SEGMENT.INVALID', `Invalid segment at ${where}: ${message}`, {
    details: [{ path: where, message }],
  });
}

/** Parses and validates a segment; throws SEGMENT.INVALID naming the path of the first problem. */
export function parseSegment(input: unknown, path: Array<string | number> = [], depth = 0): Segment {
  if (depth > 32) fail(path, 'nested too deeply (32 levels at most)');
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    fail(path, `expected an object with one of the keys ${kinds.join(', ')}`);
  const keys = Object.keys(input);
  if (keys.length !== 1)
    fail(
      path,
      `expected exactly one key (one of ${kinds.join(', ')}), got ${keys.length === 0 ? 'none' : keys.join(', ')}`,
    );
  const kind = keys[0]!;
  const value = (input as Record<string, unknown>)[kind];
  if (kind === 'all' || kind === 'any') {
    if (!Array.isArray(value) || value.length === 0) fail([...path, kind], 'expected a non-empty array of segments');
    return { [kind]: value.map((v, i) => parseSegment(v, [...path, kind, i], depth + 1)) } as Segment;
  }
  if (kind === 'not') return { not: parseSegment(value, [...path, 'not'], depth + 1) };
  // Own keys only: `constructor`, `toString` or `__proto__` must not find Object's members.
  const schema = Object.hasOwn(predicateSchemas, kind)
    ? (predicateSchemas as Record<string, z.ZodType>)[kind]
    : undefined;
  if (!schema) fail(path, `unknown key "${kind}": expected one of ${kinds.join(', ')}`);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    fail([...path, kind, ...(issue.path as Array<string | number>)], issue.message);
  }
  return { [kind]: parsed.data } as Segment;
}

/** Parses segment JSON text; malformed JSON is SEGMENT.INVALID too. */
export function parseSegmentJson(text: string): Segment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new TactfulError('SEGMENT.INVALID', `The segment is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseSegment(value);
}
