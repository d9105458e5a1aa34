import type { ShopContext } from '../shop/context.js';
import type { Tactful, TactfulOutbox, TactfulSync } from '../tactful.js';
import { createDispatcher } from '../sync/dispatcher.js';
import { outboxCounts } from '../sync/outbox.js';
import { readCursor, runSync } from './sync-run.js';
import { platformTarget, providerTarget } from '../sync/targets.js';

/** `engine` is the assembled engine: a sync pulls through its inbox and delivers through its outbox. */
export function syncApi(engine: () => Tactful): TactfulSync {
  return {
    run: (adapters, options) => runSync(engine(), adapters, options),
    cursor: (system) => readCursor(engine(), system),
  };
}

export function outboxApi(ctx: ShopContext): TactfulOutbox {
  const { db, keys, shopId, now } = ctx;
  return {
    dispatcher: (opts) => createDispatcher({ db, keys, shopId, now, ...opts }),
    counts: () => outboxCounts(db, shopId),
  };
}

export const targetsApi: Tactful['targets'] = (adapters) => {
  const out: ReturnType<Tactful['targets']> = {};
  if (adapters.platform) out[adapters.platform.system] = platformTarget(adapters.platform);
  if (adapters.provider) out[adapters.provider.system] = providerTarget(adapters.provider);
  return out;
};
