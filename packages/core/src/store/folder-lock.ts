import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TactfulError } from '../errors/tactful-error.js';

/**
 * One process at a time on an embedded database folder. PGlite is a single-process PostgreSQL: a second
 * process opening the same folder keeps its own buffers and its own idea of the WAL, and the two silently
 * overwrite each other's pages (a grant vanished, another person's event appeared under a customer's id).
 *
 * The lock is the directory `<folder>.lock` of numbered claims. A claim is a file named by its generation
 * (`000000000007`) holding who made it; it is written to a temporary name and then hard-linked into place,
 * so it appears whole or not at all (link fails if the name exists), and it is never rewritten. The holder is
 * the maker of the highest generation, unless that claim is released (`<generation>.released` beside it) or
 * its process is gone. To take the lock a process links generation highest + 1: of two processes taking over
 * the same stale claim at once, only one link succeeds. The winner lists again; a higher generation there
 * means it acted on an old listing, and it withdraws. Generations never go down (a claim is deleted only by
 * the holder of a higher one, and release marks rather than deletes), so "highest" always names the holder.
 */
export interface FolderLock {
  /** The lock directory, `<folder>.lock`. */
  readonly path: string;
  readonly holder: LockHolder;
  /** Marks the claim released (idempotent). */
  release(): void;
}

/** Who holds a claim, as recorded by its maker. */
export interface LockHolder {
  pid: number;
  /** The process start time in clock ticks since boot (`/proc/<pid>/stat` field 22), to tell a reused pid. */
  processStart: string | null;
  bootId: string | null;
  host: string;
  /** The holder's command line. */
  command: string;
  /** When the claim was made (ISO). */
  since: string;
}

const CLAIM = /^\d{12}$/;
const RELEASED = '.released';
const held = new Map<string, { generation: string; release: () => void }>();

/** Takes the lock of the embedded database `folder` or throws STORE.LOCKED naming the holder. */
export function lockFolder(folder: string): FolderLock {
  const path = `${folder}.lock`;
  try {
    mkdirSync(path, { recursive: true });
  } catch (cause) {
    throw new TactfulError(
      'STORE.OPEN_FAILED',
      `Could not create the lock ${path} of the embedded database ${folder}: ${(cause as Error).message}. Check that --db names a folder you can write to.`,
      { cause },
    );
  }
  const me = currentHolder();
  // Each round either wins, refuses, or saw another process move the lock on; a few hundred rounds is far
  // more than processes racing on one folder can cause.
  for (let round = 0; round < 500; round++) {
    const top = highestClaim(path);
    if (top !== undefined) {
      const holder = readClaim(path, top);
      if (holder === undefined) continue; // deleted since the listing: the lock moved on, list again
      if (!existsSync(join(path, top + RELEASED)) && !isGone(holder)) refuse(folder, path, holder, me);
    }
    const generation = String((top === undefined ? 0 : Number(top)) + 1).padStart(12, '0');
    if (!linkClaim(path, generation, me)) continue;
    const after = highestClaim(path);
    if (after !== generation) {
      // A process listing earlier took a higher generation first: that process decides, not us.
      unlinkQuietly(join(path, generation));
      continue;
    }
    sweep(path, generation);
    return holdClaim(folder, path, generation, me);
  }
  throw new TactfulError(
    'STORE.LOCKED',
    `The embedded database ${folder} is being opened by other processes at this very moment; try again.`,
  );
}

function holdClaim(folder: string, path: string, generation: string, holder: LockHolder): FolderLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    held.delete(folder);
    try {
      writeFileSync(join(path, generation + RELEASED), '', { flag: 'wx' });
    } catch {
      // Already marked, or the folder is gone: a claim whose process has ended is stale all the same.
    }
    if (held.size === 0) uninstallExitHooks();
  };
  held.set(folder, { generation, release });
  installExitHooks();
  return { path, holder, release };
}

