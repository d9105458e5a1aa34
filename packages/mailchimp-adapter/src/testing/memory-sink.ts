import type { InboundEvent, InboundMeta, InboundSink } from '@tactful/core';

/** An InboundSink that keeps what it receives in memory and reports replays as duplicates. */
export function createMemoryInboundSink(): InboundSink & {
  readonly received: Array<{ shop: string; event: InboundEvent; meta: InboundMeta }>;
} {
  const received: Array<{ shop: string; event: InboundEvent; meta: InboundMeta }> = [];
  const seen = new Set<string>();
  return {
    received,
    async receive(shop, event, meta) {
      const key = `${shop}\u0000${meta.system}\u0000${meta.deliveryId}`;
      if (seen.has(key)) return 'duplicate';
      seen.add(key);
      received.push({ shop, event, meta });
      return 'accepted';
    },
  };
}
