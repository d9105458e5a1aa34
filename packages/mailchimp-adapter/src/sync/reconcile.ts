import type { EmailProvider, InboundSink } from '@tactful/core';
import { memberToInboundEvent } from '../provider.js';

export interface ReconcileResult {
  members: number;
  accepted: number;
  duplicates: number;
}

/**
 * Reconciliation: pages through the audience (members changed since `changedSince`, or all) and hands
 * each member's state to the same inbound path as webhooks, so changes made in Mailchimp itself go
 * through the same fold. The delivery id is derived from the member's state and its time, so a repeated
 * run reports duplicates instead of new events; Tactful's own earlier pushes come back as `sync` events,
 * which the engine recognises as echoes.
 */
export async function reconcileMailchimpAudience(
  provider: EmailProvider,
  sink: InboundSink,
  shop: string,
  options: { changedSince?: Date; pageSize?: number; now?: () => Date } = {},
): Promise<ReconcileResult> {
  const now = options.now ?? (() => new Date());
  const result: ReconcileResult = { members: 0, accepted: 0, duplicates: 0 };
  let cursor: string | undefined;
  do {
    const page = await provider.listMembers({
      cursor,
      limit: options.pageSize ?? 1000,
      changedSince: options.changedSince,
    });
    for (const member of page.items) {
      result.members += 1;
      const event = memberToInboundEvent(member);
      const outcome = await sink.receive(shop, event, {
        system: provider.system,
        deliveryId: `reconcile:${member.consent.sourceEventId}`,
        receivedAt: now(),
        topic: `reconcile/${member.status}`,
      });
      if (outcome === 'accepted') result.accepted += 1;
      else result.duplicates += 1;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return result;
}
