import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'tactful-memory-';
/** Linux's shared-memory folder, a tmpfs (its statfs magic below) on most systems; 64 MB in a default Docker. */
const SHM = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;
/** /dev/shm is used only with this much room: a new database is 40 MB, a demo's ~300 MB. */
const SHM_MIN_FREE = 1024 * 1024 * 1024;
const open = new Set<string>();
let sweptOnExit = false;

/**
 * Where a `memory://` database keeps its pages: a private temporary folder, removed when the store closes and
 * when the process exits. PGlite's own in-memory file system would hold the whole database inside the process
 * (and loading an image into it keeps ~330 MB resident where a folder holds ~190 MB); in a folder, its pages sit
 * in the operating system's cache instead. Folders left by a process that was killed are removed by the next one.
 * The folder is on /dev/shm when that is a tmpfs with room (see `throwawayBase`).
 */
export function makeThrowawayFolder(): { path: string; remove(): void } {
  const base = throwawayBase();
  for (const folder of new Set([base, tmpdir()])) sweepLeftovers(folder);
  const path = mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
  open.add(path);
  if (!sweptOnExit) {
    sweptOnExit = true;
    process.once('exit', () => {
      for (const left of open) rmSync(left, { recursive: true, force: true });
    });
  }
  return {
    path,
    remove() {
      open.delete(path);
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/**
 * The folder `memory://` databases go in: /dev/shm when it is a tmpfs this user can write with at least 1 GB
 * free, else the system's temporary folder. A new database is about 1 150 files unpacked from its image; on a
 * disk that is 650-800 ms, on a tmpfs ~50 ms (measured on this machine kind). The pages are in RAM
 * either way (the page cache); on a tmpfs they cannot be written back to disk, which a throwaway database never
 * needs.
 */
export function throwawayBase(shm = SHM): string {
  try {
    const fs = statfsSync(shm);
    if (fs.type === TMPFS_MAGIC && fs.bavail * fs.bsize >= SHM_MIN_FREE) {
      accessSync(shm, constants.W_OK);
      return shm;
    }
  } catch {
    // No /dev/shm (not Linux), or not ours to write: the temporary folder.
  }
  return tmpdir();
}

/** Removes the throwaway folders in `base` of processes that are gone (killed before their exit handler ran). */
function sweepLeftovers(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : Number.NaN;
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
