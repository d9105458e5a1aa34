/**
 * The account behind an API key, before any audience is chosen: what the admin's "Connect Mailchimp" form asks
 * (is the key good, which audiences does it reach). The key's format is checked first; a wrong key is refused
 * with Mailchimp's own reason (MAILCHIMP.UNAUTHORIZED).
 */
import { createMailchimpClient } from './client.js';
import { parseMailchimpOptions } from './options.js';

export interface MailchimpAudience {
  id: string;
  name: string;
  members: number;
  doubleOptIn: boolean;
  /** The audience carries a postal address (Mailchimp sends no campaign without one). */
  hasPostalAddress: boolean;
}

export interface MailchimpAccount {
  /** The data centre of the key (`us21`). */
  readonly server: string;
  /** Resolves when Mailchimp accepts the key (GET /ping); rejects with Mailchimp's reason otherwise. */
  ping(): Promise<void>;
  /** Every audience the key reaches, in Mailchimp's order. */
  audiences(): Promise<MailchimpAudience[]>;
}

export interface MailchimpAccountOptions {
  apiKey: string;
  /** Only for tests and proxies (a sandbox on loopback HTTP). */
  baseUrl?: string | undefined;
  /** Per request; default 10 s (a person waits on the answer). */
  timeoutMs?: number | undefined;
}

export function mailchimpAccount(input: MailchimpAccountOptions): MailchimpAccount {
  // The provider's own validation: the same message for a malformed key; the audience is not known yet.
  const options = parseMailchimpOptions({
    apiKey: input.apiKey,
    audienceId: 'none-yet',
    ...(input.baseUrl !== undefined ? { baseUrl: input.baseUrl } : {}),
  });
  const client = createMailchimpClient({
    apiKey: options.apiKey,
    server: options.server,
    baseUrl: options.baseUrl,
    maxConnections: 2,
    timeoutMs: input.timeoutMs ?? 10_000,
    retry: { retries: 1, baseDelayMs: 200, maxDelayMs: 1_000 },
  });
  return {
    server: options.server,
    ping: async () => {
      await client.ping();
    },
    async audiences() {
      const out: MailchimpAudience[] = [];
      for (let offset = 0; ; offset += 100) {
        const page = await client.listLists({ count: 100, offset });
        for (const list of page.lists)
          out.push({
            id: list.id,
            name: list.name,
            members: list.stats?.member_count ?? 0,
            doubleOptIn: list.double_optin ?? false,
            hasPostalAddress: Boolean(list.contact?.address1),
          });
        if (page.lists.length === 0 || offset + page.lists.length >= page.total_items || offset >= 900) break;
      }
      return out;
    },
  };
}
