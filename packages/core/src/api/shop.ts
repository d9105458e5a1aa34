import { systemActor } from '../audit/actors.js';
import { appendAudit } from '../audit/log.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import type { TactfulAdminSessions, TactfulSettings } from '../tactful.js';
import { adminSessionValid, createAdminSession, endAdminSession } from '../shop/admin-sessions.js';
import { readShopSettings, writeShopSettings } from '../shop/settings.js';

export function settingsApi(ctx: ShopContext): TactfulSettings {
  const { db, shopId } = ctx;
  return {
    get: () => readShopSettings(db, shopId),
    update: async (patch, actor = systemActor) => {
      const next = await writeShopSettings(db, shopId, patch);
      await withShopTransaction(ctx, actor, (s) =>
        appendAudit(s.tx, shopId, s.head, {
          action: 'settings.changed',
          actor,
          at: s.recordedAt,
          details: { changed: Object.keys(patch) },
        }),
      );
      return next;
    },
  };
}

export function adminSessionsApi(ctx: ShopContext): TactfulAdminSessions {
  const { db, shopId, now } = ctx;
  return {
    create: (ttlHours) => createAdminSession(db, shopId, now(), new Date(now().getTime() + ttlHours * 3600_000)),
    valid: (id) => adminSessionValid(db, shopId, id, now()),
    end: (id) => endAdminSession(db, shopId, id),
  };
}
