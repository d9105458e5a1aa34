import { appendAudit } from '../audit/log.js';
import { systemActor } from '../audit/actors.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import type { OutboxItem } from '../sync/outbox.js';
import type { Tactful, TactfulOutbox, TactfulSync } from '../tactful.js';
import { createDispatcher } from '../sync/dispatcher.js';
import { outboxCounts } from '../sync/outbox.js';
import { readCursor, runSync } from './sync-run.js';
import { EMAIL_CHANGE, platformTarget, providerTarget } from '../sync/targets.js';

/** `engine` is the assembled engine: a sync pulls through its inbox and delivers through its outbox. */
export function syncApi(engine: () => Tactful): TactfulSync {
  return {
    run: (adapters, options) => runSync(engine(), adapters, options),
    cursor: (system) => readCursor(engine(), system),
  };
}

/** Outcomes kept in the audit log: what each system was told about a person's erasure or address change. */
const auditedKinds = new Set(['subject.erase', EMAIL_CHANGE]);

export function outboxApi(ctx: ShopContext): TactfulOutbox {
  const { db, keys, shopId, now } = ctx;
  const audit = (item: OutboxItem, action: 'sync.delivered' | 'sync.dead_lettered', error?: string) =>
    auditedKinds.has(item.kind)
      ? withShopTransaction({ ...ctx, shopId: item.shopId }, systemActor, (s) =>
          appendAudit(s.tx, s.shopId, s.head, {
            action,
            actor: systemActor,
            subjectId: item.subjectId,
            at: s.recordedAt,
            // The error's code only: a vendor's message may name the address.
            details: {
              target: item.target,
              kind: item.kind,
              outboxId: item.id,
              ...(error ? { error: /^[A-Z_]+\.[A-Z_]+/.exec(error)?.[0] ?? 'error' } : {}),
            },
          }),
        ).then(() => undefined)
      : Promise.resolve();
  return {
    dispatcher: (opts) =>
      createDispatcher({
        db,
        keys,
        shopId,
        now,
        ...opts,
        onDelivered: async (item) => {
          await audit(item, 'sync.delivered');
          await opts?.onDelivered?.(item);
        },
        onDeadLetter: async (item, error) => {
          await audit(item, 'sync.dead_lettered', error);
          await opts?.onDeadLetter?.(item, error);
        },
      }),
    counts: () => outboxCounts(db, shopId),
  };
}

export const targetsApi: Tactful['targets'] = (adapters) => {
  const out: ReturnType<Tactful['targets']> = {};
  if (adapters.platform) out[adapters.platform.system] = platformTarget(adapters.platform);
  if (adapters.provider) out[adapters.provider.system] = providerTarget(adapters.provider);
  return out;
};
