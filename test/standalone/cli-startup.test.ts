/**
 * `tactful` starts without loading what only some commands use: the built CLI's static imports (the modules
 * node loads before the first line of output) reach commander and core, never the web app, the adapters or the
 * demo; those load through `import()` when their command runs. Tests and scripts start the CLI dozens of times, and
 * `--help` took over a second when every command's dependencies loaded at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtCli } from '../support/built.js';

/** A static import or re-export at the top of a bundle file (esbuild writes them with double quotes). */
const staticImport = /^(?:import|export)\s+(?:[\w$*{}\s,]+?\s+from\s+)?"([^"]+)";?$/gm;
const dynamicImport = /\bimport\("([^"]+)"\)/g;

/** The bare packages node loads with `file` before it runs, following the bundle's own chunks; and those it may load later. */
function closure(file: string): { loaded: Set<string>; deferred: Set<string> } {
  const loaded = new Set<string>();
  const deferred = new Set<string>();
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    const text = readFileSync(path, 'utf8');
    for (const [, specifier] of text.matchAll(staticImport)) {
      if (specifier!.startsWith('.')) visit(join(dirname(path), specifier!));
      else loaded.add(specifier!);
    }
    for (const [, specifier] of text.matchAll(dynamicImport)) if (!specifier!.startsWith('.')) deferred.add(specifier!);
  };
  visit(file);
  return { loaded, deferred };
}

describe('the CLI starts light', () => {
  it('its start-up loads commander and core, and none of express, pino, the adapters, msw or the demo', () => {
    expect(existsSync(builtCli)).toBe(true);
    const { loaded, deferred } = closure(builtCli);
    // The walk reaches the bundle's chunks (else the check below would pass on nothing).
    expect(loaded).toContain('commander');
    expect(loaded).toContain('@tactful/core');
    const heavy = ['express', 'pino', '@tactful/shopify', '@tactful/mailchimp', 'msw/node', 'nodemailer', 'helmet'];
    expect(heavy.filter((name) => loaded.has(name))).toEqual([]);
    // The commands that need them still reach them, when they run.
    expect(deferred).toContain('@tactful/mailchimp');
    expect(deferred).toContain('@tactful/shopify');
  });
});
