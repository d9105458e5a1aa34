import { z } from 'zod';

/**
 * The parts of Mailchimp's responses the adapter reads, validated at the boundary. Objects are loose:
 * Mailchimp adds fields over time, and a new field must not break a sync.
 */
const nullableString = z.string().nullish();

export const memberSchema = z.looseObject({
  id: z.string(),
  email_address: z.string(),
  unique_email_id: z.string().optional(),
  status: z.enum(['subscribed', 'unsubscribed', 'cleaned', 'pending', 'transactional', 'archived']),
  merge_fields: z.record(z.string(), z.unknown()).optional(),
  tags: z.array(z.looseObject({ id: z.number().optional(), name: z.string() })).optional(),
  marketing_permissions: z
    .array(z.looseObject({ marketing_permission_id: z.string(), text: z.string().optional(), enabled: z.boolean() }))
    .optional(),
  timestamp_signup: nullableString,
  timestamp_opt: nullableString,
  ip_opt: nullableString,
  last_changed: z.string(),
  unsubscribe_reason: nullableString,
  list_id: z.string().optional(),
});
export type MailchimpMember = z.output<typeof memberSchema>;

export const memberPageSchema = z.looseObject({
  members: z.array(memberSchema),
  list_id: z.string().optional(),
  total_items: z.number().int(),
});

export const batchErrorSchema = z.looseObject({
  email_address: z.string(),
  error: z.string(),
  error_code: z.string().optional(),
  field: z.string().optional(),
  field_message: z.string().optional(),
});

export const batchResultSchema = z.looseObject({
  new_members: z.array(memberSchema).default([]),
  updated_members: z.array(memberSchema).default([]),
  errors: z.array(batchErrorSchema).default([]),
  total_created: z.number().int().optional(),
  total_updated: z.number().int().optional(),
  error_count: z.number().int().optional(),
});
export type BatchResult = z.output<typeof batchResultSchema>;

export const listSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  contact: z.looseObject({ company: z.string(), address1: z.string() }).optional(),
  double_optin: z.boolean().optional(),
  marketing_permissions: z.boolean().optional(),
});

export const listPageSchema = z.looseObject({
  lists: z.array(listSchema.extend({ stats: z.looseObject({ member_count: z.number() }).optional() })),
  total_items: z.number().int(),
});

export const mergeFieldSchema = z.looseObject({
  merge_id: z.number().int(),
  tag: z.string(),
  name: z.string(),
  type: z.string(),
});
export const mergeFieldPageSchema = z.looseObject({
  merge_fields: z.array(mergeFieldSchema),
  total_items: z.number().int(),
});

export const segmentSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  type: z.string(),
  member_count: z.number().int().optional(),
});
export const segmentPageSchema = z.looseObject({ segments: z.array(segmentSchema), total_items: z.number().int() });
export const segmentBatchSchema = z.looseObject({
  members_added: z.array(memberSchema).default([]),
  members_removed: z.array(memberSchema).default([]),
  errors: z.array(z.looseObject({ email_addresses: z.array(z.string()).optional(), error: z.string() })).default([]),
  total_added: z.number().int().optional(),
  total_removed: z.number().int().optional(),
  error_count: z.number().int().optional(),
});

export const campaignSchema = z.looseObject({
  id: z.string(),
  web_id: z.number().int().optional(),
  status: z.string(),
  emails_sent: z.number().int().optional(),
  settings: z.looseObject({ title: z.string().optional() }).optional(),
});
export const campaignPageSchema = z.looseObject({ campaigns: z.array(campaignSchema), total_items: z.number().int() });

export const emailActivityPageSchema = z.looseObject({
  emails: z.array(
    z.looseObject({
      email_address: z.string(),
      activity: z.array(z.looseObject({ action: z.string() })).default([]),
    }),
  ),
  total_items: z.number().int(),
});

export const reportSchema = z.looseObject({
  id: z.string(),
  emails_sent: z.number().int(),
  unsubscribed: z.number().int().default(0),
  opens: z.looseObject({ opens_total: z.number().int(), unique_opens: z.number().int() }).optional(),
  clicks: z
    .looseObject({
      clicks_total: z.number().int(),
      unique_clicks: z.number().int().optional(),
      unique_subscriber_clicks: z.number().int().optional(),
    })
    .optional(),
});

export const webhookSchema = z.looseObject({ id: z.string(), url: z.string(), list_id: z.string().optional() });

export const problemSchema = z.looseObject({
  type: z.string().optional(),
  title: z.string().optional(),
  status: z.number().optional(),
  detail: z.string().optional(),
  instance: z.string().optional(),
});
