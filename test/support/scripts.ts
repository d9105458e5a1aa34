/**
 * The scripts tests run as processes of their own (the fault worker, the flow runner, the lock claimant), as plain
 * JavaScript. Started through `--import tsx`, a process sends every module it loads through tsx's loader hooks:
 * measured on the two-core machine kind, importing the packages the fault worker uses took 2.7 s of CPU that
 * way against 1.1 s from one bundled file, and the claimant 0.46 s against 0.12 s; the suites start dozens of
 * these.
 *
 * `scriptCommand(entry)` bundles the entry's own TypeScript (its relative imports) with esbuild and returns the
 * arguments for `node`. The packages it imports stay imports, resolved from the repository like any user's
 * (their built `dist`, kept current by built.ts), unless `source` asks for their TypeScript sources to be bundled
 * in (the claimant tests core's lock code as it is in the working tree). Each bundle is written once under a name
 * made from its content, so processes and test files running at once never see a half-written file; bundles of
 * an earlier version of the same script are removed an hour after they were made.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Inside the repository, so the bundle's package imports resolve from its node_modules.
const folder = join(root, 'node_modules/.cache/tactful-test-scripts');
const made = new Map<string, string>();

/**
 * V8 flags for the processes the tests start (these scripts, and the CLI in the lock test). Each lives from a second
 * to a minute, and V8's optimizing tier for PGlite's WebAssembly costs more CPU than it saves in a process that
 * short. Measured on the two-core machine kind, two runs each: the lock test's CLI processes 29-34 machine CPU-s
 * instead of 44-47; the fault suite's workers in its PGlite scenario 8.9-9.5 CPU-s instead of 14.7-17.4 (and the
 * scenario 15-16 s instead of 16-21). On PostgreSQL they change nothing. The flags change how V8 compiles
 * WebAssembly, not what the code does.
 */
export const childV8Flags = ['--liftoff-only'];

/** `node` arguments that run `entry` (a path from the repository root) bundled as plain JavaScript (`childV8Flags` first). */
export function scriptCommand(entry: string, options: { source?: boolean } = {}): string[] {
  const key = `${entry}\u0000${options.source ? 'source' : 'dist'}`;
  let file = made.get(key);
  if (!file) {
    const result = buildSync({
      entryPoints: [join(root, entry)],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      ...(options.source ? { conditions: ['source'] } : { packages: 'external' }),
    });
    const text = result.outputFiles[0]!.contents;
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    const name = `${basename(entry, '.ts')}-${options.source ? 'source' : 'dist'}`;
    file = join(folder, `${name}-${hash}.mjs`);
    if (!existsSync(file)) {
      mkdirSync(folder, { recursive: true });
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, text);
      renameSync(partial, file);
      pruneOlder(name, file);
    }
    made.set(key, file);
  }
  return [...childV8Flags, file];
}

/** Removes bundles of `name` other than `keep` made over an hour ago (a run still using one is long over). */
function pruneOlder(name: string, keep: string): void {
  const pattern = new RegExp(`^${name}-[0-9a-f]{16}\\.mjs$`);
  for (const other of readdirSync(folder)) {
    const path = join(folder, other);
    if (path === keep || !pattern.test(other)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > 3_600_000) rmSync(path, { force: true });
    } catch {
      // removed meanwhile by another process
    }
  }
}
