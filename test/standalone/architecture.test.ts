/**
 * Core's folders depend one way, and docs/architecture.md agrees with the code: no two folders import each
 * other, no longer cycle runs between them, and the page's table of imports between folders is what the
 * source files import today. A failure names the files whose imports close the cycle.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Crossing, coreImports, specifiersOf } from '../support/core-imports.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');

/** The strongly connected groups of more than one unit (Tarjan): each is a cycle between folders. */
export function cyclesOf(edges: ReadonlyMap<string, Iterable<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1) groups.push(group.sort());
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups;
}

/** "a → b: file (specifier)" for every import between two units of the group. */
function explain(graph: Map<string, Map<string, Crossing[]>>, group: readonly string[]): string[] {
  const members = new Set(group);
  return [...graph].flatMap(([from, targets]) =>
    [...targets]
      .filter(([to]) => members.has(from) && members.has(to))
      .flatMap(([to, crossings]) => crossings.map((c) => `${from} → ${to}: ${c.file} ('${c.specifier}')`)),
  );
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

describe("core's folders depend one way", () => {
  const graph = coreImports();
  const edges = new Map([...graph].map(([from, targets]) => [from, [...targets.keys()]]));

  it('sees every kind of import, so a cycle cannot hide behind a dynamic or type-only one', () => {
    const text = [
      "import { a } from './a.js';",
      "import type {\n  B,\n} from '../b/b.js';",
      "export { c } from './c.js';",
      "import './d.js';",
      "const { e } = await import('../e/e.js');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(specifiersOf(text)).toEqual(['./a.js', '../b/b.js', './c.js', './d.js', '../e/e.js']);
    expect(
      cyclesOf(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c']]);
    expect(
      cyclesOf(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([]);
  });

  it('no two folders import each other', () => {
    const mutual = [...edges].flatMap(([a, targets]) =>
      targets.filter((b) => a < b && edges.get(b)?.includes(a)).map((b) => explain(graph, [a, b]).join('\n  ')),
    );
    expect(mutual, `folders that import each other:\n  ${mutual.join('\n  ')}`).toEqual([]);
  });

  it('no cycle of any length runs between folders', () => {
    const cycles = cyclesOf(edges).map((group) => `${group.join(' ')}:\n    ${explain(graph, group).join('\n    ')}`);
    expect(cycles, `cycles between core's folders:\n  ${cycles.join('\n  ')}`).toEqual([]);
  });
});

describe('docs/architecture.md agrees with the code', () => {
  const graph = coreImports();

  it("the table of imports between core's folders is the code's", () => {
    const documented = tableAfter("Every import between core's folders");
    const actual = new Map([...graph].map(([from, to]) => [`\`${from}\``, [...to.keys()].sort()]));
    expect(Object.fromEntries([...documented].map(([k, v]) => [k, [...v].sort()]))).toEqual(Object.fromEntries(actual));
  });

  it('the drawing draws only real imports, and every import follows its arrows', () => {
    const heading = page.indexOf("## Core's folders depend one way");
    expect(heading, 'docs/architecture.md has no "Core\'s folders depend one way"').toBeGreaterThanOrEqual(0);
    const start = page.indexOf('```mermaid', heading);
    expect(start, 'no drawing under "Core\'s folders depend one way"').toBeGreaterThan(heading);
    const drawing = page.slice(start, page.indexOf('```', start + 3));
    const node = (unit: string) => unit.replace(/\/$/, '').replace('.', '_');
    const drawn = new Map<string, string[]>();
    for (const [, a, b] of drawing.matchAll(/^\s*(\w+)(?:\["[^"]*"\])? --> (\w+)(?:\["[^"]*"\])?\s*$/gm))
      drawn.set(a!, [...(drawn.get(a!) ?? []), b!]);
    const actual = [...graph].flatMap(([from, to]) => [...to.keys()].map((t) => [node(from), node(t)] as const));
    const real = new Set(actual.map(([a, b]) => `${a} --> ${b}`));
    const invented = [...drawn]
      .flatMap(([a, bs]) => bs.map((b) => `${a} --> ${b}`))
      .filter((arrow) => !real.has(arrow));
    expect(invented, 'arrows drawn that no file imports').toEqual([]);
    // The drawing leaves out an arrow another path of arrows already implies (a → b → c implies a → c).
    const reaches = (from: string, to: string, seen = new Set<string>()): boolean =>
      (drawn.get(from) ?? []).some(
        (next) => next === to || (!seen.has(next) && (seen.add(next), reaches(next, to, seen))),
      );
    const missing = actual.filter(([a, b]) => !reaches(a, b)).map(([a, b]) => `${a} --> ${b}`);
    expect(missing, 'imports no path of arrows in the drawing implies').toEqual([]);
  });
});
