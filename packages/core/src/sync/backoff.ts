/**
 * How long to wait before retrying a failed call to another system. The wait doubles with each attempt
 * (`baseMs`, 2×, 4×, … up to `maxMs`) and is then drawn from its upper half, so many workers that failed
 * together do not all come back at the same instant, yet none retries sooner than half the planned wait.
 * When the other system said how long to wait (`Retry-After`, in seconds), the wait is at least that long,
 * even beyond `maxMs`: asking again sooner is refused again. `random` returns a number in [0, 1); tests pass
 * a seeded one.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
  retryAfterSec?: number,
): number {
  const planned = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(planned / 2 + random() * (planned / 2));
  return retryAfterSec !== undefined ? Math.max(jittered, retryAfterSec * 1000) : jittered;
}
