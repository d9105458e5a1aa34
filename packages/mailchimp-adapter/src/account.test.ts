import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { isTactfulError } from '@tactful/core';
import { mailchimpAccount } from './index.js';
import { createMailchimpSandbox } from './testing/index.js';

const sandbox = createMailchimpSandbox({
  audiences: [
    { id: 'aud0000001', name: 'Shop customers', doubleOptIn: true },
    { id: 'aud0000002', name: 'No address yet', contact: null },
  ],
});
const server = setupServer(...sandbox.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

describe('mailchimpAccount', () => {
  it('a good key pings and lists every audience it reaches, with what the checklist needs', async () => {
    const account = mailchimpAccount({ apiKey: sandbox.apiKey });
    expect(account.server).toBe(sandbox.dc);
    await account.ping();
    expect(await account.audiences()).toEqual([
      { id: 'aud0000001', name: 'Shop customers', members: 0, doubleOptIn: true, hasPostalAddress: true },
      { id: 'aud0000002', name: 'No address yet', members: 0, doubleOptIn: false, hasPostalAddress: false },
    ]);
  });

  it("a wrong key is refused with Mailchimp's own reason; a malformed one before any call", async () => {
    const calls = sandbox.calls.total();
    const refused = await mailchimpAccount({ apiKey: `${'f'.repeat(32)}-${sandbox.dc}` })
      .ping()
      .catch((e: unknown) => e);
    expect(isTactfulError(refused) && refused.code).toBe('MAILCHIMP.UNAUTHORIZED');
    expect((refused as Error).message).toContain('API Key Invalid');
    const malformed = (() => {
      try {
        return mailchimpAccount({ apiKey: 'not-a-key' });
      } catch (e) {
        return e;
      }
    })();
    expect(isTactfulError(malformed) && malformed.code).toBe('CONFIG.INVALID');
    expect((malformed as Error).message).toContain('an API key looks like 32 hex characters');
    expect(sandbox.calls.total()).toBe(calls + 1);
  });
});
