import { z } from 'zod';
import { parseOrThrow } from '@tactful/core';

/** Mailchimp API keys end in their data centre: `0123456789abcdef0123456789abcdef-us21`. */
const apiKey = z
  .string()
  .trim()
  .regex(
    /^[0-9a-f]{32}-[a-z]{2,4}\d{1,3}$/i,
    'an API key looks like 32 hex characters, a dash and the data centre (…-us21)',
  );

const mergeTag = z.string().regex(/^[A-Z][A-Z0-9_]{0,9}$/, 'a merge tag is at most 10 upper-case letters, digits or _');

export const mailchimpOptionsSchema = z
  .object({
    /** API key with its data-centre suffix. Give this or `accessToken` + `server`. */
    apiKey: apiKey.optional(),
    /** OAuth 2 access token (from Mailchimp's OAuth flow); needs `server`. */
    accessToken: z.string().min(1).optional(),
    /** Data centre (`us21`). Derived from the API key when omitted; required with an OAuth token. */
    server: z
      .string()
      .regex(/^[a-z]{2,4}\d{1,3}$/, 'a data centre looks like us21')
      .optional(),
    /** The audience (list) id. */
    audienceId: z.string().min(1, 'audienceId is required: Audience → Settings → Audience name and defaults'),
    /** Tactful purpose whose state drives the Mailchimp status. */
    statusPurpose: z.string().default('email_marketing'),
    /** Send `pending` (Mailchimp's confirmation email) unless the grant is at the `confirmed` level. */
    requireDoubleOptIn: z.boolean().default(false),
    /** GDPR fields: Tactful purpose → Mailchimp marketing_permission_id. */
    marketingPermissions: z.record(z.string(), z.string().min(1)).default({}),
    /** At most this many requests in flight (Mailchimp allows 10 simultaneous connections). */
    maxConnections: z.number().int().min(1).max(10).default(10),
    /**
     * Where the Marketing API answers, default `https://<server>.api.mailchimp.com/3.0`. Only for tests and
     * proxies: e.g. a sandbox served over loopback HTTP (`serveMailchimpSandbox`).
     */
    baseUrl: z
      .url({ protocol: /^https?$/, error: 'baseUrl must be an http(s) URL such as http://127.0.0.1:4010/3.0' })
      .refine(
        (v) => !/server/i.test(v),
        'baseUrl must not contain the word "server" (the Mailchimp SDK replaces it with the data centre)',
      )
      .optional(),
    /** Per-request timeout in milliseconds. */
    timeoutMs: z.number().int().min(100).max(300_000).default(30_000),
    retry: z
      .object({
        retries: z.number().int().min(0).max(10).default(4),
        baseDelayMs: z.number().int().min(0).default(500),
        maxDelayMs: z.number().int().min(0).default(30_000),
      })
      .default({ retries: 4, baseDelayMs: 500, maxDelayMs: 30_000 }),
    /** Customer Journey trigger mode for campaigns: each recipient is added to this journey step. */
    journey: z.object({ journeyId: z.number().int().positive(), stepId: z.number().int().positive() }).optional(),
    /** Merge tag prefix-free names used by campaigns; override only when they clash with existing fields. */
    mergeTags: z
      .object({
        reason: mergeTag.default('REASON'),
        consent: mergeTag.default('CONSENT'),
        prefsUrl: mergeTag.default('PREFS_URL'),
        /** Holds the keys of the last journey triggers, so a retry never sends twice (see triggerJourney). */
        journeyKey: mergeTag.default('TF_JOURNEY'),
      })
      .default({ reason: 'REASON', consent: 'CONSENT', prefsUrl: 'PREFS_URL', journeyKey: 'TF_JOURNEY' }),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (value.apiKey === undefined && value.accessToken === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiKey'],
        message: 'give apiKey (with its -usNN suffix) or accessToken + server',
      });
    }
    if (value.apiKey !== undefined && value.accessToken !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['accessToken'], message: 'give apiKey or accessToken, not both' });
    }
    if (value.accessToken !== undefined && value.server === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['server'],
        message: 'an OAuth token needs server (the dc from the OAuth metadata endpoint, e.g. us21)',
      });
    }
    if (value.apiKey !== undefined && value.server !== undefined && !value.apiKey.endsWith(`-${value.server}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['server'],
        message: `server ${value.server} does not match the API key's data centre`,
      });
    }
  });

export type MailchimpOptionsInput = z.input<typeof mailchimpOptionsSchema>;
export type MailchimpOptions = z.output<typeof mailchimpOptionsSchema> & { server: string };

/** Validates options, reporting every problem at once, and derives the data centre from the key. */
export function parseMailchimpOptions(input: unknown): MailchimpOptions {
  const parsed = parseOrThrow(mailchimpOptionsSchema, input, 'CONFIG.INVALID', 'Mailchimp options');
  const server = parsed.server ?? parsed.apiKey?.split('-').pop() ?? '';
  return { ...parsed, server };
}
