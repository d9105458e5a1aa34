/**
 * The same conformance suite against a real Mailchimp audience. Skipped unless MAILCHIMP_TEST_API_KEY and
 * MAILCHIMP_TEST_AUDIENCE_ID name a throwaway audience, and MAILCHIMP_TEST_EMAIL_DOMAIN a domain whose
 * addresses Mailchimp accepts (it refuses example.com). It writes and deletes members; it sends nothing.
 */
import { createHash } from 'node:crypto';
import { describe, it } from 'vitest';
import { describeEmailProvider, type OracleMemberState } from '@tactful/core/testing';
import { createMailchimpProvider } from './index.js';

const apiKey = process.env.MAILCHIMP_TEST_API_KEY;
const audienceId = process.env.MAILCHIMP_TEST_AUDIENCE_ID;
const domain = process.env.MAILCHIMP_TEST_EMAIL_DOMAIN;

if (apiKey && audienceId && domain) {
  const server = apiKey.split('-').pop() ?? '';
  const base = `https://${server}.api.mailchimp.com/3.0/lists/${audienceId}`;
  const headers = {
    authorization: `Basic ${Buffer.from(`tactful:${apiKey}`).toString('base64')}`,
    'content-type': 'application/json',
  };
  const hash = (email: string) => createHash('md5').update(email.trim().toLowerCase()).digest('hex');
  const created = new Set<string>();

  describeEmailProvider({
    name: 'mailchimp (live account)',
    email: (local) => `tactful-${local}@${domain}`,
    skip: {
      // A live account cannot be made to fail on request, and campaigns would really be sent.
      'rate limiting is a retryable TactfulError': true,
      'server errors are a retryable TactfulError': true,
      'a bad request is a non-retryable TactfulError': true,
      'sendCampaign sends only to subscribed recipients, once per key': true,
      'campaignReport counts the sends': true,
      // Mailchimp sets last_changed itself; a seeded member cannot be back-dated.
      'listMembers keeps original event times': true,
      // The API cannot create a Customer Journey (only trigger one made in the builder), and a trigger really sends.
      'triggerJourney sends a subscribed member one email with every line of the content': true,
      'triggerJourney refuses an unsubscribed or unknown member and subscribes nobody': true,
      'triggerJourney sends once per key': true,
    },
    create: async () => ({
      provider: createMailchimpProvider({ apiKey, audienceId }),
      oracle: {
        async seedMember(email, state) {
          created.add(email.toLowerCase());
          const response = await fetch(`${base}/members/${hash(email)}`, {
            method: 'PUT',
            headers,
            body: JSON.stringify({ email_address: email, status_if_new: state, status: state }),
          });
          if (!response.ok)
            throw new Error(`seeding ${email} as ${state} failed: ${response.status} ${await response.text()}`);
        },
        async readMember(email) {
          const response = await fetch(`${base}/members/${hash(email)}`, { headers });
          if (response.status === 404) return null;
          const member = (await response.json()) as { email_address: string; status: string };
          const known: OracleMemberState[] = ['subscribed', 'pending', 'unsubscribed', 'cleaned'];
          return {
            email: member.email_address,
            state: known.includes(member.status as OracleMemberState) ? (member.status as OracleMemberState) : 'other',
          };
        },
        async injectFailure() {
          throw new Error('not possible against a live account');
        },
        async clearFailures() {},
      },
      cleanup: async () => {
        // Everything the suite created, through the oracle or the provider, carries the tactful- prefix.
        for (let offset = 0; ; offset += 1000) {
          const response = await fetch(
            `${base}/members?count=1000&offset=${offset}&fields=members.email_address,total_items`,
            { headers },
          );
          const page = (await response.json()) as { members: Array<{ email_address: string }>; total_items: number };
          for (const m of page.members)
            if (
              m.email_address.toLowerCase().startsWith('tactful-') &&
              m.email_address.toLowerCase().endsWith(`@${domain.toLowerCase()}`)
            )
              created.add(m.email_address.toLowerCase());
          if (offset + 1000 >= page.total_items) break;
        }
        for (const email of created)
          await fetch(`${base}/members/${hash(email)}/actions/delete-permanent`, { method: 'POST', headers });
        created.clear();
      },
    }),
  });
} else {
  describe('mailchimp (live account)', () => {
    it.skip('needs MAILCHIMP_TEST_API_KEY, MAILCHIMP_TEST_AUDIENCE_ID and MAILCHIMP_TEST_EMAIL_DOMAIN', () => {});
  });
}
