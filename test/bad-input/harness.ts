/**
 * The whole app (createApp, as `tactful serve` builds it) with every door open: Shopify webhooks, Mailchimp
 * webhooks, the public pages and the admin. A clock the tests move (expired links), a demo mailbox (links of
 * the emails), and `snapshot()`: the row count of every table and the heads of both hash chains, so a test
 * shows that bad input changed NOTHING.
 */
import pino from 'pino';
import { createTactful, openStore, type Store, type Tactful } from '@tactful/core';
import { createApp, readServeConfig, startServer, type RunningServer } from '@tactful/app';
import { createMailchimpProvider } from '@tactful/mailchimp';
import {
  createMailchimpSandbox,
  serveMailchimpSandbox,
  type MailchimpSandbox,
  type MailchimpSandboxHost,
} from '@tactful/mailchimp/testing';
import { memoryMailbox } from '../../packages/app/src/server/mail.js';
import { rawStore } from '@tactful/core/testing/runtime';

export const ADMIN = 'bad-input-admin-token-0123456789abcdef';
export const SHOPIFY_SECRET = 'bad-input-shopify-secret';
export const MAILCHIMP_SECRET = 'bad-input-mailchimp-secret-0123456789abcdef';
export const SHOP = 'bad-input.myshopify.com';
export const AUDIENCE = 'badinput01';
export const auth = { authorization: `Bearer ${ADMIN}` };

/** Strings that try to become markup or SQL wherever they land. */
export const HOSTILE = [
  `"'><img src=x onerror=alert(1)><script>alert(2)</script>`,
  `'; drop table consent_ledger; --`,
  `' or '1'='1`,
  `x' union select email_enc, null from subjects --`,
  `</textarea><svg onload=alert(3)>`,
  `javascript:alert(4)`,
  `%27%3B%20drop%20table%20orders%3B--`,
  `\u0000\u202e${'a'.repeat(3)}`,
] as const;

export interface Harness {
  store: Store;
  tactful: Tactful;
  server: RunningServer;
  mailbox: ReturnType<typeof memoryMailbox>;
  /** The shop's Mailchimp audience (a sandbox on loopback), which the app reads to confirm webhooks. */
  mailchimp: MailchimpSandbox;
  /** Moves the clock of the engine (token expiry). */
  advance(ms: number): void;
  url(path: string): string;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  let offset = 0;
  const store = await openStore({ url: 'memory://' });
  const tactful = await createTactful({ store, shop: SHOP, now: () => new Date(Date.now() + offset) });
  const mailbox = memoryMailbox();
  const config = readServeConfig({
    TACTFUL_ADMIN_TOKEN: ADMIN,
    TACTFUL_DEMO: '1',
    TACTFUL_RATE_LIMIT: '100000',
    PUBLIC_URL: 'http://bad-input.test',
    SHOPIFY_API_SECRET: SHOPIFY_SECRET,
    MAILCHIMP_WEBHOOK_SECRET: MAILCHIMP_SECRET,
  });
  const mailchimp = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  const mailchimpHost: MailchimpSandboxHost = await serveMailchimpSandbox(mailchimp);
  const provider = createMailchimpProvider({
    apiKey: mailchimp.apiKey,
    audienceId: AUDIENCE,
    baseUrl: mailchimpHost.baseUrl,
  });
  const server = await startServer(
    createApp({ tactful, config, logger: pino({ level: 'silent' }), mailer: mailbox, provider }),
    { host: '127.0.0.1', port: 0 },
  );
  return {
    store,
    tactful,
    server,
    mailbox,
    mailchimp,
    advance: (ms) => void (offset += ms),
    url: (path) => `${server.url}${path}`,
    async close() {
      await server.close();
      await mailchimpHost.close();
      await store.close();
    },
  };
}

const TABLES = [
  'shops',
  'purposes',
  'purpose_versions',
  'subjects',
  'consent_ledger',
  'consent_state',
  'audit_log',
  'opt_in_tokens',
  'outbox',
  'pushed_consent',
  'suppression',
  'inbox',
  'kv',
  'products',
  'orders',
  'order_lines',
  'model_pairs',
  'model_products',
  'profiles',
  'segments',
  'contact_sends',
] as const;

/** Row counts of every table, the chains' heads and the shop's settings. */
export async function snapshot(store: Store): Promise<Record<string, unknown>> {
  const [counts] = await rawStore(store).query<Record<string, number>>(
    `select ${TABLES.map((t) => `(select count(*)::int from ${t}) as ${t}`).join(', ')}`,
  );
  const heads = await rawStore(store).query(
    'select shop_id, ledger_seq, ledger_head, audit_seq, audit_head, settings from shops order by shop_id',
  );
  return { ...counts, heads };
}

/** A page or answer that shows hostile text must show it as text, never as markup. */
export function expectInert(
  body: string,
  expect: (v: unknown) => { not: { toContain(s: string): void; toMatch(r: RegExp): void } },
): void {
  expect(body).not.toContain('<img src=x');
  expect(body).not.toContain('<script>alert');
  expect(body).not.toContain('<svg onload');
  expect(body).not.toMatch(/href="javascript:/i);
}

export function form(values: Record<string, string | string[]>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return body;
}
