// Feeding what an adapter reads into the engine. A re-read of the same fact is a duplicate, not a new event.
import { fromExternalConsent, type CommercePlatform, type InboundEvent, type Tactful } from '@tactful/core';

export async function importConsent(
  tactful: Tactful,
  platform: CommercePlatform,
): Promise<{ recorded: number; duplicates: number }> {
  let recorded = 0;
  let duplicates = 0;
  let cursor: string | undefined;
  do {
    const page = await platform.listCustomers({ cursor, limit: 100 });
    for (const customer of page.items) {
      if (!customer.emailConsent) continue;
      const outcome = await tactful.consent.record(
        fromExternalConsent(platform.system, customer.emailConsent, customer.id),
      );
      if (outcome.status === 'duplicate') duplicates += 1;
      else recorded += 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return { recorded, duplicates };
}

/** A webhook route verifies the source, parses the body, and hands the normalised event to the inbox. */
export async function onNewsletterWebhook(
  tactful: Tactful,
  deliveryId: string,
  body: { id: number; email: string; subscribed: boolean; changed_at: string },
) {
  const email = body.email.trim().toLowerCase();
  const event: InboundEvent = {
    kind: 'consent',
    externalId: String(body.id),
    consent: {
      email,
      purpose: 'email_marketing',
      state: body.subscribed ? 'granted' : 'withdrawn',
      level: 'unknown',
      occurredAt: new Date(body.changed_at),
      sourceEventId: `${body.id}:${body.changed_at}`, // the same id the list call gives for the same fact
      method: 'sync',
    },
  };
  // Stored durably and deduplicated on (system, deliveryId) before the route answers; processed afterwards.
  return tactful.inbox.receive(tactful.shopId, event, {
    system: 'acme',
    deliveryId,
    receivedAt: new Date(),
    topic: 'newsletter/changed',
  });
}
