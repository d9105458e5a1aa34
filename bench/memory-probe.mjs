/**
 * Loaded with `node --import` into a process `bench/memory.ts` measures: every 100 ms (and on SIGUSR2, after a
 * full garbage collection when `--expose-gc` is on) it appends the process's `process.memoryUsage()` as a JSON
 * line to the file `TACTFUL_MEMORY_PROBE` names, and at exit its peak resident set (VmHWM). Plain JavaScript,
 * so the measured process carries no TypeScript loader.
 */
import { appendFileSync, readFileSync } from 'node:fs';

const file = process.env.TACTFUL_MEMORY_PROBE;
if (file) {
  const write = (extra) => {
    const m = process.memoryUsage();
    const line = {
      t: Date.now(),
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    };
    appendFileSync(file, `${JSON.stringify(Object.assign(line, extra))}\n`);
  };
  const status = () => {
    try {
      const text = readFileSync('/proc/self/status', 'utf8');
      const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
      return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM') };
    } catch {
      return {};
    }
  };
  setInterval(() => write(), 100).unref();
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    write({ gc: true, ...status() });
  });
  process.on('exit', () => write({ exit: true, ...status() }));
}
