/**
 * The suite's temporary folders on a tmpfs, where there is one with room: the tests make hundreds of embedded
 * databases in folders of their own (each about 1 150 files unpacked from the migrated image) and the processes
 * they start do the same. On this machine kind's disk that is 650-800 ms a database, on /dev/shm ~50 ms. vitest's
 * global set-up (vitest.config.ts) points `TMPDIR` at a folder of its own there, which the workers and every
 * process they start inherit, and removes it at the end.
 * Where /dev/shm is missing, small or not a tmpfs, nothing changes: the system's temporary folder as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// The source, not the build: vitest's set-up runs before the build is checked for staleness.
import { throwawayBase } from '../../packages/core/src/testing/index.js';

export default function useTmpfs(): (() => void) | undefined {
  const base = throwawayBase();
  if (base === tmpdir()) return undefined;
  const folder = mkdtempSync(join(base, 'tactful-suite-'));
  process.env.TMPDIR = folder;
  // A browser a worker leaves may still be writing its profile here as it ends: the removal tries again.
  return () => rmSync(folder, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
}
