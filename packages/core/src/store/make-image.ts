import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The program the child runs: PGlite in memory (initdb), the migrations through drizzle's migrator (the same
 * bookkeeping the parent's `migrate` reads), the data directory dumped as a tar, written to a temporary name and
 * renamed, so a reader never sees half an image and two processes making it at once both end with a whole one.
 * Plain JavaScript given to `node -e`: it runs the same from the sources (tests) and from the built package, and
 * needs no entry file of its own; modules are resolved from core's own location.
 */
const CHILD = `
const { createRequire } = require('node:module');
const { mkdirSync, writeFileSync, renameSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const { randomBytes } = require('node:crypto');
const [from, imagePath, migrationsFolder] = process.argv.slice(1);
const load = createRequire(from);
const { PGlite } = load('@electric-sql/pglite');
const { drizzle } = load('drizzle-orm/pglite');
const { migrate } = load('drizzle-orm/pglite/migrator');
(async () => {
  const client = new PGlite();
  await client.waitReady;
  await migrate(drizzle({ client }), { migrationsFolder });
  const image = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
  await client.close();
  mkdirSync(dirname(imagePath), { recursive: true });
  const partial = imagePath + '.' + process.pid + '-' + randomBytes(4).toString('hex') + '.partial';
  try {
    writeFileSync(partial, image);
    renameSync(partial, imagePath);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
})().catch((error) => {
  process.stderr.write(String((error && error.message) || error) + '\\n');
  process.exit(1);
});
`;

/** How long the child may take before it is given up (initdb and the migrations take 2-5 s on a quiet machine). */
const CHILD_TIMEOUT_MS = 180_000;

export type MadeImage = { made: true } | { made: false; reason: string };

/**
 * Makes the migrated image at `imagePath` in a short-lived child process, so the ~800 MB initdb peaks at stays out
 * of this process (a worker thread would share its resident set). An outcome, not an exception: the caller falls
 * back to creating the database itself when the child cannot run.
 */
export function makePgliteImage(imagePath: string, migrationsFolder: string): Promise<MadeImage> {
  // Stores opened at once in one process wait for one child instead of each running initdb beside the others.
  let making = inFlight.get(imagePath);
  if (!making) {
    making = runChild(imagePath, migrationsFolder).finally(() => inFlight.delete(imagePath));
    inFlight.set(imagePath, making);
  }
  return making;
}

const inFlight = new Map<string, Promise<MadeImage>>();

function runChild(imagePath: string, migrationsFolder: string): Promise<MadeImage> {
  const from = fileURLToPath(import.meta.url);
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['-e', CHILD, from, imagePath, migrationsFolder],
      { timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20, env: process.env },
      (error, _stdout, stderr) => {
        if (!error) return done({ made: true });
        const said = stderr.trim().split('\n').slice(-3).join(' ').trim();
        done({ made: false, reason: said || error.message });
      },
    );
  });
}
