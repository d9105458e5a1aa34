import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { createMailchimpProvider } from './index.js';
import { createMailchimpSandbox } from './testing/index.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const AUDIENCE = 'aud0000001';

function setup() {
  const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
  server.use(...sandbox.handlers);
  const provider = createMailchimpProvider(
    { apiKey: sandbox.apiKey, audienceId: AUDIENCE, retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5 } },
    { sleep: async () => {} },
  );
  return { sandbox, provider };
}

describe('a change without consent: merge fields of a member only (a customer corrects their name)', () => {
  it('updates FNAME/LNAME of a member and leaves the status alone', async () => {
    const { sandbox, provider } = setup();
    sandbox.seedMember('ann@example.com', 'unsubscribed', { mergeFields: { FNAME: 'Anne', LNAME: 'Smth' } });
    const [result] = await provider.pushMembers([
      { email: 'Ann@Example.com', mergeFields: { FNAME: 'Ann', LNAME: 'Smith' } },
    ]);
    expect(result).toEqual({ email: 'ann@example.com', ok: true });
    expect(sandbox.member('ann@example.com')).toMatchObject({
      status: 'unsubscribed',
      merge_fields: { FNAME: 'Ann', LNAME: 'Smith' },
    });
    expect((await provider.getMember('ann@example.com'))?.mergeFields).toMatchObject({ FNAME: 'Ann', LNAME: 'Smith' });
  });

  it('never adds someone the audience does not hold', async () => {
    const { sandbox, provider } = setup();
    const [result] = await provider.pushMembers([{ email: 'ghost@example.com', mergeFields: { FNAME: 'G' } }]);
    expect(result).toEqual({ email: 'ghost@example.com', ok: true });
    expect(sandbox.member('ghost@example.com')).toBeUndefined();
  });
});
