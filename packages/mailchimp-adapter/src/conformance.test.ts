import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { describeEmailProvider, type OracleMemberState } from '@tactful/core/testing';
import { createMailchimpProvider } from './index.js';
import { createMailchimpSandbox, loadSpecValidator } from './testing/index.js';

const server = setupServer();
// Parsing the 1.6 MB OpenAPI spec takes seconds on a busy machine: do it under the hook timeout, not a test's.
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
});
afterAll(() => server.close());

describeEmailProvider({
  name: 'mailchimp (sandbox)',
  create: async () => {
    const sandbox = createMailchimpSandbox({ audiences: [{ id: 'aud0000001' }] });
    server.use(...sandbox.handlers);
    const provider = createMailchimpProvider(
      { apiKey: sandbox.apiKey, audienceId: 'aud0000001', retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 } },
      { sleep: async () => {} },
    );
    return {
      provider,
      oracle: {
        async seedMember(email, state, options) {
          sandbox.seedMember(email, state, options?.at ? { at: options.at } : {});
        },
        async readMember(email) {
          const member = sandbox.member(email);
          if (!member) return null;
          const known: OracleMemberState[] = ['subscribed', 'pending', 'unsubscribed', 'cleaned'];
          return {
            email: member.email_address,
            state: known.includes(member.status as OracleMemberState) ? (member.status as OracleMemberState) : 'other',
          };
        },
        async injectFailure(kind) {
          sandbox.faults.failAlways(kind);
        },
        async clearFailures() {
          sandbox.faults.clear();
        },
        async campaignEmail(campaignId, email) {
          return sandbox.render(campaignId, email);
        },
        async campaignRecipients(campaignId) {
          const campaign = sandbox.state.campaigns.get(campaignId);
          const audience = sandbox.state.audiences.get('aud0000001');
          return (campaign?.sentTo ?? []).map((hash) => audience?.members.get(hash)?.email_address ?? hash);
        },
        async createJourney() {
          // The step's email is the campaign template, as the adapter's README tells the owner to design it.
          const { journeyId, stepId } = sandbox.journeys.create('Conformance journey');
          return { journeyId: String(journeyId), stepId: String(stepId) };
        },
        async journeyEmails(email) {
          return sandbox.journeys.emails(email).map((e) => e.html);
        },
      },
      cleanup: async () => server.resetHandlers(),
    };
  },
});
