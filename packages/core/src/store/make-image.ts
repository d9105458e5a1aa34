import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The program the child runs: PGlite in memory (initdb), the migrations through drizzle's migrator (the same
 * bookkeeping the parent's `migrate` reads), the data directory dumped as a tar, written to a temporary name and
 * renamed, so a reader never sees half an image and two processes making it at once both end with a whole one. The
 * temporary file is made before initdb: a folder that cannot hold the image fails at once, not after seconds of it.
 * Plain JavaScript given to `node -e`: it runs the same from the sources (tests) and from the built package, and
 * needs no entry file of its own; modules are resolved from core's own location.
 */
const CHILD = `
const { createRequire } = require('node:module');
const { mkdirSync, openSync, writeSync, closeSync, renameSync, rmSync } = require('node:fs');
const { dirname } = require('node:path');
const { randomBytes } = require('node:crypto');
const [from, imagePath, migrationsFolder] = process.argv.slice(1);
const load = createRequire(from);
const { PGlite } = load('@electric-sql/pglite');
const { drizzle } = load('drizzle-orm/pglite');
const { migrate } = load('drizzle-orm/pglite/migrator');
(async () => {
  // The file first: a folder that cannot be made or written fails now, not after seconds of initdb.
  mkdirSync(dirname(imagePath), { recursive: true });
  const partial = imagePath + '.' + process.pid + '-' + randomBytes(4).toString('hex') + '.partial';
  const fd = openSync(partial, 'wx');
  try {
    const client = new PGlite();
    await client.waitReady;
    await migrate(drizzle({ client }), { migrationsFolder });
    const image = new Uint8Array(await (await client.dumpDataDir('none')).arrayBuffer());
    await client.close();
    for (let at = 0; at < image.length; ) at += writeSync(fd, image, at);
    closeSync(fd);
    renameSync(partial, imagePath);
  } catch (error) {
    try { closeSync(fd); } catch {}
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
  // Stores opened at once in one process wait for one child instead of each running initdb beside the others;
  // processes opening at once wait for the child of whichever started first (its `.partial` file).
  let making = inFlight.get(imagePath);
  if (!making) {
    making = waitOrMake(imagePath, migrationsFolder).finally(() => inFlight.delete(imagePath));
    inFlight.set(imagePath, making);
  }
  return making;
}

const inFlight = new Map<string, Promise<MadeImage>>();

/** Another process's image when its child is making it (`madeElsewhere`), else one made by a child of this one. */
async function waitOrMake(imagePath: string, migrationsFolder: string): Promise<MadeImage> {
  return (await madeElsewhere(imagePath)) ? { made: true } : runChild(imagePath, migrationsFolder);
}

/** How often a process waiting for another process's image looks again. */
const WAIT_POLL_MS = 100;

/**
 * Waits while another process's child makes this image: true once the image is there, false when no child is
 * making it (any more). A child is making it while its `.partial` file (named with its pid, created before initdb)
 * is there, younger than the child's timeout, and its process is alive: a leftover of a killed child, or a pid
 * reused since, is waited for no longer than that timeout.
 */
async function madeElsewhere(imagePath: string): Promise<boolean> {
  while (!existsSync(imagePath)) {
    if (!makerAlive(imagePath)) return existsSync(imagePath);
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  return true;
}

function makerAlive(imagePath: string): boolean {
  for (const { path, pid } of partials(imagePath)) {
    try {
      if (Date.now() - statSync(path).mtimeMs > CHILD_TIMEOUT_MS) continue;
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: alive, another user's. Anything else: gone (the process, or the file since the listing).
      if ((error as NodeJS.ErrnoException).code === 'EPERM') return true;
    }
  }
  return false;
}

function removePartials(imagePath: string, pid: number | undefined): void {
  for (const partial of partials(imagePath)) if (partial.pid === pid) rmSync(partial.path, { force: true });
}

/** The temporary files of children making this image (`<image>.<child pid>-<random>.partial`); none without a folder. */
function partials(imagePath: string): Array<{ path: string; pid: number }> {
  const folder = dirname(imagePath);
  const prefix = `${basename(imagePath)}.`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  const found: Array<{ path: string; pid: number }> = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.partial')) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (Number.isSafeInteger(pid) && pid > 0) found.push({ path: join(folder, name), pid });
  }
  return found;
}

/**
 * V8 flags for the child. It lives a few seconds, and V8's optimizing tier for PGlite's WebAssembly costs more
 * than it saves in a process that short: measured on the two-core machine kind, the child took 4.3 s and 4.9 CPU-s
 * with `--liftoff-only` against 4.9 s and 6.9 CPU-s without (two runs each). It changes how V8 compiles the
 * WebAssembly, not what runs.
 */
const CHILD_FLAGS = ['--liftoff-only'];

function runChild(imagePath: string, migrationsFolder: string): Promise<MadeImage> {
  const from = fileURLToPath(import.meta.url);
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [...CHILD_FLAGS, '-e', CHILD, from, imagePath, migrationsFolder],
      { timeout: CHILD_TIMEOUT_MS, maxBuffer: 1 << 20, env: process.env },
      (error, _stdout, stderr) => {
        if (!error) return done({ made: true });
        // A child stopped by the timeout leaves its temporary file; one that failed removed its own.
        removePartials(imagePath, child.pid);
        const said = stderr.trim().split('\n').slice(-3).join(' ').trim();
        done({ made: false, reason: said || error.message });
      },
    );
  });
}
