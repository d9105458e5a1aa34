/**
 * Real processes for the embedded-lock tests: the tactful CLI as built (test/support/built.ts keeps the build
 * current) and the claimant script (bundled with core's lock code, test/support/scripts.ts), followed line by
 * line so a test waits on what a process printed, never on a sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { builtCli } from '../support/built.js';
import { childV8Flags, scriptCommand } from '../support/scripts.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  stdout(): string;
  stderr(): string;
  /** Resolves once `stream` holds a line matching `pattern`, with that line. */
  waitForLine(pattern: RegExp, options?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<string>;
  write(text: string): void;
}

function start(args: string[], env: Record<string, string | undefined>): Proc {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const text = { stdout: '', stderr: '' };
  const waiters = new Set<() => void>();
  let done = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      for (const w of waiters) w();
      resolve(code ?? signal ?? -1);
    }),
  );
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      text[stream] += chunk.toString();
      for (const w of waiters) w();
    });
  }
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitForLine(pattern, options = {}) {
      const stream = options.stream ?? 'stdout';
      const timeoutMs = options.timeoutMs ?? 240_000;
      return new Promise((resolve, reject) => {
        const check = () => {
          const line = text[stream].split('\n').find((l) => pattern.test(l));
          if (line !== undefined) finish(() => resolve(line));
          else if (done)
            finish(() => reject(new Error(`process ${child.pid} exited before printing ${pattern}: ${describe()}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no line ${pattern} within ${timeoutMs} ms: ${describe()}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
    write(value) {
      child.stdin?.write(value);
    },
  };

  function describe(): string {
    return `stdout ${JSON.stringify(text.stdout.slice(-2000))}, stderr ${JSON.stringify(text.stderr.slice(-2000))}`;
  }
}

/**
 * V8 flags for the CLI processes here (see `childV8Flags`). The command line a refusal names is `process.argv`,
 * which leaves node's own flags out.
 */
const cliFlags = childV8Flags;

/** `tactful <args>` as a process of its own. */
export function tactful(args: string[], env: Record<string, string | undefined> = {}): Proc {
  const proc = start([...cliFlags, builtCli, ...args], env);
  proc.child.stdin?.end();
  return proc;
}

/** Runs `tactful <args>` to its end. */
export async function runTactful(args: string[], env: Record<string, string | undefined> = {}) {
  const proc = tactful(args, env);
  const code = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr(), pid: proc.pid };
}

/** The claimant script on `folder` (see claimant.ts). */
export function claimant(folder: string): Proc {
  return start([...scriptCommand('test/embedded-lock/claimant.ts', { source: true }), folder], {});
}

/** The lock directory of `folder`: its entries, and the highest claim with its maker's pid. */
export function lockState(folder: string): {
  entries: string[];
  top?: { generation: string; pid: number; released: boolean };
} {
  const path = `${folder}.lock`;
  const entries = existsSync(path) ? readdirSync(path).sort() : [];
  const generation = entries.filter((name) => /^\d{12}$/.test(name)).pop();
  if (!generation) return { entries };
  let pid = -1;
  try {
    pid = (JSON.parse(readFileSync(`${path}/${generation}`, 'utf8')) as { pid: number }).pid;
  } catch {
    // swept between the listing and the read: the next check sees the new state
  }
  return { entries, top: { generation, pid, released: entries.includes(`${generation}.released`) } };
}

/** Resolves once `predicate` holds of `folder`'s lock, checked every 50 ms up to a generous limit. */
export function waitForLock(
  folder: string,
  predicate: (state: ReturnType<typeof lockState>) => boolean,
  what: string,
  timeoutMs = 240_000,
): Promise<ReturnType<typeof lockState>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const state = lockState(folder);
      if (predicate(state)) resolve(state);
      else if (Date.now() - started > timeoutMs)
        reject(new Error(`${what}: not within ${timeoutMs} ms (lock: ${JSON.stringify(state)})`));
      else setTimeout(check, 50);
    };
    check();
  });
}
