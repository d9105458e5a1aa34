import { randomBytes } from 'node:crypto';
import { uniqueShop } from '../../packages/core/src/testing/stores.js';

/**
 * Where a test builds a demo-sized world (2 000 customers and the 9 835 Groceries orders): on the suite's
 * PostgreSQL when it has one (`DATABASE_URL`, which CI always sets), else an embedded `memory://` database. The
 * code paths are the same on both, and the store suites (`describeEachStore`) run every one of them on both; the
 * server builds the world for less CPU than PGlite inside the test worker (two such files: 87 → 69 CPU-seconds of
 * the two-core machine, measured on it), which the whole suite waits for. A shop of its own, as on any shared
 * database.
 */
export function worldStore(prefix: string): { url: string; secret: string; shop: string } {
  return {
    url: process.env.DATABASE_URL || 'memory://',
    secret: randomBytes(32).toString('hex'),
    shop: uniqueShop(prefix),
  };
}
