/**
 * docs/architecture.md agrees with the code: its table of imports between core's folders, and its list of
 * folders that import each other, are what the source files import today.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const coreSrc = join(root, 'packages/core/src');
const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

/** `consent/` for a file under core's consent folder, `engine.ts` for a file at core's top. */
function unitOf(file: string): string {
  const [first, ...rest] = relative(coreSrc, file).split(sep);
  return rest.length > 0 ? `${first}/` : first!.replace(/\.js$/, '.ts');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Which of core's folders (and top-level files) each one imports, value or type, from non-test files. */
function coreImports(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const specifier = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/g;
  for (const file of sourceFiles(coreSrc)) {
    const from = unitOf(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(specifier)) {
      const to = unitOf(resolve(dirname(file), spec!));
      if (to === from) continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** The rows of the Markdown table that follows `heading` on the page: first cell → the names in the second. */
function tableAfter(heading: string): Map<string, string[]> {
  const start = page.indexOf(heading);
  expect(start, `docs/architecture.md has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const rows = new Map<string, string[]>();
  const lines = page.slice(start).split('\n').slice(1);
  const first = lines.findIndex((line) => line.startsWith('|'));
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    const [, a, b] = line.split('|');
    rows.set(
      a!.trim(),
      [...b!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!),
    );
  }
  return rows;
}

describe('docs/architecture.md agrees with the code', () => {
  const graph = coreImports();

  it("the table of imports between core's folders is the code's", () => {
    const documented = tableAfter("Every import between core's folders");
    const actual = new Map([...graph].map(([from, to]) => [`\`${from}\``, [...to].sort()]));
    expect(Object.fromEntries([...documented].map(([k, v]) => [k, [...v].sort()]))).toEqual(Object.fromEntries(actual));
  });

  it('the folders said to import each other are exactly those that do', () => {
    const mutual = new Set<string>();
    for (const [a, targets] of graph) {
      for (const b of targets) if (a < b && graph.get(b)?.has(a)) mutual.add(`${a} ${b}`);
    }
    const documented = new Set(
      [...tableAfter('These pairs of folders import each other today').keys()].map((pair) =>
        [...pair.matchAll(/`([^`]+)`/g)]
          .map((m) => m[1]!)
          .sort()
          .join(' '),
      ),
    );
    expect([...documented].sort()).toEqual([...mutual].sort());
  });
});
