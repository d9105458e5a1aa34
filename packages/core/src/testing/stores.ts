import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { makePgliteImage } from '../store/make-image.js';
import { migrationsFolder } from '../store/open.js';
import { PGLITE_IMAGES_ENV, pgliteImagePath } from '../store/pglite-image.js';

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

/**
 * Makes the migrated PGlite image of core's migrations in `folder` (what a suite sets `TACTFUL_PGLITE_IMAGES` to)
 * unless it is there, in a child process as a first new database would. A suite's global set-up calls it before
 * its workers start: each would otherwise find no image at its first new database and make one, all at once.
 * Not made (the reason given): each new database then makes it or creates itself, as without this.
 */
export async function preparePgliteImage(folder: string): Promise<{ made: boolean; reason?: string }> {
  const migrations = migrationsFolder();
  const image = pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: folder });
  if (!image) return { made: false, reason: "PGlite's version could not be read" };
  if (existsSync(image)) return { made: true };
  return makePgliteImage(image, migrations);
}
