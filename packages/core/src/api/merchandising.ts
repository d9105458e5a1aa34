import { systemActor } from '../audit/actors.js';
import { appendAudit } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { readShopSettings, writeShopSettings } from '../shop/settings.js';
import type { TactfulConnections, TactfulMerchandising } from '../tactful.js';
import { changedRules, merchandisedCatalogue, searchProducts } from '../recommend/merchandising.js';
import {
  listConnections,
  readConnection,
  readConnectionSecrets,
  removeConnection,
  saveConnection,
} from '../shop/connections.js';

/** The merchandising part: the rules live in the shop's settings; each change is audited with what it named. */
export function merchandisingApi(ctx: ShopContext): TactfulMerchandising {
  const { db, shopId } = ctx;
  const rules = async () => (await readShopSettings(db, shopId)).merchandising;
  return {
    rules,
    change: async (change, actor = systemActor) => {
      const current = await rules();
      const { all } = await merchandisedCatalogue(db, shopId, current);
      const next = changedRules(current, change, all);
      await withShopTransaction(ctx, actor, async (s) => {
        await writeShopSettings(s.tx, shopId, { merchandising: next });
        await appendAudit(s.tx, shopId, s.head, {
          action: 'merchandising.changed',
          actor,
          at: s.recordedAt,
          details: { ...change },
        });
      });
      return next;
    },
    keptOut: async () => {
      const { keptOut } = await merchandisedCatalogue(db, shopId, await rules());
      return [...keptOut.values()].sort(
        (a, b) => a.title.localeCompare(b.title) || a.productId.localeCompare(b.productId),
      );
    },
    search: (query, limit) => searchProducts(db, shopId, query, limit),
    categories: async () => {
      const { all } = await merchandisedCatalogue(db, shopId, await rules());
      return [...new Set([...all.values()].flatMap((p) => (p.category ? [p.category] : [])))].sort((a, b) =>
        a.localeCompare(b),
      );
    },
  };
}

/** The connections part (shop/connections.ts). */
export function connectionsApi(ctx: ShopContext): TactfulConnections {
  return {
    get: (system) => readConnection(ctx, system),
    list: () => listConnections(ctx),
    secrets: (system) => readConnectionSecrets(ctx, system),
    save: (system, input, actor = systemActor) => saveConnection(ctx, system, input, actor),
    remove: (system, actor = systemActor) => removeConnection(ctx, system, actor),
  };
}
