import { TactfulError } from '@tactful/core';

/** Flag values from the command line, checked with messages that say what to type instead. */
export function parseIsoDate(value: string, flag: string): Date {
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim());
  const date = new Date(value.trim());
  if (!ok || Number.isNaN(date.getTime())) {
    throw new TactfulError(
      'INPUT.INVALID',
      `${flag} "${value}" is not an ISO date: use e.g. 2026-03-01 or 2026-03-01T09:30:00Z.`,
    );
  }
  return date;
}

export function parseChoice<T extends string>(value: string, flag: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new TactfulError('INPUT.INVALID', `${flag} "${value}" is not one of: ${choices.join(', ')}.`);
  }
  return value as T;
}

export function parsePositiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw new TactfulError('INPUT.INVALID', `${flag} "${value}" must be a positive whole number.`);
  }
  return n;
}

/**
 * A fixed-width text table for terminals, one line at a time: the widths take one pass over the rows (a loop,
 * never a spread, so a table of any length fits the stack), then each line is produced as it is written.
 */
export function* tableLines(headers: readonly string[], rows: readonly (readonly string[])[]): Generator<string> {
  const widths = headers.map((h) => h.length);
  for (const row of rows) {
    for (let i = 0; i < widths.length; i++) {
      const length = (row[i] ?? '').length;
      if (length > widths[i]!) widths[i] = length;
    }
  }
  const line = (cells: readonly string[]) =>
    widths
      .map((w, i) => (cells[i] ?? '').padEnd(w))
      .join('  ')
      .trimEnd();
  yield line(headers);
  yield line(widths.map((w) => '-'.repeat(w)));
  for (const row of rows) yield line(row);
}

/** A fixed-width text table for terminals, as one string (small tables; large ones write `tableLines`). */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return Array.from(tableLines(headers, rows)).join('\n');
}
