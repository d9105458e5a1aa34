import { systemActor } from '../audit/actors.js';
import { TactfulError } from '../errors/tactful-error.js';
import { customerEmails, listCustomers, recordCustomerView } from '../profile/customers.js';
import { segmentMembers } from '../segment/evaluate.js';
import { listSegments } from '../segment/saved.js';
import type { ShopContext } from '../shop/context.js';
import type { TactfulCustomers } from '../tactful.js';

export function customersApi(ctx: ShopContext): TactfulCustomers {
  return {
    list: async (query = {}) => {
      const { segment, ...rest } = query;
      let members: string[] | null = null;
      if (segment !== undefined && segment !== '') {
        const saved = (await listSegments(ctx.db, ctx.shopId)).find((s) => s.name === segment);
        if (!saved)
          throw new TactfulError('SEGMENT.NOT_FOUND', `No saved segment "${segment}": pick one from the list.`);
        members = await segmentMembers(ctx, saved.definition);
      }
      return listCustomers(ctx, rest, members);
    },
    viewed: (subjectId, actor = systemActor, what = 'customer page') => recordCustomerView(ctx, subjectId, actor, what),
    acted: (subjectId, actor, action) => recordCustomerView(ctx, subjectId, actor, action, 'admin.action'),
    emails: (subjectId) => customerEmails(ctx, subjectId),
  };
}
