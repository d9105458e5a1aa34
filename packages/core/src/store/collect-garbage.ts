import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let fullGc: (() => void) | null | undefined;

/**
 * V8's full collection, also when node runs without `--expose-gc`: taken from a fresh context created while the
 * flag is briefly on (the way Jest's leak detector takes it), so no other context sees a `gc` global. Null when
 * the runtime refuses.
 */
function garbageCollector(): (() => void) | null {
  if (fullGc !== undefined) return fullGc;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return (fullGc = exposed as () => void);
  try {
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  } catch {
    fullGc = null;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return fullGc;
}

/**
 * Frees what a finished piece of work left unreachable, now rather than whenever V8 gets to it: a few full
 * collections with a turn of the event loop between them (memory reachable only from a finalizer or a callback
 * already queued is freed by the next one). For a large, one-off release — the WebAssembly instances PGlite runs
 * initdb in hold ~450 MB after it, and an idle server allocates too little to make V8 collect them on its own.
 */
export async function collectGarbage(rounds = 3): Promise<void> {
  const gc = garbageCollector();
  if (!gc) return;
  for (let round = 0; round < rounds; round++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
