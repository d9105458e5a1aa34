import { afterAll, beforeAll, describe, it } from 'vitest';
import { openStore, type Store } from '../store/open.js';
import { embeddedTarget, storeTargets, type StoreTarget } from './stores.js';

/** The embedded store every suite of this process shares (see `describeEachStore`), kept across test files. */
const sharedEmbedded = Symbol.for('tactful.testing.sharedEmbeddedStore');
type Holder = { [sharedEmbedded]?: Map<string, Promise<Store>> };

/**
 * The PGlite target's store, opened once per process and never closed by a suite: the next suite (the next test
 * file in the same vitest worker, when files share workers) uses it too, as every suite on the PostgreSQL target
 * shares one database. Opening an embedded database costs 0.3-1 CPU-second (a fresh WebAssembly memory to fault
 * in), once per suite before. Its folder goes when the process exits (`makeThrowawayFolder`). A suite never
 * closes it; a failed open is not retried (every suite of the process reports the same error).
 */
function embeddedStore(target: StoreTarget): Promise<Store> {
  // By secret: two copies of this module (the sources and a build) each have a test secret of their own.
  const stores = ((globalThis as Holder)[sharedEmbedded] ??= new Map());
  let store = stores.get(target.secret);
  if (!store) {
    store = openStore({ url: target.url, secret: target.secret });
    stores.set(target.secret, store);
  }
  return store;
}

/**
 * The embedded (`memory://`) store of this process that every store suite shares (`describeEachStore`), for a test
 * file that runs on PGlite only. Never close it; work in a shop no other file uses.
 */
export function embeddedTestStore(): Promise<Store> {
  return embeddedStore(embeddedTarget);
}

/**
 * Runs `suite` once per store target (PGlite, and PostgreSQL when available). On each target the suite's tests
 * share one database with every other suite (one PGlite per process, one PostgreSQL for all): each test works in
 * a shop of its own (`uniqueShop`) and never reads another shop's rows. A target that must run but cannot (CI
 * without a server) fails.
 */
export function describeEachStore(name: string, suite: (getStore: () => Store, target: StoreTarget) => void): void {
  for (const target of storeTargets()) {
    describe(`${name} [${target.name}]`, () => {
      if (target.unavailable) {
        it('has a database to run on', () => {
          throw new Error(target.unavailable);
        });
        return;
      }
      const embedded = target.name === 'pglite';
      let store: Store | undefined;
      beforeAll(async () => {
        store = embedded ? await embeddedStore(target) : await openStore({ url: target.url, secret: target.secret });
      });
      afterAll(async () => {
        if (!embedded) await store?.close();
      });
      suite(() => {
        if (!store) throw new Error('store not open');
        return store;
      }, target);
    });
  }
}
