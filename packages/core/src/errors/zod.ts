import type { z } from 'zod';
import { TactfulError } from './tactful-error.js';
import type { TactfulErrorCode } from './catalogue.js';

/** Formats every zod issue as `path: message`, one per line, so a user sees all problems at once. */
export function formatZodIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/** Parses `input` with `schema` or throws a TactfulError with `code` listing every problem. */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  code: TactfulErrorCode,
  what: string,
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = formatZodIssues(result.error);
  throw new TactfulError(code, `Invalid ${what}: ${problems.join('; ')}`, { details: problems });
}
