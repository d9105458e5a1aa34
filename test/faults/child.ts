/**
 * Runs `worker.ts` as a child process and follows what it prints (one JSON event a line), so a test can
 * wait for a moment ("orders imported ≥ 120") and SIGKILL it right then.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scriptCommand } from '../support/scripts.js';
import type { WorkerConfig } from './worker.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface WorkerEvent {
  ev: string;
  [key: string]: unknown;
}

export interface Child {
  readonly process: ChildProcess;
  readonly events: WorkerEvent[];
  /** The app's URL once it listens. */
  readonly url: Promise<string>;
  /** Resolves with the first event from index `from` on that matches. */
  waitFor(
    match: (event: WorkerEvent) => boolean,
    options?: { from?: number; timeoutMs?: number; what?: string },
  ): Promise<WorkerEvent>;
  /** Calls `hook` on every event as it arrives (e.g. to SIGKILL at the right moment). */
  onEvent(hook: (event: WorkerEvent) => void): void;
  kill(signal?: NodeJS.Signals): Promise<void>;
  readonly exited: boolean;
  /** What the child wrote to stderr (last 4 kB), for failure messages. */
  stderr(): string;
}

export function startWorker(config: WorkerConfig): Child {
  const child = spawn(process.execPath, scriptCommand('test/faults/worker.ts'), {
    cwd: repoRoot,
    env: { ...process.env, TACTFUL_FAULT_WORKER: JSON.stringify(config), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: WorkerEvent[] = [];
  const hooks: Array<(event: WorkerEvent) => void> = [];
  const waiters = new Set<() => void>();
  let exited = false;
  let stderr = '';
  let buffer = '';
  const spawnedAt = Date.now();
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => {
    exited = true;
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4096);
  });
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      let event: WorkerEvent;
      try {
        event = JSON.parse(line) as WorkerEvent;
      } catch {
        continue;
      }
      event.t = Date.now() - spawnedAt;
      events.push(event);
      if (process.env.FAULT_DEBUG) process.stderr.write(`[${config.instance} ${event.t} ms] ${line}\n`);
      for (const hook of hooks) hook(event);
      for (const w of waiters) w();
    }
  });
  const api: Child = {
    process: child,
    events,
    url: Promise.resolve(''),
    waitFor(match, options = {}) {
      const from = options.from ?? 0;
      const timeoutMs = options.timeoutMs ?? 60_000;
      return new Promise<WorkerEvent>((resolve, reject) => {
        const check = () => {
          for (let i = from; i < events.length; i++) {
            if (match(events[i]!)) {
              done();
              resolve(events[i]!);
              return;
            }
          }
          if (exited) {
            done();
            reject(
              new Error(
                `the worker exited before ${options.what ?? 'the awaited event'}; stderr: ${stderr}; last events: ${JSON.stringify(events.slice(-5))}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'an event'}; last events: ${JSON.stringify(events.slice(-5))}; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    onEvent(hook) {
      hooks.push(hook);
    },
    async kill(signal = 'SIGKILL') {
      if (!exited) child.kill(signal);
      await exit;
    },
    get exited() {
      return exited;
    },
    stderr: () => stderr,
  };
  const url = api
    .waitFor((e) => e.ev === 'listening', { what: 'the app to listen', timeoutMs: 180_000 })
    .then((e) => String(e.url));
  url.catch(() => undefined); // a child killed before it listens: whoever awaits `url` sees the error
  (api as { url: Promise<string> }).url = url;
  return api;
}
