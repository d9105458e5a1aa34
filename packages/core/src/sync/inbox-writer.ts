import { sql } from 'drizzle-orm';
import { encrypt, hmac } from '../crypto/cipher.js';
import { bulkInsertQuery } from '../store/bulk.js';
import type { KeyRing } from '../store/keyring.js';
import type { InboundEvent, InboundMeta } from '../ports.js';
import { rows as rowsOf, type Db } from '../store/open.js';
import { inbox, kv } from '../store/schema.js';

type Outcome = 'accepted' | 'duplicate';
interface Waiting {
  row: typeof inbox.$inferInsert;
  /** The `kv` row that marks this content as seen, when the source gave a content digest. */
  seen: typeof kv.$inferInsert | null;
  resolve: (outcome: Outcome) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
const key = (shopId: string, system: string, deliveryId: string) => `${shopId}\u0000${system}\u0000${deliveryId}`;

/**
 * The `kv` key that remembers a delivery's content. Keyed under the shop's index key, so what is kept after a
 * person's erasure (their deliveries are deleted, this mark stays and keeps a replay of them out) cannot be
 * matched against a guessed body by anyone without the shop's key.
 */
export const seenContentKey = (indexKey: Buffer, system: string, contentHash: string) =>
  `inbox:seen:${system}:${hmac(indexKey, contentHash).toString('hex')}`;

/**
 * Stores inbound deliveries with group commit: the deliveries that arrive while one insert is running are
 * written together by the next, one multi-row statement, so a burst of webhooks costs a few round trips
 * instead of one each (PGlite runs one statement at a time). Each caller's promise settles only after its
 * row is committed, so a webhook is acknowledged only once it is durable. A delivery seen before — in the
 * table or earlier in the same batch, by its id or by its content digest — is a duplicate.
 */
export function createInboxWriter(db: Db, keys: KeyRing) {
  let queue: Waiting[] = [];
  let running = false;

  /** Writes the queue until it is empty; `receive` sets `running` when it schedules this. */
  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_BATCH);
        queue = queue.slice(batch.length);
        try {
          // The content marks and the deliveries commit together: a delivery that fails to store leaves no
          // mark behind, so the vendor's retry of it is not mistaken for a replay.
          // Both inserts are bulk statements (rows as one JSON parameter): the query builder's per-value work was
          // a large part of an acknowledgement's time under load.
          const fresh = await db.transaction(async (tx) => {
            const marks = batch.flatMap((w) => (w.seen ? [w.seen] : []));
            const marking = bulkInsertQuery(kv, marks, sql`on conflict do nothing returning shop_id, key`);
            const marked = marking ? await rowsOf<{ shop_id: string; key: string }>(tx, marking) : [];
            const newContent = new Set(marked.map((m) => `${m.shop_id}\u0000${m.key}`));
            const rows = batch
              .filter((w) => !w.seen || newContent.delete(`${w.seen.shopId}\u0000${w.seen.key}`))
              .map((w) => w.row);
            const inserting = bulkInsertQuery(
              inbox,
              rows,
              sql`on conflict do nothing returning shop_id, system, delivery_id`,
            );
            const inserted = inserting
              ? await rowsOf<{ shop_id: string; system: string; delivery_id: string }>(tx, inserting)
              : [];
            return new Set(inserted.map((r) => key(r.shop_id, r.system, r.delivery_id)));
          });
          for (const w of batch) {
            const k = key(w.row.shopId, w.row.system, w.row.deliveryId);
            // The first of a key in the batch got the row; any later one, or a known content, is a replay.
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
      const seen = meta.contentHash
        ? {
            shopId,
            key: seenContentKey(shopKeys.indexKey, meta.system, meta.contentHash),
            value: meta.deliveryId,
            updatedAt: meta.receivedAt,
          }
        : null;
      return new Promise<Outcome>((resolve, reject) => {
        queue.push({ row, seen, resolve, reject });
        if (running) return;
        // The write starts on the next turn of the event loop, after the requests already received are read:
        // PGlite runs its statements on this thread, so without the wait each write would finish before the
        // next request is read, and a burst would cost one transaction a delivery instead of a few in all.
        running = true;
        setImmediate(() => void drain());
      });
    },
  };
}
