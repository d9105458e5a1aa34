/** The value at percentile `p` (0-100) of values sorted ascending: the element at ⌊p/100 · n⌋, the last at most. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
