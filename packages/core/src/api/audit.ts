import type { ShopContext } from '../shop/context.js';
import { verifyLedger } from '../consent/ledger.js';
import { findSubjectByEmail } from '../profile/subjects.js';
import type { TactfulAudit } from '../tactful.js';
import { exportAudit } from '../privacy/audit-export.js';
import { verifyAudit } from '../audit/log.js';
import { auditPage } from '../audit/page.js';

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