function refuse(folder: string, path: string, holder: LockHolder, me: LockHolder): never {
  const sameProcess = holder.pid === me.pid && holder.host === me.host && holder.processStart === me.processStart;
  const details = { lock: path, holder };
  if (holder.pid === 0)
    throw new TactfulError(
      'STORE.LOCKED',
      `The lock ${path} of the embedded database ${folder} holds a claim no tactful process wrote (${holder.command}): if no process uses the database, delete ${path}.`,
      { details },
    );
  if (sameProcess)
    throw new TactfulError(
      'STORE.LOCKED',
      `The embedded database ${folder} is already open in this process (since ${holder.since}): close that store first.`,
      { details },
    );
  const where = holder.host === me.host ? '' : ` on host ${holder.host}`;
  throw new TactfulError(
    'STORE.LOCKED',
    `The embedded database ${folder} is in use by process ${holder.pid}${where} (${holder.command}) since ${holder.since}, and an embedded database serves one process at a time: stop that process first, or do this through the running app, or use PostgreSQL (--db postgres://…) to share one database between processes.`,
    { details },
  );
}

function highestClaim(path: string): string | undefined {
  let top: string | undefined;
  for (const name of readdirSync(path)) if (CLAIM.test(name) && (top === undefined || name > top)) top = name;
  return top;
}

function readClaim(path: string, generation: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(join(path, generation), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as LockHolder;
  } catch {
    // Claims appear whole (link), so this file was written by hand or by something else: name it plainly.
    return {
      pid: 0,
      processStart: null,
      bootId: null,
      host: 'unknown',
      command: `unreadable claim ${text}`,
      since: '?',
    };
  }
}

/** Links a fully written claim into place; false when that generation exists already. */
function linkClaim(path: string, generation: string, holder: LockHolder): boolean {
  const temporary = join(path, `tmp-${holder.pid}-${randomBytes(6).toString('hex')}`);
  writeFileSync(temporary, `${JSON.stringify(holder)}\n`, { flag: 'wx' });
  try {
    linkSync(temporary, join(path, generation));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkQuietly(temporary);
  }
}

/** The holder of `keep` removes every lower claim and its mark, and temporary files of ended processes. */
function sweep(path: string, keep: string): void {
  for (const name of readdirSync(path)) {
    const claim = name.slice(0, 12);
    if (CLAIM.test(claim) && claim < keep && (name === claim || name === claim + RELEASED)) {
      unlinkQuietly(join(path, name));
      continue;
    }
    const temporary = /^tmp-(\d+)-/.exec(name);
    if (temporary && processStart(Number(temporary[1])) === null) unlinkQuietly(join(path, name));
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

/** Whether the process that made a claim has ended (or its pid now belongs to another program). */
export function isGone(holder: LockHolder): boolean {
  if (holder.pid <= 0) return false;
  // Another machine sharing the folder: its processes cannot be seen from here, so the claim stands.
  if (holder.host !== hostname()) return false;
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return true;
  const start = processStart(holder.pid);
  if (start === undefined) {
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  if (start === null) return true;
  return holder.processStart !== null && start !== holder.processStart;
}

/** Field 22 of `/proc/<pid>/stat`; null when there is no such process, undefined without a /proc. */
export function processStart(pid: number): string | null | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return existsSync('/proc/self/stat') ? null : undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function currentHolder(): LockHolder {
  const command = process.argv
    .map((arg) => (/[\s"']/.test(arg) ? JSON.stringify(arg) : arg))
    .join(' ')
    .slice(0, 300);
  return {
    pid: process.pid,
    processStart: processStart(process.pid) ?? null,
    bootId: bootId(),
    host: hostname(),
    command,
    since: new Date().toISOString(),
  };
}

// A store left open at exit or at a signal nobody else handles is released here, so the next process need
// not judge a stale claim. A handler of its own (tactful serve) closes the store, which releases it.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let hooked = false;
const releaseAll = () => {
  for (const { release } of [...held.values()]) release();
};
const onSignal = (signal: NodeJS.Signals) => {
  if (process.listenerCount(signal) > 1) return;
  releaseAll();
  uninstallExitHooks();
  process.kill(process.pid, signal);
};

function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', releaseAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstallExitHooks(): void {
  if (!hooked) return;
  hooked = false;
  process.off('exit', releaseAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}
