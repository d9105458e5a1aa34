import { and, eq } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { campaignRecipients } from '../store/schema.js';

/** The products a campaign's email featured to each recipient it was sent to (subject id → product ids). */
export async function featuredProducts(db: Db, shopId: string, campaign: string): Promise<Map<string, string[]>> {
  const sent = await db
    .select({ subjectId: campaignRecipients.subjectId, productIds: campaignRecipients.productIds })
    .from(campaignRecipients)
    .where(
      and(
        eq(campaignRecipients.shopId, shopId),
        eq(campaignRecipients.campaign, campaign),
        eq(campaignRecipients.status, 'sent'),
      ),
    );
  return new Map(sent.map((r) => [r.subjectId, r.productIds]));
}
