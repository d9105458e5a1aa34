import { systemActor } from '../audit/actors.js';
import type { ShopContext } from '../shop/context.js';
import type { TactfulProfiles } from '../tactful.js';
import { mergeSubjects, previewMerge } from '../consent/merge.js';
import { rescoreProfiles } from '../profile/rfm.js';
import { subjectEmail, subjectOrders, subjectRecord } from '../profile/record.js';
import {
  changeEmail,
  ingestCustomerAttributes,
  rectifyProfile,
  requireChange,
  setProfileAttributes,
  showProfile,
} from '../profile/service.js';

export function profilesApi(ctx: ShopContext): TactfulProfiles {
  const { db, keys, shopId, now } = ctx;
  return {
    show: (email) => showProfile(ctx, email),
    setAttributes: (email, attributes, source = 'api', actor = systemActor) =>
      setProfileAttributes(ctx, email, attributes, source, actor),
    ingestCustomers: (records, source, actor = systemActor) => ingestCustomerAttributes(ctx, records, source, actor),
    changeEmail: async (oldEmail, newEmail, actor = systemActor) =>
      requireChange(
        await changeEmail(ctx, oldEmail, newEmail, actor, actor.type === 'customer' ? 'customer' : 'tactful'),
      ),
    merge: (keepEmail, mergeEmail, actor = systemActor) => mergeSubjects(ctx, keepEmail, mergeEmail, actor),
    previewMerge: (keepEmail, mergeEmail, actor = systemActor) => previewMerge(ctx, keepEmail, mergeEmail, actor),
    rectify: (email, attributes, actor) => rectifyProfile(ctx, email, attributes, actor),
    rescore: () => rescoreProfiles(db, keys, shopId, now()),
    record: (subjectId) => subjectRecord(db, shopId, subjectId),
    orders: (subjectId, limit) => subjectOrders(db, shopId, subjectId, limit),
    emailOf: (subjectId) => subjectEmail(db, keys, shopId, subjectId),
  };
}
