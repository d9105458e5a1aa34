/**
 * `node --import tsx scripts/architecture-table.ts`: rewrites docs/architecture.md's table of imports between
 * core's folders from the source files, read as test/standalone/architecture.test.ts reads them (run after
 * adding a core folder or a folder-to-folder import; the drawing above it is kept by hand, and the test says
 * which arrow it misses).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { coreImports } from '../test/support/core-imports.js';

const graph = coreImports();
const rows = [...graph.keys()].sort().map((from) => [
  `\`${from}\``,
  [...graph.get(from)!.keys()]
    .sort()
    .map((to) => `\`${to}\``)
    .join(', '),
]);
const header = ['folder', 'imports (value or type)'];
const width = [0, 1].map((i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(width[i]!)).join(' | ')} |`;
const table = [line(header), `| ${width.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');

const path = join(dirname(dirname(fileURLToPath(import.meta.url))), 'docs/architecture.md');
const page = readFileSync(path, 'utf8');
const start = page.indexOf('|', page.indexOf("Every import between core's folders"));
let end = start;
while (page.startsWith('|', end)) end = page.indexOf('\n', end) + 1;
writeFileSync(path, `${page.slice(0, start)}${table}\n${page.slice(end)}`);
console.log(`docs/architecture.md: ${rows.length} rows of imports between core's folders`);
