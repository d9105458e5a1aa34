import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shippedSources } from '../../../../test/support/source-files.js';
import { ADAPTER_ERROR_REASONS, TACTFUL_ERRORS, httpStatusOf, isTactfulErrorCode, meaningOf } from './catalogue.js';
import { TactfulError } from './tactful-error.js';

const packages = fileURLToPath(new URL('../../../', import.meta.url));

/** The shipped sources under `dir`, but the catalogue itself: it is what the others are checked against. */
const sources = (dir: string) => shippedSources(dir).filter((path) => basename(path) !== 'catalogue.ts');

/** Every `'AREA.REASON'` string literal of the packages' sources, with the files it appears in. */
function codesInSources(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const name of readdirSync(packages)) {
    let files: string[];
    try {
      files = sources(join(packages, name, 'src'));
    } catch {
      continue;
    }
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/['"`]([A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*)(['"`]|\$\{)/g)) {
        const code = match[2] === '${' ? `${match[1]}\${` : match[1]!;
        found.set(code, [...(found.get(code) ?? []), file.slice(packages.length)]);
      }
    }
  }
  return found;
}

describe('the error catalogue', () => {
  const found = codesInSources();

  it('holds every code the packages throw, return or compare against', () => {
    expect(found.size).toBeGreaterThan(80);
    const missing = [...found]
      .filter(([code]) => !isTactfulErrorCode(code))
      .map(([code, files]) => `${code} (${files[0]})`);
    expect(missing).toEqual([]);
  });

  it('finds no code built at run time, which no scan could check', () => {
    const built = [...found.keys()].filter((code) => code.endsWith('${'));
    expect(built).toEqual([]);
  });

  it('holds no code that nothing uses', () => {
    expect(Object.keys(TACTFUL_ERRORS).filter((code) => !found.has(code))).toEqual([]);
  });

  it('is listed whole in docs/errors.md', () => {
    const page = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
    const listed = [...Object.keys(TACTFUL_ERRORS), ...Object.keys(ADAPTER_ERROR_REASONS).map((r) => `<VENDOR>.${r}`)];
    expect(listed.filter((code) => !page.includes(`| \`${code}\` `))).toEqual([]);
  });

  it('gives every code a status and a sentence', () => {
    for (const entry of [...Object.values(TACTFUL_ERRORS), ...Object.values(ADAPTER_ERROR_REASONS)]) {
      expect(entry.status).toBeGreaterThanOrEqual(400);
      expect(entry.status).toBeLessThan(600);
      expect(entry.meaning).toMatch(/^[A-Z].*\.$/);
    }
  });

  it('maps codes to statuses: its own, an adapter reason, unknown as 500', () => {
    expect(httpStatusOf('CONSENT.NOT_GRANTED')).toBe(403);
    expect(httpStatusOf('SUBJECT.NOT_FOUND')).toBe(404);
    expect(httpStatusOf('CONSENT.TOKEN_USED')).toBe(409);
    expect(httpStatusOf('WOOCOMMERCE.RATE_LIMITED')).toBe(503);
    expect(httpStatusOf('woocommerce.RATE_LIMITED')).toBe(500);
    expect(httpStatusOf('CONSENT.NO_SUCH_THING')).toBe(500);
    expect(meaningOf('INPUT.INVALID')).toMatch(/not valid/);
    expect(new TactfulError('WOOCOMMERCE.NOT_FOUND', 'gone').code).toBe('WOOCOMMERCE.NOT_FOUND');
  });
});
