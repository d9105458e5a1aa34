import type { ShopContext } from '../shop/context.js';
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
    save: (name, segment) => saveSegment(db, shopId, name, segment, now()),
    list: () => listSegments(db, shopId),
    delete: (name) => deleteSegment(db, shopId, name),
    pareto: (threshold) => paretoReport(ctx, threshold),
    rfm: () => rfmReport(ctx),
  };
}
