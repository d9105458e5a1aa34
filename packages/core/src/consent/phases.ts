/**
 * Where a batch's time goes: wall-clock milliseconds per phase of `consent.recordBatch`, summed over batches.
 * Off (and free) unless a caller, the benchmark, hands in a record to fill.
 */
import { performance } from 'node:perf_hooks';

let record: Map<string, number> | null = null;

/** Starts timing the phases of every batch into `into`; null stops. */
export function timeIngestPhases(into: Map<string, number> | null): void {
  record = into;
}

/** Adds `ms` to a phase. */
export function addPhase(name: string, ms: number): void {
  if (record) record.set(name, (record.get(name) ?? 0) + ms);
}

/**
 * A stopwatch over consecutive phases: each `lap(name)` charges the time since the previous lap (or the
 * start) to `name`. Costs one clock read per lap when timing is on, nothing when it is off.
 */
export function stopwatch(): (name: string) => void {
  if (!record) return () => undefined;
  let last = performance.now();
  return (name) => {
    const now = performance.now();
    addPhase(name, now - last);
    last = now;
  };
}
