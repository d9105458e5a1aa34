import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * A new embedded database starts from a migrated, empty image: PostgreSQL's template-database idea for PGlite.
 * Creating a database runs initdb in two WebAssembly instances beside the database's own (a process creating one
 * peaks at ~800 MB); the image is made once, by a short-lived child process (make-image.ts), and each new
 * database is unpacked from it (unpack-image.ts), so the process that holds the database never runs initdb.
 * Loading it also takes about a second where initdb and every migration take two to five (`bench/store-open.ts`).
 *
 * The images live in the folder `TACTFUL_PGLITE_IMAGES` names (the test suite sets one), by default the user's
 * cache folder (`$XDG_CACHE_HOME/tactful`, else `~/.cache/tactful`); `TACTFUL_PGLITE_IMAGES=off` creates every
 * new database in its own process, as before images. The image's name carries a digest of the migrations and
 * PGlite's version, so a new migration or a PGlite upgrade makes a new image and never loads a stale one.
 */
export const PGLITE_IMAGES_ENV = 'TACTFUL_PGLITE_IMAGES';

/** The folder images are kept in when `TACTFUL_PGLITE_IMAGES` is not set. */
export function defaultPgliteImageFolder(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME?.trim();
  return join(cache ? resolve(cache) : join(homedir(), '.cache'), 'tactful');
}

/** Where the image for these migrations is (made or not yet), or undefined when images are turned off. */
export function pgliteImagePath(migrationsFolder: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[PGLITE_IMAGES_ENV]?.trim();
  if (named?.toLowerCase() === 'off') return undefined;
  const folder = named ? resolve(named) : defaultPgliteImageFolder(env);
  const version = pgliteVersion();
  if (!version) return undefined;
  const digest = createHash('sha256');
  digest.update(version);
  for (const name of readdirSync(migrationsFolder, { recursive: true }).map(String).sort()) {
    const file = join(migrationsFolder, name);
    if (name.endsWith('.sql') || name.endsWith('.json')) digest.update(name).update(readFileSync(file));
  }
  return join(folder, `pglite-${digest.digest('hex').slice(0, 16)}.tar`);
}

/** PGlite's version, or undefined when its manifest cannot be found (then no image is used). */
function pgliteVersion(): string | undefined {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve('@electric-sql/pglite'));
  for (let i = 0; i < 4; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === '@electric-sql/pglite' && version) return version;
    }
    dir = dirname(dir);
  }
  return undefined;
}
