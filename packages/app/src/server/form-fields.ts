import type { Request } from 'express';

/** One value of a posted form field: the first one when the field was sent more than once. */
export function field(body: unknown, name: string): string | undefined {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** Every value of a posted form field (a group of checkboxes); none when it is absent. */
export function fieldList(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** A query parameter, trimmed; empty when absent or repeated. */
export function queryText(req: Request, name: string): string {
  const v = req.query[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** A field of a posted form read as the admin forms read them: a string or nothing (empty). */
export function bodyText(req: Request, name: string): string {
  const value = ((req.body ?? {}) as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

/** A field of a form that is sent either way: from the body of a POST, else from the query; trimmed. */
export function formText(req: Request, name: string): string {
  const source =
    req.method === 'POST' ? (req.body as Record<string, unknown> | undefined) : (req.query as Record<string, unknown>);
  const value = source?.[name];
  return typeof value === 'string' ? value.trim() : '';
}
