/**
 * Loaded with `node --import ./bench/support/memory-probe.mjs …` by the memory bench: samples this process's
 * memory every 100 ms and writes, to the file named by TACTFUL_MEMORY_PROBE (every second and at exit), the
 * latest figures and the peaks — resident set (VmRSS/VmHWM), the V8 heap, and `external` (where PGlite's
 * WebAssembly heap is counted) — with the last line the program printed before the peak, so a peak can be
 * placed in the program's own steps. Plain JavaScript: it runs before any loader.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';

const file = process.env.TACTFUL_MEMORY_PROBE;
if (file) {
  const MiB = 2 ** 20;
  const kib = (field) =>
    Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
  let lastLine = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    const text = String(chunk).trim();
    if (text) lastLine = text.split('\n').at(-1).slice(0, 160);
    return write(chunk, ...rest);
  };
  const figures = () => {
    const m = process.memoryUsage();
    return {
      rssMiB: m.rss / MiB,
      heapUsedMiB: m.heapUsed / MiB,
      heapTotalMiB: m.heapTotal / MiB,
      externalMiB: m.external / MiB,
      arrayBuffersMiB: m.arrayBuffers / MiB,
    };
  };
  const started = Date.now();
  const state = {
    pid: process.pid,
    latest: figures(),
    atPeak: { ...figures(), after: '' },
    peaks: figures(),
    vmHwmMiB: 0,
    /** Every 2 s: seconds since start, RSS, heap used, external (MiB), and the last line printed. */
    timeline: [],
  };
  setInterval(() => {
    const m = state.latest;
    if (state.timeline.length < 5000)
      state.timeline.push([
        Math.round((Date.now() - started) / 1000),
        Math.round(m.rssMiB),
        Math.round(m.heapUsedMiB),
        Math.round(m.externalMiB),
        lastLine.slice(0, 60),
      ]);
  }, 2000).unref();
  const sample = () => {
    const now = figures();
    state.latest = now;
    if (now.rssMiB > state.atPeak.rssMiB) state.atPeak = { ...now, after: lastLine };
    for (const key of Object.keys(now)) state.peaks[key] = Math.max(state.peaks[key], now[key]);
  };
  const flush = () => {
    sample();
    try {
      state.vmHwmMiB = kib('VmHWM');
      state.vmRssMiB = kib('VmRSS');
    } catch {}
    state.heapLimitMiB = getHeapStatistics().heap_size_limit / MiB;
    writeFileSync(file, JSON.stringify(state));
  };
  setInterval(sample, 100).unref();
  setInterval(flush, 1000).unref();
  process.on('exit', flush);
}
