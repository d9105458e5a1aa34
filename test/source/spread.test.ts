/**
 * A call like `Math.max(...values)` or `list.push(...items)` passes every element as an argument, and V8 gives
 * up with "Maximum call stack size exceeded" past about 120 000 of them (it did so in `tactful rules` on a
 * supermarket's 135 984 rules). Shipped code, benches and test support never spread an array into a call;
 * they loop or reduce. Test files may, for their own small literals.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const roots = ['packages', 'bench', 'test', 'examples', 'scripts'];
const skip = new Set(['node_modules', 'dist', '.turbo', 'drizzle']);

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|tsx|mts|js|mjs)$/.test(name) && !/\.test\.ts$/.test(name) && !/\.d\.ts$/.test(name)) yield path;
  }
}

/** A spread inside the arguments of the calls that take one argument per element. */
const spreadCall =
  /\b(?:Math\.(?:max|min|hypot)|\.push|\.unshift|\.splice|String\.fromCharCode|String\.fromCodePoint|\.apply)\(([^(){}[\]]|\([^()]*\))*\.\.\.[\w(]/;

describe('no array spread into a call', () => {
  it('the rule catches the line that crashed `tactful rules`', () => {
    expect(spreadCall.test('Math.max(h.length, ...rows.map((r) => r.length))')).toBe(true);
    expect(spreadCall.test('out.push(...(await page()))')).toBe(true);
    expect(spreadCall.test('out.push({ ...row, id })')).toBe(false);
    expect(spreadCall.test('out.push([...row])')).toBe(false);
    expect(spreadCall.test('rows.reduce((w, r) => Math.max(w, r.length), 0)')).toBe(false);
  });

  it('shipped code, benches and test support loop instead', () => {
    const found: string[] = [];
    let files = 0;
    for (const top of roots) {
      let exists = true;
      try {
        statSync(join(root, top));
      } catch {
        exists = false;
      }
      if (!exists) continue;
      for (const file of sources(join(root, top))) {
        files++;
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (spreadCall.test(line) && !/^\s*(\/\/|\*)/.test(line))
              found.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(files).toBeGreaterThan(100);
    expect(found).toEqual([]);
  });
});
