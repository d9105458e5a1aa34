import { systemActor } from '../audit/actors.js';
import { appendAudit } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { TactfulError } from '../errors/tactful-error.js';
import type { TactfulPrivacy } from '../tactful.js';
import { compactAfterErasure } from '../privacy/compact.js';
import { readDataRequests } from '../privacy/data-requests.js';
import { eraseSubject } from '../privacy/erase.js';
import { exportSubject } from '../privacy/export.js';
import { processingRegister } from '../privacy/register.js';
import { applyRetention, DEFAULT_RETENTION_MONTHS, findStale } from '../privacy/retention.js';

export function privacyApi(ctx: ShopContext): TactfulPrivacy {
  const { db, keys, shopId, now } = ctx;
  return {
    export: (email, actor = systemActor, options) => exportSubject(ctx, email, actor, options),
    erase: async (email, request, actor = systemActor) => {
      const result = await eraseSubject(ctx, email, request, actor);
      return { ...result, compaction: request.compact === false ? null : await compactAfterErasure(db) };
    },
    retention: (months = DEFAULT_RETENTION_MONTHS) => findStale(ctx, months),
    applyRetention: async (months = DEFAULT_RETENTION_MONTHS, actor = systemActor) => {
      const result = await applyRetention(ctx, months, actor);
      return { ...result, compaction: result.erased.length > 0 ? await compactAfterErasure(db) : null };
    },
    register: (months = DEFAULT_RETENTION_MONTHS) => processingRegister(db, shopId, now(), months),
    dataRequests: async () =>
      (await readDataRequests(db, keys, shopId)).map(({ requestId, preparedAt, bundle }) => {
        const subjectId = (bundle as { subject?: { subjectId?: unknown } } | null)?.subject?.subjectId;
        return { requestId, preparedAt, subjectId: typeof subjectId === 'string' ? subjectId : null };
      }),
    dataRequest: async (requestId, actor = systemActor) => {
      const found = (await readDataRequests(db, keys, shopId)).find((r) => r.requestId === requestId);
      if (!found)
        throw new TactfulError('PRIVACY.NOT_FOUND', `No prepared data request "${requestId}" in shop ${shopId}.`);
      await withShopTransaction(ctx, actor, (s) =>
        appendAudit(s.tx, shopId, s.head, {
          action: 'data.exported',
          actor,
          at: s.recordedAt,
          details: { requestId, to: 'merchant', reason: 'platform data request' },
        }),
      );
      return found;
    },
  };
}
