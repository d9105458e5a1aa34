import type { ShopContext } from '../consent/service.js';
import { segmentMembers } from '../segment/evaluate.js';
import { parseSegment } from '../segment/language.js';
import type { TactfulCampaigns, TactfulRecommend } from '../tactful.js';
import { featuredProducts } from './featured.js';
import { runCampaign } from './run.js';
import { campaignStats, refreshCampaignReports } from './stats.js';

export function campaignsApi(ctx: ShopContext, recommend: Pick<TactfulRecommend, 'forCustomer'>): TactfulCampaigns {
  return {
    run: (input, deps = {}) =>
      runCampaign(
        {
          ctx,
          provider: deps.provider,
          recommend: recommend.forCustomer,
          segmentMembers: (segment) => segmentMembers(ctx, parseSegment(segment)),
          ...(deps.actor ? { actor: deps.actor } : {}),
          ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
        },
        input,
      ),
    stats: (attributionDays) => campaignStats(ctx, attributionDays),
    refreshReports: (provider, options) => refreshCampaignReports(ctx, provider, options),
    featured: (campaign) => featuredProducts(ctx.db, ctx.shopId, campaign),
  };
}
