/**
 * A seeded fault plan for a vendor sandbox: at each opportunity (a request, one member of a batch, a webhook
 * delivery) it draws, with probability `rate`, one of the fault kinds that can happen there. The draws come
 * from a seeded PRNG, so a failing run is replayed by running it again with the same seed (the order of
 * concurrent requests aside). It counts what it injected, for the report. The Shopify and Mailchimp
 * sandboxes each name their kinds and build their plan with this.
 */
import { TactfulError } from '../errors/tactful-error.js';
import { seededRandom } from '../random.js';

export interface FaultPlanOptions<K extends string> {
  /** Any integer; the same seed draws the same faults. */
  seed: number;
  /** Chance, from 0 to 1, that one opportunity gets a fault. */
  rate: number;
  /** The kinds to draw from (default: all). */
  kinds?: readonly K[];
  /** Seconds sent in `Retry-After` (default 1). */
  retryAfterSeconds?: number;
  /** How long a `timeout` holds the request before dropping it (default 2000 ms; set it above the client's timeout). */
  holdMs?: number;
}

export interface FaultPlan<K extends string> {
  readonly seed: number;
  readonly rate: number;
  readonly kinds: readonly K[];
  readonly retryAfterSeconds: number;
  readonly holdMs: number;
  /** Draws for one opportunity: a kind among `among` (and the plan's kinds), or null for no fault. */
  draw<A extends K>(among: readonly A[]): A | null;
  /** A number from the plan's PRNG in [0, 1) (e.g. which 5xx status). */
  random(): number;
  /** Faults injected so far, by kind. */
  counts(): Record<K, number>;
  total(): number;
  /** While paused nothing is drawn (e.g. while an oracle reads the sandbox). */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/** A plan over `allKinds` of the sandbox named `system`; bad options are CONFIG.INVALID naming every problem. */
export function createFaultPlan<K extends string>(
  system: string,
  allKinds: readonly K[],
  options: FaultPlanOptions<K>,
): FaultPlan<K> {
  const kinds = options.kinds ?? allKinds;
  const problems: string[] = [];
  if (!Number.isInteger(options.seed)) problems.push('seed: must be an integer');
  if (!(options.rate >= 0 && options.rate <= 1)) problems.push('rate: must be a number from 0 to 1');
  const unknown = kinds.filter((k) => !allKinds.includes(k));
  if (unknown.length > 0) problems.push(`kinds: unknown ${unknown.join(', ')} (known: ${allKinds.join(', ')})`);
  if (kinds.length === 0) problems.push('kinds: name at least one kind');
  if (problems.length > 0)
    throw new TactfulError(
      'CONFIG.INVALID',
      `The ${system} fault plan has ${problems.length} problem(s): ${problems.join('; ')}`,
    );
  const rng = seededRandom(options.seed);
  const counts = Object.fromEntries(allKinds.map((k) => [k, 0])) as Record<K, number>;
  let paused = false;
  return {
    seed: options.seed,
    rate: options.rate,
    kinds,
    retryAfterSeconds: options.retryAfterSeconds ?? 1,
    holdMs: options.holdMs ?? 2000,
    draw(among) {
      if (paused) return null;
      // Two numbers per opportunity, always, so one site's draws never shift with another's kinds.
      const hit = rng();
      const pick = rng();
      if (hit >= options.rate) return null;
      const eligible = among.filter((k) => kinds.includes(k));
      if (eligible.length === 0) return null;
      const kind = eligible[Math.floor(pick * eligible.length)]!;
      counts[kind] += 1;
      return kind;
    },
    random: rng,
    counts: () => ({ ...counts }),
    total: () => Object.values<number>(counts).reduce((a, b) => a + b, 0),
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    get paused() {
      return paused;
    },
  };
}
