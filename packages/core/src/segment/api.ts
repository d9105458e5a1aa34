import type { ShopContext } from '../consent/service.js';
import type { TactfulSegments } from '../tactful.js';
import { paretoReport, previewSegment, rfmReport, segmentMembers } from './evaluate.js';
import { parseSegment } from './language.js';
import { deleteSegment, listSegments, saveSegment } from './saved.js';

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
