import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

const low = () => 0;
const high = () => 0.999_999;

describe('backoffDelay', () => {
  it('stays within the upper half of the planned wait, whatever the random source draws', () => {
    for (const attempt of [1, 2, 3, 4]) {
      const planned = 1000 * 2 ** (attempt - 1);
      expect(backoffDelay(attempt, 1000, 60_000, low)).toBe(planned / 2);
      expect(backoffDelay(attempt, 1000, 60_000, high)).toBe(planned);
      const mid = backoffDelay(attempt, 1000, 60_000, () => 0.5);
      expect(mid).toBe((planned * 3) / 4);
    }
  });

  it('doubles with each attempt, and treats attempt 0 as the first', () => {
    const waits = [1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 100, 1_000_000, high));
    expect(waits).toEqual([100, 200, 400, 800, 1600]);
    expect(backoffDelay(0, 100, 1_000_000, high)).toBe(100);
  });

  it('never plans more than maxMs', () => {
    expect(backoffDelay(30, 1000, 10_000, high)).toBe(10_000);
    expect(backoffDelay(30, 1000, 10_000, low)).toBe(5_000);
  });

  it('waits at least as long as Retry-After asked, even beyond maxMs', () => {
    expect(backoffDelay(1, 1000, 10_000, high, 5)).toBe(5_000);
    expect(backoffDelay(1, 1000, 10_000, high, 60)).toBe(60_000);
    expect(backoffDelay(4, 1000, 10_000, high, 0.5)).toBe(8_000);
  });

  it('draws from the injected source, so a seeded source repeats its waits', () => {
    const draws = [0.1, 0.9];
    const source = () => draws.shift() ?? 0;
    expect([backoffDelay(2, 1000, 10_000, source), backoffDelay(2, 1000, 10_000, source)]).toEqual([1100, 1900]);
  });
});
