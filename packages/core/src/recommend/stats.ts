/**
 * The statistics of one ordered pair A→B, from four counts: how many baskets hold both (nAB), hold A (nA),
 * hold B (nB), and how many baskets there are (n).
 */
export interface PairStats {
  /** Baskets holding both A and B. */
  count: number;
  /** count / n: the share of all baskets holding both. */
  support: number;
  /** count / nA: of the baskets holding A, the share that also hold B. */
  confidence: number;
  /** nA / n: the support of the left-hand side alone (arules' `coverage`). */
  coverage: number;
  /** confidence / support(B) = count·n / (nA·nB): how much more often than chance A and B meet. */
  lift: number;
  /** Dunning's log-likelihood ratio G² of the 2×2 contingency table (≥ 0, symmetric in A and B). */
  llr: number;
}

/** x·ln x with 0·ln 0 = 0. */
function xlogx(x: number): number {
  return x > 0 ? x * Math.log(x) : 0;
}

/**
 * Dunning's G² for the 2×2 table [[k11, k12], [k21, k22]] in its exact entropy form:
 * G² = 2·(Σ xlnx(cell) − Σ xlnx(row) − Σ xlnx(column) + xlnx(total)).
 */
export function logLikelihoodRatio(k11: number, k12: number, k21: number, k22: number): number {
  const total = k11 + k12 + k21 + k22;
  const cells = xlogx(k11) + xlogx(k12) + xlogx(k21) + xlogx(k22);
  const rows = xlogx(k11 + k12) + xlogx(k21 + k22);
  const columns = xlogx(k11 + k21) + xlogx(k12 + k22);
  const g2 = 2 * (cells - rows - columns + xlogx(total));
  // Rounding can leave a tiny negative value for independent counts.
  return Math.max(g2, 0);
}

/** G² of the pair from its counts: k11 = nAB, k12 = nA − nAB, k21 = nB − nAB, k22 = n − nA − nB + nAB. */
export function pairLlr(nAB: number, nA: number, nB: number, n: number): number {
  return logLikelihoodRatio(nAB, nA - nAB, nB - nAB, n - nA - nB + nAB);
}

export function pairStats(nAB: number, nA: number, nB: number, n: number): PairStats {
  const support = nAB / n;
  const confidence = nAB / nA;
  const coverage = nA / n;
  const lift = confidence / (nB / n);
  return { count: nAB, support, confidence, coverage, lift, llr: pairLlr(nAB, nA, nB, n) };
}

/** The ranking scores Tactful can order neighbours by; see docs/recommendations.md for the comparison. */
export const scoreNames = ['confidence', 'uplift', 'lift', 'llr', 'shrunk-lift', 'cosine'] as const;
export type ScoreName = (typeof scoreNames)[number];

/** Pseudo-count that pulls the lift of rarely seen pairs towards 1 (`shrunk-lift`). */
export const LIFT_SHRINKAGE = 10;

/**
 * What a score says about B when A tells nothing about it (A and B independent, or the pair filtered out):
 * for `uplift` that is B's base rate nB/n, so that base + uplift(A→B) = confidence(A→B). The recommender adds
 * it once per unit of seed weight to every candidate, which is how popular products compete in the ranking.
 * The other scores have no such scale; their baseline is 0 and popular products only fill the list.
 */
export function scoreBaseline(name: ScoreName, nB: number, n: number): number {
  return name === 'uplift' && n > 0 ? nB / n : 0;
}

/** The score of A→B under `name` (higher is better). */
export function pairScore(name: ScoreName, nAB: number, nA: number, nB: number, n: number): number {
  switch (name) {
    case 'confidence':
      return nAB / nA;
    case 'uplift':
      // confidence(A→B) − support(B): how much buying A raises the chance of B.
      return nAB / nA - nB / n;
    case 'lift':
      return (nAB * n) / (nA * nB);
    case 'llr':
      return pairLlr(nAB, nA, nB, n);
    case 'shrunk-lift':
      return (nAB + LIFT_SHRINKAGE) / ((nA * nB) / n + LIFT_SHRINKAGE);
    case 'cosine':
      return nAB / Math.sqrt(nA * nB);
  }
}
