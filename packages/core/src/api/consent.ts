import { systemActor } from '../audit/actors.js';
import { TactfulError } from '../errors/tactful-error.js';
import { findSubjectByEmail } from '../profile/subjects.js';
import type { TactfulConsent, TactfulLinks, TactfulMailThrottle, TactfulPurposes } from '../tactful.js';
import { takeRecipientMail } from '../consent/mail-throttle.js';
import { definePurpose, listPurposes } from '../consent/purposes.js';
import {
  confirmOptIn,
  consentHistory,
  recordConsent,
  recordConsentBatch,
  requestOptIn,
  showConsent,
  unsubscribe,
  unsubscribeToken,
} from '../consent/service.js';
import { withShopTransaction, type ShopContext } from '../shop/context.js';
import { PREFERENCES_LINK_TTL_HOURS, preferencesToken, verifyToken } from '../consent/tokens.js';

export function consentApi(ctx: ShopContext): TactfulConsent {
  const { db, keys, shopId } = ctx;
  return {
    record: (input, actor = systemActor) => recordConsent(ctx, input, actor),
    recordBatch: (inputs, actor = systemActor) => recordConsentBatch(ctx, inputs, actor),
    show: (email) => showConsent(ctx, email),
    history: (email) => consentHistory(ctx, email),
    requestOptIn: (request, actor = { type: 'customer', id: 'form' }) => requestOptIn(ctx, request, actor),
    confirmOptIn: (token, evidence = {}, actor = { type: 'customer', id: 'confirm-link' }) =>
      confirmOptIn(ctx, token, evidence, actor),
    unsubscribeToken: async (email, purpose) => {
      const shopKeys = await keys.shop(db, shopId);
      const subject = await findSubjectByEmail(db, { keys, shopKeys, shopId }, email.trim().toLowerCase());
      if (!subject) throw new TactfulError('SUBJECT.NOT_FOUND', `No customer with email ${email} in shop ${shopId}.`);
      return unsubscribeToken(ctx, subject.subjectId, purpose);
    },
    unsubscribe: (token, evidence = {}, actor = { type: 'customer', id: 'one-click' }) =>
      unsubscribe(ctx, token, evidence, actor),
  };
}

export function purposesApi(ctx: ShopContext): TactfulPurposes {
  return {
    list: () => listPurposes(ctx.db, ctx.shopId),
    define: (input, actor = systemActor) =>
      withShopTransaction(ctx, actor, (s) => definePurpose(s.tx, ctx.shopId, s.head, input, actor, s.recordedAt)),
  };
}

export function linksApi(ctx: ShopContext): TactfulLinks {
  const { db, keys, shopId, now } = ctx;
  return {
    read: async (token, kind, options = {}) => {
      const shopKeys = await keys.shop(db, shopId);
      const payload = verifyToken(shopKeys.tokenKey, token as string, kind);
      if (payload.shop !== shopId) throw new TactfulError('CONSENT.TOKEN_FORGED', 'This link belongs to another shop.');
      if (!options.allowExpired && 'exp' in payload && payload.exp * 1000 < now().getTime())
        throw new TactfulError('CONSENT.TOKEN_EXPIRED', 'This link has expired: ask for a new one.');
      return payload;
    },
    preferences: async (subjectId, ttlHours = PREFERENCES_LINK_TTL_HOURS) => {
      const shopKeys = await keys.shop(db, shopId);
      return preferencesToken(shopKeys.tokenKey, shopId, subjectId, now(), ttlHours);
    },
  };
}

export function mailThrottleApi(ctx: ShopContext): TactfulMailThrottle {
  return { take: (email) => takeRecipientMail(ctx, email) };
}
