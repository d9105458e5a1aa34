import { collectGarbage } from '@tactful/core';
import { getHeapStatistics } from 'node:v8';

/** Asks for a full collection when the JS heap has grown enough since the last one. */
export interface HeapWatch {
  /** Collects now if the heap has grown by more than the watch's `growth` since the last collection. */
  check(): void;
  stop(): void;
  readonly collections: number;
}

/**
 * Keeps the demo's JS heap near what it holds live. The demo makes garbage fast (sandbox pages, bulk results,
 * emails, each simulated day's work) and V8 lets the heap grow to about four times what is live before it
 * collects on its own: ~450 MB at the default 2 000 customers, the demo's peak once its database no longer runs
 * initdb in the process. A full collection runs once the heap has grown by `growth` since the last one; one after
 * every simulated day of the flow instead cost 51 full collections, seconds each in a process with a large heap
 * (the demo inside a test worker took 210 s instead of 30). The work calls `check` as it goes (each batch, each
 * simulated day): a timer alone is not enough, since PGlite answers queries without a turn of the event loop and
 * a step of promise chains can run for seconds without letting a timer fire. The timer covers the rest.
 */
export function watchHeap(growth: number, everyMs = 200): HeapWatch {
  let live = getHeapStatistics().used_heap_size;
  let collections = 0;
  let busy = false;
  const check = () => {
    if (busy || getHeapStatistics().used_heap_size <= live + growth) return;
    busy = true;
    // The collection itself runs now, synchronously; the turns of the event loop after it are awaited.
    collectGarbage(1)
      .then(() => {
        collections += 1;
        live = getHeapStatistics().used_heap_size;
      })
      .finally(() => {
        busy = false;
      });
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return {
    check,
    stop: () => clearInterval(timer),
    get collections() {
      return collections;
    },
  };
}
