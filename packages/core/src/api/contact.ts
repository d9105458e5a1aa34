import type { ShopContext } from '../shop/context.js';
import { requireSubjectByEmail } from '../profile/service.js';
import type { TactfulContact } from '../tactful.js';
import { canContact, readContactPolicy, recordSend, writeContactPolicy } from '../contact/policy.js';

export function contactApi(ctx: ShopContext): TactfulContact {
  const { db, shopId, now } = ctx;
  const subjectIdOf = async (subject: string) =>
    subject.includes('@') ? (await requireSubjectByEmail(ctx, subject)).subjectId : subject;
  return {
    policy: () => readContactPolicy(db, shopId),
    setPolicy: (input) => writeContactPolicy(db, shopId, input, now()),
    canContact: async (subject, at = now(), options) => canContact(ctx, await subjectIdOf(subject), at, options),
    recordSend: async (subject, send = {}) =>
      recordSend(db, shopId, await subjectIdOf(subject), { ...send, sentAt: send.sentAt ?? now() }),
  };
}
