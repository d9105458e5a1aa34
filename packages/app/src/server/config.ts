import { formatZodIssues, parseMasterSecret, TactfulError } from '@tactful/core';
import { z } from 'zod';

const optionalText = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const flag = z
  .string()
  .trim()
  .toLowerCase()
  .optional()
  .transform((v, ctx) => {
    if (v === undefined || v === '') return false;
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a yes/no value: use 1 or 0` });
    return z.NEVER;
  });

const port = (fallback: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a port number (0-65535)` });
        return z.NEVER;
      }
      return n;
    });

const positiveInt = (fallback: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v) || n < 1 || n > max) {
        ctx.addIssue({ code: 'custom', message: `"${v}" must be a whole number from 1 to ${max}` });
        return z.NEVER;
      }
      return n;
    });

/**
 * The environment of `tactful serve`, validated in one pass: every problem is reported at once.
 * Shopify and Mailchimp are optional; when one of their variables is set, the ones it needs are required.
 */
export const serveConfig = z.object({
  PORT: port(3000),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  TACTFUL_DB: z
    .string()
    .trim()
    .min(1, 'set a folder (embedded PGlite), memory:// or a postgres:// URL')
    .default('.tactful/db'),
  TACTFUL_SHOP: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9][a-z0-9.-]{0,253}$/, 'must be a shop domain such as my-shop.myshopify.com')
    .default('demo.myshopify.com'),
  TACTFUL_SECRET: optionalText,
  TACTFUL_ADMIN_TOKEN: z
    .string({ error: 'is required: the token that opens the admin dashboard (at least 24 random characters)' })
    .trim()
    .min(24, 'must be at least 24 characters: generate one with `openssl rand -hex 24`'),
  PUBLIC_URL: optionalText.pipe(
    z
      .url({
        protocol: /^https?$/,
        error: 'must be the http(s) URL customers reach the app at, e.g. https://tactful.example.com',
      })
      .optional(),
  ),
  /** Demo mode: emails are kept in an inbox page (/demo/mail) instead of being sent. */
  TACTFUL_DEMO: flag,
  /** Requests per minute per client on the public pages. */
  TACTFUL_RATE_LIMIT: positiveInt(60, 100_000),
  /** Number of proxies in front of the app (Express `trust proxy`), so rate limits see the client. */
  TACTFUL_TRUST_PROXY: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return 0;
      if (!/^\d{1,2}$/.test(v)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${v}" must be the number of proxies in front of the app (0 when none)`,
        });
        return z.NEVER;
      }
      return Number(v);
    }),
  /** Where the app's own emails (confirmation, preference link, welcome) go outside demo mode. */
  TACTFUL_SMTP_URL: optionalText.pipe(
    z
      .url({
        protocol: /^smtps?$/,
        error: 'must be an smtp:// (STARTTLS) or smtps:// (TLS) URL, e.g. smtp://user:password@mail.example.com:587',
      })
      .optional(),
  ),
  /** The From of those emails: `shop@example.com` or `Shop name <shop@example.com>`. */
  TACTFUL_MAIL_FROM: optionalText.pipe(
    z
      .string()
      .regex(
        /^(?:[^<>\r\n]{1,200} <[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/,
        'must be an address, or a name and an address: Shop name <shop@example.com>',
      )
      .optional(),
  ),
  SHOPIFY_API_KEY: optionalText,
  SHOPIFY_API_SECRET: optionalText,
  SHOPIFY_SCOPES: optionalText,
  MAILCHIMP_WEBHOOK_SECRET: optionalText.pipe(
    z.string().min(32, 'must be at least 32 random characters (it is part of the webhook URL)').optional(),
  ),
});

/** 127.0.0.0/8, ::1 or localhost: reachable from this machine only. */
function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Rules across variables, checked on the raw environment so they are reported together with the problems of
 * single variables (zod skips refinements of an object whose fields failed).
 */
function crossChecks(env: Record<string, string | undefined>): string[] {
  const v = (k: string) => {
    const x = env[k]?.trim();
    return x === undefined || x === '' ? undefined : x;
  };
  const problems: string[] = [];
  const db = v('TACTFUL_DB') ?? '.tactful/db';
  const secret = v('TACTFUL_SECRET');
  if (secret !== undefined) {
    try {
      parseMasterSecret(secret);
    } catch {
      problems.push('TACTFUL_SECRET: must be 32 random bytes as 64 hex characters or base64 (openssl rand -hex 32)');
    }
  } else if (/^postgres(ql)?:\/\//i.test(db)) {
    problems.push(
      'TACTFUL_SECRET: is required with a PostgreSQL database (64 hex characters; it unlocks every shop key)',
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db) && !/^(postgres(ql)?:\/\/|memory:\/\/$)/i.test(db)) {
    problems.push('TACTFUL_DB: unknown URL scheme: use a folder path, memory:// or postgres://');
  }
  if (v('TACTFUL_SMTP_URL') !== undefined && v('TACTFUL_MAIL_FROM') === undefined)
    problems.push(
      'TACTFUL_MAIL_FROM: is required with TACTFUL_SMTP_URL: the From of the emails, e.g. Shop name <shop@example.com>',
    );
  if (v('TACTFUL_MAIL_FROM') !== undefined && v('TACTFUL_SMTP_URL') === undefined)
    problems.push('TACTFUL_SMTP_URL: is required with TACTFUL_MAIL_FROM: the SMTP server that sends the emails');
  if (['1', 'true', 'yes', 'on'].includes(v('TACTFUL_DEMO')?.toLowerCase() ?? '')) {
    // The demo inbox (/demo/mail) shows every customer's confirmation and preference links without sign-in:
    // demo mode runs only on this machine, on an embedded database, never as a shop's public server.
    const exposed = [
      v('PUBLIC_URL')?.toLowerCase().startsWith('https:') ? `an https PUBLIC_URL (${v('PUBLIC_URL')})` : '',
      isLoopback(v('HOST') ?? '127.0.0.1') ? '' : `HOST ${v('HOST')} (not loopback)`,
      /^postgres(ql)?:\/\//i.test(db) ? 'a PostgreSQL database' : '',
    ].filter(Boolean);
    if (exposed.length > 0)
      problems.push(
        "TACTFUL_DEMO: demo mode shows every customer's emails at /demo/mail without sign-in, so it runs only " +
          `on this machine — not with ${exposed.join(', ')}: unset TACTFUL_DEMO for a real shop, ` +
          'or use HOST=127.0.0.1, an http PUBLIC_URL and an embedded database',
      );
  }
  if (v('SHOPIFY_API_KEY') !== undefined) {
    if (v('SHOPIFY_API_SECRET') === undefined)
      problems.push("SHOPIFY_API_SECRET: is required when SHOPIFY_API_KEY is set (the app's client secret)");
    if (v('SHOPIFY_SCOPES') === undefined)
      problems.push(
        'SHOPIFY_SCOPES: is required when SHOPIFY_API_KEY is set, e.g. read_customers,write_customers,read_orders,read_products',
      );
    if (v('PUBLIC_URL') === undefined)
      problems.push('PUBLIC_URL: is required for the Shopify install: the https URL set as the App URL');
  }
  return problems;
}

