import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'tactful-memory-';
const open = new Set<string>();
let sweptOnExit = false;

/**
 * Where a `memory://` database keeps its pages: a private temporary folder, removed when the store closes and
 * when the process exits. PGlite's own in-memory file system would hold the whole database inside the process
 * (and loading an image into it keeps ~330 MB resident where a folder holds ~190 MB); in a folder, its pages sit
 * in the operating system's cache instead. Folders left by a process that was killed are removed by the next one.
 */
export function makeThrowawayFolder(): { path: string; remove(): void } {
  sweepLeftovers();
  const path = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
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

/** Removes the throwaway folders of processes that are gone (killed before their exit handler ran). */
function sweepLeftovers(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(PREFIX) ? Number(name.slice(PREFIX.length).split('-')[0]) : Number.NaN;
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
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
