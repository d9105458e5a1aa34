import type { ShopContext } from '../shop/context.js';
import { segmentMembers } from '../segment/evaluate.js';
import { parseSegment } from '../segment/language.js';
import type { TactfulCampaigns, TactfulRecommend } from '../tactful.js';
import { featuredProducts } from '../campaign/featured.js';
import { runCampaign } from '../campaign/run.js';
import { campaignStats, refreshCampaignReports } from '../campaign/stats.js';
import { sendTestEmail } from '../campaign/test-send.js';
import { systemActor } from '../audit/actors.js';

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
    testSend: (input, deps) =>
      sendTestEmail(
        {
          ctx,
          recommend: recommend.forCustomer,
          provider: deps.provider,
          mailbox: deps.mailbox,
          actor: deps.actor ?? systemActor,
        },
        input,
      ),
    featured: (campaign) => featuredProducts(ctx.db, ctx.shopId, campaign),
  };
}
