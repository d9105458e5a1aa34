/**
 * The built packages, for tests that start processes of their own: a process started from `dist` loads plain
 * JavaScript (about a third of the CPU of one that transforms every source file through tsx at start), so the
 * process tests run the build's output. `ensureBuilt` is vitest's global set-up (vitest.config.ts): it rebuilds
 * through turbo when a package's sources, migrations or build config are newer than its build, so a test never
 * runs a stale `dist` (`npm test` builds first, and then this finds nothing to do).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const packages = join(root, 'packages');

/** `node <builtCli> …` runs the `tactful` CLI as a user's install does. */
export const builtCli = join(packages, 'app/dist/cli.js');

/** The newest modification time under `path` (a file or a folder, recursively); 0 if it does not exist. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** Packages whose build is missing or older than what it is built from. */
export function staleBuilds(): string[] {
  return readdirSync(packages).filter((name) => {
    const dir = join(packages, name);
    const built = join(dir, 'dist/index.js');
    if (!existsSync(built)) return true;
    const inputs = ['src', 'drizzle', 'package.json', 'tsup.config.ts', 'tsconfig.json'].map((p) => join(dir, p));
    return inputs.some((input) => newest(input) > statSync(built).mtimeMs);
  });
}

export default function ensureBuilt(): void {
  const stale = staleBuilds();
  if (stale.length === 0) return;
  process.stderr.write(`Building ${stale.join(', ')} (sources newer than dist) before the tests…\n`);
  execFileSync(join(root, 'node_modules/.bin/turbo'), ['run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    stdio: 'inherit',
  });
}
