/**
 * Only core touches the database: the app, the adapters and the examples go through the engine
 * (`createTactful` → `interface Tactful`) and never run SQL, import a database driver or Drizzle, or reach for
 * the raw store. Tests may read the database raw, but only through `rawStore` from `@tactful/core/testing`
 * (a few harnesses of core's own storage, listed below with their reason, use a driver directly).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const skip = new Set(['node_modules', 'dist', '.turbo', 'drizzle', 'core']);

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (skip.has(name) && !(name === 'core' && !dir.endsWith('packages'))) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !/\.d\.ts$/.test(name)) yield path;
  }
}

/** Ways to run SQL or open the database without the engine. */
const rules: Array<[string, RegExp]> = [
  ['runs a query', /\.query\s*(<[^>()]*>)?\s*\(/],
  ['writes SQL with drizzle', /\bsql`/],
  ['imports drizzle-orm', /(from\s+|import\s*\(\s*)['"]drizzle-orm(\/[^'"]*)?['"]/],
  ['imports a database driver', /(from\s+|import\s*\(\s*)['"](pg|@electric-sql\/pglite(\/[^'"]*)?)['"]/],
  ['reaches into core’s store', /packages\/core\/src\/store\//],
  ['uses the raw store', /\b(rawStore|engineInternals)\s*\(|\bmasterKey\b/],
];

/** Test harnesses of core's own storage that live outside packages/core, each with why it needs a driver. */
const storageHarnesses = new Map<string, string>([
  ['test/distribution/statements.test.ts', 'checks every statement core runs against Citus distribution rules'],
  ['test/scale-out/two-stores.ts', 'creates a PostgreSQL database per suite for two instances'],
  ['test/embedded-lock/claimant.ts', 'a child process that holds core’s embedded-folder lock'],
  ['bench/load.ts', 'creates and drops a PostgreSQL database per run'],
  ['bench/segments.ts', 'bulk-generates 100 000 encrypted profiles straight into core’s tables'],
  ['bench/memory.ts', 'opens a bare PGlite in a child process: PGlite’s own memory, measured beside the app’s'],
]);

const isTest = (file: string) =>
  /\.test\.ts$/.test(file) || file.startsWith('test/') || file.startsWith('bench/') || /\/testing\//.test(file);

/** A test's raw access is allowed when it goes through `rawStore(...)` (imported from /testing). */
function testViolations(file: string, text: string): string[] {
  if (storageHarnesses.has(file)) return [];
  const out: string[] = [];
  for (const [n, line] of text.split('\n').entries()) {
    const withoutRaw = line.replace(/\brawStore\([^()]*(\([^()]*\))?[^()]*\)\.query\s*(<[^>()]*>)?\s*\(/g, '');
    for (const [what, rule] of rules) {
      if (what === 'uses the raw store') continue;
      if (rule.test(withoutRaw)) out.push(`${file}:${n + 1} ${what}: ${line.trim()}`);
    }
  }
  return out;
}

function shippedViolations(file: string, text: string): string[] {
  const out: string[] = [];
  for (const [n, line] of text.split('\n').entries())
    for (const [what, rule] of rules) if (rule.test(line)) out.push(`${file}:${n + 1} ${what}: ${line.trim()}`);
  return out;
}

function scan(): { files: number; found: string[] } {
  const found: string[] = [];
  let files = 0;
  for (const top of ['packages', 'examples', 'bench', 'test', 'scripts']) {
    for (const path of sources(join(root, top))) {
      const file = relative(root, path).split('\\').join('/');
      if (file.startsWith('packages/core/') || file === 'test/source/one-door.test.ts') continue;
      files += 1;
      const text = readFileSync(path, 'utf8');
      found.push(...(isTest(file) ? testViolations(file, text) : shippedViolations(file, text)));
    }
  }
  return { files, found };
}

describe('one door into the data', () => {
  it('the rules catch what the app used to do', () => {
    const caught = (line: string) => shippedViolations('x.ts', line).length > 0;
    expect(caught("await tactful.store.query('select 1 as ok')")).toBe(true);
    expect(caught('const q = tactful.store.query.bind(tactful.store); await q<{ n: number }>(text)')).toBe(false);
    expect(caught("const rows = await q<{ n: number }>('select count(*) from subjects')")).toBe(false);
    expect(caught('await db.execute(sql`select 1`)')).toBe(true);
    expect(caught("import { eq } from 'drizzle-orm';")).toBe(true);
    expect(caught("import pg from 'pg';")).toBe(true);
    expect(caught("const { PGlite } = await import('@electric-sql/pglite');")).toBe(true);
    expect(caught("createHmac('sha256', tactful.store.masterKey)")).toBe(true);
    expect(caught("if (req.query.embedded === '1') next();")).toBe(false);
    // A test reads raw only through rawStore.
    expect(testViolations('t.test.ts', "await rawStore(h.store).query<{ n: number }>('select 1')")).toEqual([]);
    expect(testViolations('t.test.ts', "await store.query('select 1')")).not.toEqual([]);
  });

  it('no file outside packages/core runs SQL; tests read raw only through rawStore', () => {
    const { files, found } = scan();
    expect(files).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });

  it('each storage harness listed still exists (a stale exception would hide nothing but mislead)', () => {
    for (const file of storageHarnesses.keys()) expect(statSync(join(root, file)).isFile(), file).toBe(true);
  });
});
