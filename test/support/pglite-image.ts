/**
 * The suite's migrated PGlite image (see core's store), started by vitest's global set-up as the workers start.
 * Without it a fresh clone's workers each open a new database at the same moment, find no image and each make one
 * in a child process: three initdbs where one does, at the start of a run that keeps both cores busy throughout
 * (three files from an empty image folder: three children of 7.2-7.5 CPU-s and 27 s, against one of 6.6 CPU-s and
 * 20 s). The set-up does not wait for it: a worker's first new database waits for this child (its temporary file
 * names it) while the workers' other files run. Later runs find the image and this does nothing.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the suite keeps its images (vitest.config.ts hands it to every worker as `TACTFUL_PGLITE_IMAGES`). */
export const suiteImages = join(
  fileURLToPath(new URL('../../', import.meta.url)),
  'node_modules/.cache/tactful-pglite',
);

export default async function makeSuiteImage(): Promise<void> {
  const { preparePgliteImage } = await import('../../packages/core/src/testing/stores.js');
  // Not fatal: each worker then makes the image itself, as it would without this set-up.
  const failed = (reason: unknown) =>
    process.stderr.write(`The suite's PGlite image could not be made (${String(reason)}).\n`);
  void preparePgliteImage(suiteImages).then((made) => {
    if (!made.made) failed(made.reason);
  }, failed);
}
