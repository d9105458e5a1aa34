import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * A new embedded database starts from a migrated, empty image when `TACTFUL_PGLITE_IMAGES` names a folder:
 * loading an image takes about a second where initdb and every migration take two to five (measured by
 * `bench/store-open.ts`). This is PostgreSQL's template-database idea for PGlite; the test suite opens hundreds
 * of fresh databases and sets it. The image's name carries a digest of the migrations and
 * PGlite's version, so a new migration or a PGlite upgrade makes a new image and never loads a stale one.
 */
export const PGLITE_IMAGES_ENV = 'TACTFUL_PGLITE_IMAGES';

/** Where the image for these migrations would be, or undefined when images are not enabled. */
export function pgliteImagePath(migrationsFolder: string, env = process.env): string | undefined {
  const folder = env[PGLITE_IMAGES_ENV]?.trim();
  const version = folder ? pgliteVersion() : undefined;
  if (!folder || !version) return undefined;
  const digest = createHash('sha256');
  digest.update(version);
  for (const name of readdirSync(migrationsFolder, { recursive: true }).map(String).sort()) {
    const file = join(migrationsFolder, name);
    if (name.endsWith('.sql') || name.endsWith('.json')) digest.update(name).update(readFileSync(file));
  }
  return join(folder, `pglite-${digest.digest('hex').slice(0, 16)}.tar`);
}

/** The image's bytes, or undefined when it has not been made yet. */
export function readPgliteImage(path: string): Blob | undefined {
  if (!existsSync(path)) return undefined;
  return new Blob([readFileSync(path)]);
}

/** Keeps an image for the next database; written to a temporary name and renamed, so a reader never sees half. */
export function writePgliteImage(path: string, image: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, image);
  renameSync(partial, path);
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
