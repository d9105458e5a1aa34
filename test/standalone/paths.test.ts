/**
 * The repository stands on its own: no tracked file names a path outside it. A relative path is resolved from
 * the folder of the file that names it (how `new URL(…, import.meta.url)`, Markdown links and `extends` read
 * it); machine paths and the old reference shelf are refused wherever they appear.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Vendored reference files are kept byte for byte as published; they are scanned for nothing. */
const vendored = /^packages\/[^/]+\/(data|test-data)\//;
const relativePath = /(?:\.\.\/)+[\w.\-/]*/g;
/**
 * Scripts run from the repository's root (`.ci/run` starts with a cd there): their paths are read from it too.
 * A Markdown page beside them is read where it lies, like any other link.
 */
const runFromRoot = /^(\.ci|scripts)\/(?!.*\.md$)|\.sh$/;
/** A module specifier (`from '…'`, `import '…'`, `import('…')`) is resolved from the file's folder, wherever it runs. */
const moduleSpecifier = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]$/;
const forbidden: Array<[RegExp, string]> = [
  [/\bshared\/data\b/, 'the reference shelf beside the repository'],
  [/\bDESIGN\.md\b/, 'the design notes outside the repository (see docs/architecture.md)'],
  [/(?<![\w.])\/work\//, 'an absolute path on one machine'],
];

export interface Escape {
  file: string;
  line: number;
  text: string;
  why: string;
}

/** Every place in `text` (the content of `file`, relative to `repo`) that names a path outside `repo`. */
export function pathsOutside(repo: string, file: string, text: string): Escape[] {
  const found: Escape[] = [];
  const lines = text.split('\n');
  lines.forEach((content, i) => {
    for (const match of content.matchAll(relativePath)) {
      const imported = moduleSpecifier.test(content.slice(0, match.index));
      const bases = runFromRoot.test(file) && !imported ? [dirname(file), '.'] : [dirname(file)];
      const target = bases
        .map((base) => resolve(repo, base, match[0]))
        .find((t) => {
          const inside = relative(repo, t);
          return inside === '..' || inside.startsWith(`..${sep}`);
        });
      if (target)
        found.push({ file, line: i + 1, text: match[0], why: `resolves to ${target}, outside the repository` });
    }
    for (const [pattern, why] of forbidden) {
      const hit = pattern.exec(content);
      if (hit) found.push({ file, line: i + 1, text: hit[0], why });
    }
  });
  return found;
}

function trackedTextFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && !vendored.test(file) && file !== 'package-lock.json')
    .filter((file) => {
      try {
        return statSync(join(root, file)).size < 2_000_000;
      } catch {
        return false; // deleted in the work tree, not yet committed
      }
    });
}

describe('the repository names no path outside itself', () => {
  it('no tracked file names a path outside the repository', () => {
    const escapes = trackedTextFiles().flatMap((file) => {
      const text = readFileSync(join(root, file), 'utf8');
      return text.includes('\0') ? [] : pathsOutside(root, file, text);
    });
    expect(escapes.map((e) => `${e.file}:${e.line}: ${e.text} — ${e.why}`)).toEqual([]);
  });

  it('the scan finds what it looks for', () => {
    const repo = resolve('/tmp/some-repo');
    const seen = (file: string, text: string) => pathsOutside(repo, file, text).map((e) => e.text);
    // Built from parts, so that this file does not itself name what it looks for.
    const shelf = ['shared', 'data'].join('/');
    const design = ['DESIGN', 'md'].join('.');
    expect(seen('packages/core/src/x.ts', `new URL('${'../'.repeat(5)}${shelf}/a.csv', import.meta.url)`)).toEqual([
      `${'../'.repeat(5)}${shelf}/a.csv`,
      shelf,
    ]);
    const beside = ['..', 'shared', design].join('/');
    expect(seen('README.md', `See [the design](${beside}).`)).toEqual([beside, design]);
    expect(seen('docs/a.md', `read ${'/work'}/shared/x`)).toEqual([`${'/work'}/`]);
    // One level up from the root escapes; the same from a folder does not.
    expect(seen('README.md', '[a](../x.md)')).toEqual(['../x.md']);
    expect(seen('docs/a.md', '[a](../x.md)')).toEqual([]);
    expect(seen('.ci/run', 'ls ../x')).toEqual(['../x']);
    // A script's own imports are resolved from its folder by Node, not from where it runs.
    expect(seen('scripts/a.ts', "import { x } from '../test/support/x.js';")).toEqual([]);
    expect(seen('scripts/a.ts', "const y = await import('../test/y.js');")).toEqual([]);
    expect(seen('scripts/a.ts', "readFileSync('../test/z.txt')")).toEqual(['../test/z.txt']);
    expect(seen('packages/app/src/a.ts', "new URL('../../data/groceries/', import.meta.url)")).toEqual([]);
    expect(seen('test/e2e/a.ts', "import '../../packages/app/src/demo/pipeline.js'")).toEqual([]);
    expect(seen('packages/app/tsconfig.json', '"extends": "../../tsconfig.base.json"')).toEqual([]);
  });
});
