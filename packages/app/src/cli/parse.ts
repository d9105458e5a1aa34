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

/** A fixed-width text table for terminals. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
