import type { ShopContext } from '../consent/service.js';
import type { TactfulReports } from '../tactful.js';
import { activityReport } from './activity.js';

export function reportsApi(ctx: ShopContext): TactfulReports {
  return { activity: (since) => activityReport(ctx.db, ctx.shopId, since) };
}
