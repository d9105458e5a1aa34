import { afterAll, beforeAll, describe, it } from 'vitest';
import { openStore, type Store } from '../store/open.js';
import { storeTargets, type StoreTarget } from './stores.js';

/**
 * Runs `suite` once per store target (PGlite, and PostgreSQL when available), with one open store per
 * target shared by the suite's tests. A target that must run but cannot (CI without a server) fails.
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
      let store: Store | undefined;
      beforeAll(async () => {
        store = await openStore({ url: target.url, secret: target.secret });
      });
      afterAll(async () => {
        await store?.close();
      });
      suite(() => {
        if (!store) throw new Error('store not open');
        return store;
      }, target);
    });
  }
}
