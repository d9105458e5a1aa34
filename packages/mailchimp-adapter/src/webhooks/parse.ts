import { z } from 'zod';
import type { InboundEvent } from '@tactful/core';
import { TactfulError } from '@tactful/core';

/**
 * Mailchimp's audience webhooks arrive form-encoded with bracketed keys
 * (`type=unsubscribe&fired_at=2014-10-22+13%3A10%3A40&data[email]=…&data[merges][FNAME]=…`).
 * `fired_at` has no zone; Mailchimp sends it in UTC.
 */
export type WebhookFields = { [key: string]: string | WebhookFields };

/** Names that reach an object's prototype when used as a key: never a field of a webhook. */
const prototypeKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes the bracketed form into nested objects without a prototype, so no key of the body can reach
 * `Object.prototype` (`__proto__[x]=1` would otherwise add `x` to every object of the process). A key naming
 * a prototype is refused with `MAILCHIMP.WEBHOOK_INVALID`.
 */
export function decodeWebhookBody(raw: string): WebhookFields {
  const root: WebhookFields = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const path = key.replace(/\]/g, '').split('[');
    const bad = path.find((segment) => prototypeKeys.has(segment));
    if (bad !== undefined)
      throw new TactfulError(
        'MAILCHIMP.WEBHOOK_INVALID',
        `Not a Mailchimp audience webhook: the key "${key}" names "${bad}", which no Mailchimp field does.`,
        { status: 400 },
      );
    let node = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        node[segment] = value;
        return;
      }
      const child = Object.hasOwn(node, segment) ? node[segment] : undefined;
      if (typeof child === 'object') node = child;
      else {
        const created: WebhookFields = Object.create(null);
        node[segment] = created;
        node = created;
      }
    });
  }
  return root;
}

const firedAt = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'fired_at is "YYYY-MM-DD HH:MM:SS"')
  .transform((s) => new Date(`${s.replace(' ', 'T')}Z`));
const email = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]{2,}$/, 'not an email address');
const merges = z.record(z.string(), z.string()).optional();

const memberData = z.looseObject({
  id: z.string().optional(),
  email,
  email_type: z.string().optional(),
  ip_opt: z.string().optional(),
  web_id: z.string().optional(),
  merges,
  list_id: z.string(),
});

export const mailchimpWebhookSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), fired_at: firedAt, data: memberData }),
  z.object({
    type: z.literal('unsubscribe'),
    fired_at: firedAt,
    data: memberData.extend({
      action: z.enum(['unsub', 'delete']).optional(),
      reason: z.string().optional(),
      campaign_id: z.string().optional(),
    }),
  }),
  z.object({ type: z.literal('profile'), fired_at: firedAt, data: memberData }),
  z.object({
    type: z.literal('upemail'),
    fired_at: firedAt,
    data: z.looseObject({ list_id: z.string(), new_id: z.string().optional(), new_email: email, old_email: email }),
  }),
  z.object({
    type: z.literal('cleaned'),
    fired_at: firedAt,
    data: z.looseObject({
      list_id: z.string(),
      campaign_id: z.string().optional(),
      reason: z.string().optional(),
      email,
    }),
  }),
  z.object({
    type: z.literal('campaign'),
    fired_at: firedAt,
    data: z.looseObject({
      id: z.string().min(1),
      subject: z.string().optional(),
      status: z.string().optional(),
      reason: z.string().optional(),
      list_id: z.string(),
    }),
  }),
]);
export type MailchimpWebhook = z.output<typeof mailchimpWebhookSchema>;

export interface ParsedWebhook {
  webhook: MailchimpWebhook;
  event: InboundEvent;
}

/**
 * Turns a raw webhook body into the event Tactful stores. Throws `MAILCHIMP.WEBHOOK_INVALID` for a body
 * without a known `type` or with missing fields. `profile` carries no consent change (Mailchimp fires it
 * for merge-field edits), so it becomes a `customer` event rather than a consent grant.
 */
export function parseMailchimpWebhook(
  raw: string,
  options: { statusPurpose?: string | undefined; doubleOptIn?: boolean | undefined } = {},
): ParsedWebhook {
  const purpose = options.statusPurpose ?? 'email_marketing';
  const decoded = decodeWebhookBody(raw);
  const result = mailchimpWebhookSchema.safeParse(decoded);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new TactfulError('MAILCHIMP.WEBHOOK_INVALID', `Not a Mailchimp audience webhook: ${problems.join('; ')}`, {
      details: problems,
      status: 400,
    });
  }
  const webhook = result.data;
  const at = webhook.fired_at;
  const stamp = at.toISOString();
  switch (webhook.type) {
    case 'subscribe':
      return {
        webhook,
        event: {
          kind: 'consent',
          externalId: webhook.data.id,
          consent: {
            email: webhook.data.email,
            purpose,
            state: 'granted',
            // On a double opt-in audience, a self-made subscribe is the confirmation click itself.
            level: webhook.data.ip_opt && options.doubleOptIn ? 'confirmed' : 'unknown',
            occurredAt: at,
            sourceEventId: `subscribe:${webhook.data.id ?? webhook.data.email}:${stamp}`,
            // Mailchimp records an opt-in IP only when the person opted in themselves (its form or confirmation).
            method: webhook.data.ip_opt ? (options.doubleOptIn ? 'double_opt_in_confirmation' : 'form') : 'admin',
            rawState: 'subscribed',
          },
        },
      };
    case 'unsubscribe':
      return {
        webhook,
        event: {
          kind: 'consent',
          externalId: webhook.data.id,
          consent: {
            email: webhook.data.email,
            purpose,
            state: 'withdrawn',
            level: 'unknown',
            occurredAt: at,
            sourceEventId: `unsubscribe:${webhook.data.id ?? webhook.data.email}:${stamp}`,
            method: webhook.data.campaign_id ? 'form' : 'admin',
            rawState: `unsubscribed:${webhook.data.action ?? 'unsub'}:${webhook.data.reason ?? ''}${webhook.data.campaign_id ? `:campaign=${webhook.data.campaign_id}` : ''}`,
          },
        },
      };
    case 'profile':
      return {
        webhook,
        event: {
          kind: 'customer',
          customer: {
            id: webhook.data.id ?? webhook.data.email,
            email: webhook.data.email,
            firstName: webhook.data.merges?.FNAME ?? null,
            lastName: webhook.data.merges?.LNAME ?? null,
            updatedAt: at,
          },
        },
      };
    case 'upemail':
      return {
        webhook,
        event: {
          kind: 'customer_email_changed',
          oldEmail: webhook.data.old_email,
          newEmail: webhook.data.new_email,
          occurredAt: at,
        },
      };
    case 'cleaned':
      return {
        webhook,
        event: {
          kind: 'undeliverable',
          email: webhook.data.email,
          reason: webhook.data.reason ?? 'cleaned',
          occurredAt: at,
        },
      };
    case 'campaign':
      return { webhook, event: { kind: 'campaign_sent', campaignId: webhook.data.id, occurredAt: at } };
  }
}
