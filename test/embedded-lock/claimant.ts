/**
 * A process that takes the lock of an embedded database folder when told to, for the race tests: it prints
 * `ready`, waits for `go` on stdin, tries the lock, prints `won` or `refused` (one JSON line each), and holds
 * what it won until its stdin closes (or it is killed).
 */
import { createInterface } from 'node:readline';
import { isTactfulError } from '../../packages/core/src/errors/tactful-error.js';
import { lockFolder } from '../../packages/core/src/store/folder-lock.js';

const folder = process.argv[2];
if (!folder) throw new Error('usage: claimant.ts <folder>');
const say = (event: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ pid: process.pid, ...event })}\n`);

const lines = createInterface({ input: process.stdin });
say({ ev: 'ready' });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  try {
    lockFolder(folder);
    say({ ev: 'won' });
  } catch (error) {
    if (!isTactfulError(error, 'STORE.LOCKED')) throw error;
    say({ ev: 'refused', message: error.message });
  }
}
