/**
 * Deterministic randomness for what must come out the same on every run and machine: evaluation splits,
 * fault plans, generated test data. Never for anything secret (that is `node:crypto`).
 */

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same split on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
