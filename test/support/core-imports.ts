/**
 * Which of core's folders (and top-level files) import which, read from the source files as text: static, type-only,
 * re-exported, side-effect and dynamic imports alike. test/standalone/architecture.test.ts checks the page against
 * it; scripts/architecture-table.ts rewrites the page's table from it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shippedSources } from './source-files.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const coreSrc = join(root, 'packages/core/src');

/** `consent/` for a file under core's consent folder, `engine.ts` for a file at core's top. */
function unitOf(file: string): string {
  const [first, ...rest] = relative(coreSrc, file).split(sep);
  return rest.length > 0 ? `${first}/` : first!.replace(/\.js$/, '.ts');
}

/** Every relative specifier a file imports: static, type-only, re-exported, side-effect or dynamic. */
export function specifiersOf(text: string): string[] {
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.[^'"]+)['"]/g,
    /(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g,
    /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!));
}

/** One import from a core folder (or top-level file) into another: which file, and the specifier it names. */
export interface Crossing {
  file: string;
  specifier: string;
}

/** from → to → the files that make the import, for non-test files, value or type. */
export function coreImports(): Map<string, Map<string, Crossing[]>> {
  const graph = new Map<string, Map<string, Crossing[]>>();
  for (const file of shippedSources(coreSrc)) {
    const from = unitOf(file);
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      const to = unitOf(resolve(dirname(file), specifier));
      if (to === from) continue;
      const targets = graph.get(from) ?? new Map<string, Crossing[]>();
      graph.set(from, targets);
      const list = targets.get(to) ?? [];
      targets.set(to, list);
      list.push({ file: relative(root, file), specifier });
    }
  }
  return graph;
}
