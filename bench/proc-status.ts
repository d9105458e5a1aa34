/**
 * The resident set of a process (VmRSS) and its peak (VmHWM), in bytes, from Linux's /proc/<pid>/status;
 * undefined when the process is gone or the system has no /proc. bench/memory-probe.mjs reads the same fields
 * inside the processes it is preloaded into (plain JavaScript, so it cannot import this file).
 */
import { readFileSync } from 'node:fs';

export function procStatus(pid: number | 'self' = 'self'): { vmRss: number; vmHwm: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? 0) * 1024;
    return { vmRss: kb('VmRSS'), vmHwm: kb('VmHWM') };
  } catch {
    return undefined; // gone, or not Linux
  }
}
