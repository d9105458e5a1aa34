import { randomBytes } from 'node:crypto';

/**
 * The databases a store suite runs on: embedded PGlite always, and a real PostgreSQL server when
 * `DATABASE_URL` is set. In CI (`CI=true`) a missing server is a failure, never a silent skip; locally the
 * run says loudly that PostgreSQL was not tested.
 */
export interface StoreTarget {
  name: 'pglite' | 'postgres';
  url: string;
  secret: string;
  /** Why this target cannot run here; the suite fails (CI) or reports it (locally). */
  unavailable?: string;
}

const testSecret = randomBytes(32).toString('hex');

/** The embedded target, always run. */
export const embeddedTarget: StoreTarget = { name: 'pglite', url: 'memory://', secret: testSecret };

export function storeTargets(env: Record<string, string | undefined> = process.env): StoreTarget[] {
  const targets: StoreTarget[] = [embeddedTarget];
  const url = env.DATABASE_URL;
  if (url) targets.push({ name: 'postgres', url, secret: testSecret });
  else {
    const reason = 'DATABASE_URL is not set: the PostgreSQL run of the store suite was NOT run';
    if (env.CI === 'true') targets.push({ name: 'postgres', url: '', secret: testSecret, unavailable: reason });
    else {
      process.stderr.write(`\n!!! ${reason}. Set DATABASE_URL=postgres://... to run it (CI always does).\n\n`);
    }
  }
  return targets;
}

/** A shop id of its own for each test, so tests sharing one database never see each other's rows. */
export function uniqueShop(prefix = 'test'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}.myshopify.com`;
}
