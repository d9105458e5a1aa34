import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { subscriberHash } from '../subscriber-hash.js';
import { sandboxRoutes } from './routes/index.js';
import { createMailchimpFaultPlan, createMailchimpSandbox, renderMergeTags, loadSpecValidator } from './index.js';

const server = setupServer();
// Parsing the 1.6 MB OpenAPI spec takes seconds on a busy machine: do it under the hook timeout, not a test's.
beforeAll(() => {
  loadSpecValidator();
  server.listen({ onUnhandledRequest: 'error' });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const LIST = 'aud0000001';

function setup(options: Parameters<typeof createMailchimpSandbox>[0] = {}) {
  const delivered: Array<{ url: string; body: string }> = [];
  const sandbox = createMailchimpSandbox({
    audiences: [{ id: LIST }],
    deliver: async (url, init) => {
      if (init.method === 'POST') delivered.push({ url, body: init.body ?? '' });
      return { status: 200 };
    },
    ...options,
  });
  server.use(...sandbox.handlers);
  const auth = `Basic ${Buffer.from(`anystring:${sandbox.apiKey}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${sandbox.baseUrl}${path}`, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>) };
  };
  return { sandbox, call, delivered };
}

describe('Mailchimp sandbox', () => {
  it('keys members by the MD5 of the lower-cased address and keeps the address as given', async () => {
    const { call } = setup();
    const put = await call('PUT', `/lists/${LIST}/members/${subscriberHash('Ann@Example.com')}`, {
      email_address: 'Ann@Example.com',
      status_if_new: 'subscribed',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      id: subscriberHash('ann@example.com'),
      email_address: 'Ann@Example.com',
      status: 'subscribed',
    });
    expect((await call('GET', `/lists/${LIST}/members/${subscriberHash('ann@example.com')}`)).status).toBe(200);
    expect((await call('GET', `/lists/${LIST}/members/${subscriberHash('other@example.com')}`)).status).toBe(404);
  });

  it('refuses subscribed for an unsubscribed or cleaned member ("Member In Compliance State"), allows pending', async () => {
    const { sandbox, call } = setup();
    for (const held of ['unsubscribed', 'cleaned'] as const) {
      const email = `${held}@example.com`;
      sandbox.seedMember(email, held);
      const refused = await call('PATCH', `/lists/${LIST}/members/${subscriberHash(email)}`, { status: 'subscribed' });
      expect(refused.status).toBe(400);
      expect(refused.body?.title).toBe('Member In Compliance State');
      expect(sandbox.member(email)?.status).toBe(held);
      const batch = await call('POST', `/lists/${LIST}`, {
        members: [{ email_address: email, status: 'subscribed' }],
        update_existing: true,
      });
      expect(batch.body).toMatchObject({ error_count: 1, total_updated: 0 });
      expect(
        (await call('PATCH', `/lists/${LIST}/members/${subscriberHash(email)}`, { status: 'pending' })).status,
      ).toBe(200);
      expect(sandbox.member(email)?.status).toBe('pending');
    }
    expect(sandbox.state.audiences.get(LIST)?.confirmationEmails).toEqual([
      'unsubscribed@example.com',
      'cleaned@example.com',
    ]);
  });

  it('a member who unsubscribed may come back through their own confirmation', async () => {
    const { sandbox } = setup();
    sandbox.seedMember('back@example.com', 'unsubscribed');
    sandbox.actions.subscribe('back@example.com', { source: 'user' });
    expect(sandbox.member('back@example.com')?.status).toBe('subscribed');
    const doubleOptIn = setup({ audiences: [{ id: 'dbl0000001', doubleOptIn: true }] }).sandbox;
    doubleOptIn.actions.subscribe('new@example.com');
    expect(doubleOptIn.member('new@example.com')?.status).toBe('pending');
    doubleOptIn.actions.confirm('new@example.com');
    expect(doubleOptIn.member('new@example.com')?.status).toBe('subscribed');
  });

  it('batch: update_existing false reports existing members, more than 500 is refused, partial errors in a 200', async () => {
    const { sandbox, call } = setup();
    sandbox.seedMember('old@example.com', 'subscribed');
    const partial = await call('POST', `/lists/${LIST}`, {
      members: [
        { email_address: 'old@example.com', status: 'unsubscribed' },
        { email_address: 'new@example.com', status: 'subscribed' },
        { email_address: 'nope', status: 'subscribed' },
      ],
    });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({ total_created: 1, total_updated: 0, error_count: 2 });
    expect((partial.body?.errors as Array<{ error_code: string }>).map((e) => e.error_code)).toEqual([
      'ERROR_CONTACT_EXISTS',
      'ERROR_GENERIC',
    ]);
    expect(sandbox.member('old@example.com')?.status).toBe('subscribed');
    const tooMany = await call('POST', `/lists/${LIST}`, {
      members: Array.from({ length: 501 }, (_, i) => ({ email_address: `m${i}@example.com`, status: 'subscribed' })),
    });
    expect(tooMany.status).toBe(400);
    expect(sandbox.state.audiences.get(LIST)?.members.size).toBe(2);
  });

  it('a permanently deleted address cannot be re-imported through the API', async () => {
    const { sandbox, call } = setup();
    sandbox.seedMember('forget@example.com', 'subscribed');
    expect(
      (await call('POST', `/lists/${LIST}/members/${subscriberHash('forget@example.com')}/actions/delete-permanent`))
        .status,
    ).toBe(204);
    const again = await call('PUT', `/lists/${LIST}/members/${subscriberHash('forget@example.com')}`, {
      email_address: 'forget@example.com',
      status_if_new: 'subscribed',
    });
    expect(again.status).toBe(400);
    expect(again.body?.title).toBe('Forgotten Email Not Subscribed');
  });

  it('fires webhooks honouring events and sources, form-encoded like Mailchimp', async () => {
    const { sandbox, call, delivered } = setup();
    sandbox.addWebhook('https://hooks.example/all', { sources: { user: true, admin: true, api: true } });
    sandbox.addWebhook('https://hooks.example/no-api', {
      sources: { user: true, admin: true, api: false },
      events: { profile: false },
    });
    await call('POST', `/lists/${LIST}`, {
      members: [{ email_address: 'w@example.com', status: 'subscribed', merge_fields: { FNAME: 'Wen' } }],
    });
    sandbox.actions.updateProfile('w@example.com', { FNAME: 'Wendy' });
    sandbox.actions.unsubscribe('w@example.com', { reason: 'abuse' });
    await sandbox.flushWebhooks();
    const seen = delivered.map((d) => `${d.url.split('/').pop()}:${new URLSearchParams(d.body).get('type')}`);
    expect(seen).toEqual(['all:subscribe', 'all:profile', 'all:unsubscribe', 'no-api:unsubscribe']);
    const unsubscribe = new URLSearchParams(delivered[2]?.body ?? '');
    expect(unsubscribe.get('data[email]')).toBe('w@example.com');
    expect(unsubscribe.get('data[reason]')).toBe('abuse');
    expect(unsubscribe.get('data[merges][FNAME]')).toBe('Wendy');
    expect(unsubscribe.get('fired_at')).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('checks the webhook URL with a GET before saving it', async () => {
    const { call } = setup({ deliver: async () => ({ status: 404 }) });
    const created = await call('POST', `/lists/${LIST}/webhooks`, {
      url: 'https://hooks.example/x',
      events: { subscribe: true },
      sources: { user: true },
    });
    expect(created.status).toBe(400);
  });

  it('tags are static segments; adding a non-member is reported', async () => {
    const { sandbox, call } = setup();
    sandbox.seedMember('a@example.com', 'subscribed');
    const segment = await call('POST', `/lists/${LIST}/segments`, { name: 'vip', static_segment: [] });
    const added = await call('POST', `/lists/${LIST}/segments/${String(segment.body?.id)}`, {
      members_to_add: ['a@example.com', 'ghost@example.com'],
    });
    expect(added.body).toMatchObject({ total_added: 1, error_count: 1 });
    const member = await call('GET', `/lists/${LIST}/members/${subscriberHash('a@example.com')}`);
    expect(member.body?.tags).toEqual([{ id: segment.body?.id, name: 'vip' }]);
  });

  it('answers the account root, the audience list, single adds and archiving', async () => {
    const { sandbox, call } = setup();
    expect((await call('GET', '/')).body).toMatchObject({ account_name: 'Tactful Sandbox' });
    expect((await call('GET', '/lists')).body).toMatchObject({ total_items: 1, lists: [{ id: LIST }] });
    expect(
      (await call('POST', `/lists/${LIST}/members`, { email_address: 'one@example.com', status: 'subscribed' })).status,
    ).toBe(200);
    const again = await call('POST', `/lists/${LIST}/members`, {
      email_address: 'one@example.com',
      status: 'subscribed',
    });
    expect(again.body?.title).toBe('Member Exists');
    expect((await call('DELETE', `/lists/${LIST}/members/${subscriberHash('one@example.com')}`)).status).toBe(204);
    expect(sandbox.member('one@example.com')?.status).toBe('archived');
  });

  it('rejects a wrong API key and unknown endpoints', async () => {
    const { sandbox } = setup();
    const wrong = await fetch(`${sandbox.baseUrl}/ping`, {
      headers: { authorization: `Basic ${Buffer.from('x:bad-us21').toString('base64')}` },
    });
    expect(wrong.status).toBe(401);
    const { call } = setup();
    expect((await call('GET', '/automations')).status).toBe(404);
  });

  it("renders Mailchimp's merge language: values, IF/ELSE blocks, system tags, unknown tags left visible", () => {
    const html = renderMergeTags(
      '*|IF:P1_TITLE|*<b>*|P1_TITLE|*</b>*|ELSE:|*none*|END:IF|* *|IF:P2_TITLE|*x*|END:IF|* *|UNSUB|* *|NOPE|* *|FNAME|*',
      {
        merge: { P1_TITLE: 'Kettle', P2_TITLE: '', FNAME: '' },
        system: { UNSUB: 'https://u' },
      },
    );
    expect(html).toBe('<b>Kettle</b>  https://u *|NOPE|* ');
  });

  it('counts a call answered by a drawn fault under the same key as the same call answered normally', async () => {
    const { sandbox, call } = setup({
      faultPlan: createMailchimpFaultPlan({ seed: 1, rate: 1, kinds: ['rate_limit'] }),
    });
    expect((await call('GET', '/automations')).status).toBe(429);
    sandbox.faults.setPlan(null);
    expect((await call('GET', '/automations')).status).toBe(404);
    expect(sandbox.calls.all()).toEqual({ 'GET /automations': 2 });
    expect(sandbox.faults.answered).toEqual([{ kind: 'rate_limit', method: 'GET', template: '/automations' }]);
  });

  it('a member added one at a time (PUT, POST) fires subscribe and gets the confirmation email, as in a batch', async () => {
    const { sandbox, call, delivered } = setup();
    sandbox.addWebhook('https://hooks.example/all', { sources: { user: true, admin: true, api: true } });
    await call('PUT', `/lists/${LIST}/members/${subscriberHash('put@example.com')}`, {
      email_address: 'put@example.com',
      status_if_new: 'subscribed',
      merge_fields: { FNAME: 'Put' },
    });
    await call('POST', `/lists/${LIST}/members`, { email_address: 'post@example.com', status: 'subscribed' });
    await call('PUT', `/lists/${LIST}/members/${subscriberHash('wait@example.com')}`, {
      email_address: 'wait@example.com',
      status_if_new: 'pending',
    });
    await call('POST', `/lists/${LIST}`, {
      members: [{ email_address: 'batch@example.com', status: 'subscribed', merge_fields: { FNAME: 'Bat' } }],
    });
    await sandbox.flushWebhooks();
    const seen = delivered.map((d) => {
      const form = new URLSearchParams(d.body);
      return `${form.get('type')}:${form.get('data[email]')}`;
    });
    expect(seen).toEqual(['subscribe:put@example.com', 'subscribe:post@example.com', 'subscribe:batch@example.com']);
    expect(sandbox.state.audiences.get(LIST)?.confirmationEmails).toEqual(['wait@example.com']);
  });

  it('checks count and offset on every list endpoint, not only on members', async () => {
    const { call } = setup();
    for (const path of ['/lists', `/lists/${LIST}/members`, `/lists/${LIST}/segments`, '/campaigns']) {
      const bad = await call('GET', `${path}?count=ten`);
      expect([path, bad.status, bad.body?.title]).toEqual([path, 400, 'Invalid Resource']);
      expect((await call('GET', `${path}?offset=-1`)).status).toBe(400);
      expect((await call('GET', `${path}?count=5&offset=0`)).status).toBe(200);
    }
  });

  it('answers a path with a malformed percent-escape with a 404, like any unknown resource', async () => {
    const { sandbox } = setup();
    const response = await sandbox.fetch(`${sandbox.baseUrl}/lists/${LIST}/members/%E0%A4%A`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${sandbox.apiKey}`).toString('base64')}` },
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { title: string }).title).toBe('Resource Not Found');
  });

  it('refuses to change an address to one already on the audience, and keeps both members', () => {
    const { sandbox } = setup();
    sandbox.seedMember('first@example.com', 'subscribed');
    sandbox.seedMember('second@example.com', 'unsubscribed');
    expect(() => sandbox.actions.changeEmail('first@example.com', 'Second@example.com')).toThrow(/already/);
    expect(sandbox.member('first@example.com')?.status).toBe('subscribed');
    expect(sandbox.member('second@example.com')?.status).toBe('unsubscribed');
  });

  it('routes every endpoint under the template the OpenAPI spec gives it, for real paths too', () => {
    const spec = loadSpecValidator();
    for (const route of sandboxRoutes) {
      const real = route.path.replace(/\{[^}]+\}/g, (_, i: number) => `v${i}x`);
      expect([route.method, spec.match(route.method, route.path)?.template]).toEqual([route.method, route.path]);
      expect([route.method, spec.match(route.method, real)?.template]).toEqual([route.method, route.path]);
    }
  });
});
