import { encrypt } from '../crypto/cipher.js';
import type { KeyRing } from '../crypto/keyring.js';
import type { InboundEvent, InboundMeta } from '../ports.js';
import type { Db } from '../store/open.js';
import { inbox } from '../store/schema.js';

type Outcome = 'accepted' | 'duplicate';
interface Waiting {
  row: typeof inbox.$inferInsert;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
const key = (shopId: string, system: string, deliveryId: string) => `${shopId}\u0000${system}\u0000${deliveryId}`;

/**
 * Stores inbound deliveries with group commit: the deliveries that arrive while one insert is running are
 * written together by the next, one multi-row statement, so a burst of webhooks costs a few round trips
 * instead of one each (PGlite runs one statement at a time). Each caller's promise settles only after its
 * row is committed, so a webhook is acknowledged only once it is durable. A delivery seen before — in the
 * table or earlier in the same batch — is a duplicate.
 */
export function createInboxWriter(db: Db, keys: KeyRing) {
  let queue: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_BATCH);
        queue = queue.slice(batch.length);
        try {
          const inserted = await db
            .insert(inbox)
            .values(batch.map((w) => w.row))
            .onConflictDoNothing()
            .returning({ shopId: inbox.shopId, system: inbox.system, deliveryId: inbox.deliveryId });
          const fresh = new Set(inserted.map((r) => key(r.shopId, r.system, r.deliveryId)));
          for (const w of batch) {
            const k = key(w.row.shopId, w.row.system, w.row.deliveryId);
            // The first of a key in the batch got the row; any later one is a replay.
            w.resolve(fresh.delete(k) ? 'accepted' : 'duplicate');
          }
        } catch (error) {
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    async receive(shopId: string, event: InboundEvent, meta: InboundMeta): Promise<Outcome> {
      const shopKeys = await keys.shop(db, shopId);
      const row = {
        shopId,
        system: meta.system,
        deliveryId: meta.deliveryId,
        topic: meta.topic,
        payloadEnc: encrypt(
          shopKeys.shopKey,
          JSON.stringify(event),
          `inbox:${shopId}:${meta.system}:${meta.deliveryId}`,
        ),
        receivedAt: meta.receivedAt,
      };
      return new Promise<Outcome>((resolve, reject) => {
        queue.push({ row, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}