export type ServeConfig = z.output<typeof serveConfig> & { PUBLIC_URL: string };

/** Reads the configuration from `env`; throws CONFIG.INVALID naming every problem at once. */
export function readServeConfig(env: Record<string, string | undefined>): ServeConfig {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(serveConfig.shape)) input[key] = env[key];
  const parsed = serveConfig.safeParse(input);
  const problems = [...(parsed.success ? [] : formatZodIssues(parsed.error)), ...crossChecks(input)];
  if (!parsed.success || problems.length > 0) {
    throw new TactfulError(
      'CONFIG.INVALID',
      `The configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
      {
        details: problems,
      },
    );
  }
  const c = parsed.data!;
  const publicUrl = (c.PUBLIC_URL ?? `http://${c.HOST.includes(':') ? `[${c.HOST}]` : c.HOST}:${c.PORT}`).replace(
    /\/+$/,
    '',
  );
  return { ...c, PUBLIC_URL: publicUrl };
}

/**
 * The environment of `tactful sync`: the store as for `serve`, and the credentials of the systems synced.
 * Shopify needs the shop's Admin API access token: SHOPIFY_ACCESS_TOKEN, or the offline session stored when
 * the app was installed (checked once the store is open). Every problem is reported at once.
 */
export const syncConfig = z.object({
  TACTFUL_DB: serveConfig.shape.TACTFUL_DB,
  TACTFUL_SHOP: serveConfig.shape.TACTFUL_SHOP,
  TACTFUL_SECRET: optionalText,
  /** The shop's Admin API access token (`shpat_…`), when not taken from the stored install session. */
  SHOPIFY_ACCESS_TOKEN: optionalText,
  /** Mailchimp API key with its data-centre suffix (`…-us21`). */
  MAILCHIMP_API_KEY: optionalText.pipe(
    z
      .string()
      .regex(
        /^[0-9a-f]{32}-[a-z]{2,4}\d{1,3}$/i,
        'must be a Mailchimp API key: 32 hex characters, a dash and the data centre (…-us21)',
      )
      .optional(),
  ),
  /** The Mailchimp audience (list) id. */
  MAILCHIMP_AUDIENCE_ID: optionalText.pipe(
    z
      .string()
      .regex(/^[a-z0-9]{1,40}$/i, 'must be the audience id (Audience → Settings → Audience name and defaults)')
      .optional(),
  ),
});

export type SyncConfig = z.output<typeof syncConfig>;

/** Reads the configuration of a sync of `systems`; throws CONFIG.INVALID naming every problem at once. */
export function readSyncConfig(
  env: Record<string, string | undefined>,
  systems: { shopify: boolean; mailchimp: boolean },
): SyncConfig {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(syncConfig.shape)) input[key] = env[key];
  const parsed = syncConfig.safeParse(input);
  const problems = [...(parsed.success ? [] : formatZodIssues(parsed.error)), ...crossChecks(input)];
  const blank = (k: string) => (input[k]?.trim() ?? '') === '';
  if (
    systems.shopify &&
    !/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test((input.TACTFUL_SHOP ?? 'demo.myshopify.com').trim().toLowerCase())
  ) {
    problems.push("TACTFUL_SHOP: Shopify needs the shop's permanent domain, e.g. my-shop.myshopify.com (or --shop)");
  }
  if (systems.mailchimp) {
    if (blank('MAILCHIMP_API_KEY'))
      problems.push(
        'MAILCHIMP_API_KEY: is required to sync Mailchimp (Account → Extras → API keys; it ends in the data centre, e.g. -us21)',
      );
    if (blank('MAILCHIMP_AUDIENCE_ID'))
      problems.push(
        'MAILCHIMP_AUDIENCE_ID: is required to sync Mailchimp (Audience → Settings → Audience name and defaults)',
      );
  }
  if (!parsed.success || problems.length > 0) {
    throw new TactfulError(
      'CONFIG.INVALID',
      `The configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
      {
        details: problems,
      },
    );
  }
  return parsed.data!;
}
