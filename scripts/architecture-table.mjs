#!/usr/bin/env node
// Rewrites docs/architecture.md's table of imports between core's folders from the source files, the same way
// test/standalone/architecture.test.ts reads them (run after adding a core folder or a folder-to-folder import;
// the drawing above it is kept by hand and the test says which arrow it misses).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const coreSrc = join(root, 'packages/core/src');
const unitOf = (file) => {
  const [first, ...rest] = relative(coreSrc, file).split(sep);
  return rest.length > 0 ? `${first}/` : first.replace(/\.js$/, '.ts');
};
const sourceFiles = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
const patterns = [
  /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+['"](\.[^'"]+)['"]/g,
  /(?:^|\n)\s*import\s+['"](\.[^'"]+)['"]/g,
  /\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g,
];
const graph = new Map();
for (const file of sourceFiles(coreSrc)) {
  const from = unitOf(file);
  for (const pattern of patterns)
    for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
      const to = unitOf(resolve(dirname(file), m[1]));
      if (to === from) continue;
      graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
}
const rows = [...graph.keys()].sort().map((from) => [
  `\`${from}\``,
  [...graph.get(from)]
    .sort()
    .map((t) => `\`${t}\``)
    .join(', '),
]);
const header = ['folder', 'imports (value or type)'];
const width = [0, 1].map((i) => Math.max(header[i].length, ...rows.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(width[i])).join(' | ')} |`;
const table = [line(header), `| ${width.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');

const path = join(root, 'docs/architecture.md');
const page = readFileSync(path, 'utf8');
const start = page.indexOf('|', page.indexOf("Every import between core's folders"));
let end = start;
while (page.startsWith('|', end)) end = page.indexOf('\n', end) + 1;
writeFileSync(path, `${page.slice(0, start)}${table}\n${page.slice(end)}`);
console.log(`docs/architecture.md: ${rows.length} rows of imports between core's folders`);
