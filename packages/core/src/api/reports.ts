import type { ShopContext } from '../shop/context.js';
import type { TactfulReports } from '../tactful.js';
import { activityReport } from '../reports/activity.js';

export function reportsApi(ctx: ShopContext): TactfulReports {
  return { activity: (since) => activityReport(ctx.db, ctx.shopId, since) };
}
