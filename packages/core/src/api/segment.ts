import { systemActor } from '../audit/actors.js';
import { appendAudit } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import type { TactfulSegments } from '../tactful.js';
import { paretoReport, previewSegment, rfmReport, segmentMembers } from '../segment/evaluate.js';
import { parseSegment } from '../segment/language.js';
import { deleteSegment, listSegments, saveSegment } from '../segment/saved.js';

export function segmentsApi(ctx: ShopContext): TactfulSegments {
  const { db, shopId, now } = ctx;
  return {
    parse: (input) => parseSegment(input),
    preview: (segment, sampleSize) => previewSegment(ctx, parseSegment(segment), sampleSize),
    members: (segment) => segmentMembers(ctx, parseSegment(segment)),
    save: (name, segment, actor = systemActor) =>
      withShopTransaction(ctx, actor, async (s) => {
        const saved = await saveSegment(s.tx, shopId, name, segment, now());
        await appendAudit(s.tx, shopId, s.head, {
          action: 'segment.saved',
          actor,
          at: s.recordedAt,
          details: { name },
        });
        return saved;
      }),
    list: () => listSegments(db, shopId),
    get: async (name) => (await listSegments(db, shopId)).find((s) => s.name === name) ?? null,
    delete: (name, actor = systemActor) =>
      withShopTransaction(ctx, actor, async (s) => {
        const gone = await deleteSegment(s.tx, shopId, name);
        if (gone)
          await appendAudit(s.tx, shopId, s.head, {
            action: 'segment.deleted',
            actor,
            at: s.recordedAt,
            details: { name },
          });
        return gone;
      }),
    pareto: (threshold) => paretoReport(ctx, threshold),
    rfm: () => rfmReport(ctx),
  };
}
