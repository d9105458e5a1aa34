/**
 * The suite's migrated PGlite image (packages/core/src/store/pglite-image.ts), made once by vitest's global set-up
 * before the workers start. Without it a fresh clone's workers each open a new database at the same moment, find
 * no image and each make one in a child process: three initdbs where one does, at the start of a run that keeps
 * both cores busy throughout. Later runs find the image and this does nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where the suite keeps its images (vitest.config.ts hands it to every worker as `TACTFUL_PGLITE_IMAGES`). */
export const suiteImages = join(root, 'node_modules/.cache/tactful-pglite');

export default async function makeSuiteImage(): Promise<void> {
  const { PGLITE_IMAGES_ENV, pgliteImagePath } = await import('../../packages/core/src/store/pglite-image.js');
  const { makePgliteImage } = await import('../../packages/core/src/store/make-image.js');
  const migrations = join(root, 'packages/core/drizzle');
  const image = pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: suiteImages });
  if (!image || existsSync(image)) return;
  const made = await makePgliteImage(image, migrations);
  // Not fatal: each worker then makes the image itself, as it would without this set-up.
  if (!made.made) process.stderr.write(`The suite's PGlite image could not be made (${made.reason}).\n`);
}
