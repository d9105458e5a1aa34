import type { ShopContext } from '../consent/service.js';
import { verifyLedger } from '../consent/ledger.js';
import { findSubjectByEmail } from '../profile/subjects.js';
import type { TactfulAudit } from '../tactful.js';
import { exportAudit } from './export.js';
import { verifyAudit } from './log.js';
import { auditPage } from './page.js';

export function auditApi(ctx: ShopContext): TactfulAudit {
  const { db, keys, shopId } = ctx;
  return {
    export: (format, query = {}) => exportAudit(db, keys, shopId, format, query),
    verify: async () => ({ ledger: await verifyLedger(db, shopId), audit: await verifyAudit(db, shopId) }),
    subjectIdOf: async (email) => {
      const shopKeys = await keys.shop(db, shopId);
      return (await findSubjectByEmail(db, { keys, shopKeys, shopId }, email.trim().toLowerCase()))?.subjectId ?? null;
    },
    page: (filter, page) => auditPage(db, shopId, filter, page),
  };
}
