import { expect, it } from 'vitest';
import { createTactful } from '../engine.js';
import { isTactfulError } from '../errors/tactful-error.js';
import { describeEachStore } from '../testing/harness.js';
import { uniqueShop } from '../testing/stores.js';
import { rawStore } from '../store/open.js';

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  return promise.then(
    () => null,
    (e: unknown) => (isTactfulError(e) ? e.code : String(e)),
  );
}

describeEachStore('double opt-in and one-click unsubscribe', (getStore) => {
  let clock = new Date('2026-03-01T09:00:00Z');
  const now = () => clock;
  const engine = () => createTactful({ store: getStore(), shop: uniqueShop(), now });

  it('requestOptIn - records pending for each purpose and stores only the token id', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const ticket = await t.consent.requestOptIn({
      email: 'bo@example.com',
      purposes: ['email_marketing', 'personalization'],
      evidence: { ip: '198.51.100.4', userAgent: 'Firefox' },
    });
    const view = await t.consent.show('bo@example.com');
    expect(view.purposes.map((p) => p.state)).toEqual(['pending', 'pending']);
    const stored = await rawStore(getStore()).query<{ token_id: string }>(
      'select token_id from opt_in_tokens where shop_id = $1',
      [t.shopId],
    );
    expect(stored).toEqual([{ token_id: ticket.tokenId }]);
    const raw = JSON.stringify(
      await rawStore(getStore()).query('select * from opt_in_tokens where shop_id = $1', [t.shopId]),
    );
    expect(raw).not.toContain(ticket.token.split('.')[1]);
  });

  it('confirmOptIn - grants at level confirmed with the confirmation evidence', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const ticket = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    clock = new Date('2026-03-01T10:00:00Z');
    await t.consent.confirmOptIn(ticket.token, { ip: '198.51.100.4', userAgent: 'Firefox' });
    const view = await t.consent.show('bo@example.com');
    expect(view.purposes[0]).toMatchObject({
      state: 'granted',
      level: 'confirmed',
      since: clock,
      source: { method: 'double_opt_in_confirmation' },
    });
    const history = await t.consent.history('bo@example.com');
    expect(history.events.at(-1)!.evidence).toMatchObject({ ip: '198.51.100.4', confirmationTokenId: ticket.tokenId });
  });

  it("requestOptIn - someone typing a confirmed subscriber's address into the form takes nothing away", async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const first = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    await t.consent.confirmOptIn(first.token);
    clock = new Date('2026-03-05T09:00:00Z');
    const again = await t.consent.requestOptIn({
      email: 'bo@example.com',
      purposes: ['email_marketing', 'personalization'],
    });
    expect(again.alreadyGranted).toEqual(['email_marketing']);
    const view = await t.consent.show('bo@example.com');
    expect(view.purposes.map((p) => [p.purpose, p.state, p.level])).toEqual([
      ['email_marketing', 'granted', 'confirmed'],
      ['personalization', 'pending', 'unknown'],
    ]);
  });

  it('confirmOptIn - a reused token is refused with CONSENT.TOKEN_USED and changes nothing', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const ticket = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    await t.consent.confirmOptIn(ticket.token);
    const before = (await t.consent.history('bo@example.com')).events.length;
    expect(await codeOf(t.consent.confirmOptIn(ticket.token))).toBe('CONSENT.TOKEN_USED');
    expect((await t.consent.history('bo@example.com')).events.length).toBe(before);
  });

  it('confirmOptIn - an expired token (default 48 h) is refused with CONSENT.TOKEN_EXPIRED', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const ticket = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    clock = new Date('2026-03-03T09:00:01Z');
    expect(await codeOf(t.consent.confirmOptIn(ticket.token))).toBe('CONSENT.TOKEN_EXPIRED');
    expect((await t.consent.show('bo@example.com')).purposes[0]!.state).toBe('pending');
  });

  it('confirmOptIn - a forged token (any changed byte, another shop, garbage) is refused with CONSENT.TOKEN_FORGED', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const other = await engine();
    const ticket = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    const [body, mac] = ticket.token.split('.') as [string, string];
    const flipped = `${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}.${mac}`;
    expect(await codeOf(t.consent.confirmOptIn(flipped))).toBe('CONSENT.TOKEN_FORGED');
    expect(await codeOf(t.consent.confirmOptIn(`${body}.${mac.slice(0, -2)}AA`))).toBe('CONSENT.TOKEN_FORGED');
    expect(await codeOf(t.consent.confirmOptIn('garbage'))).toBe('CONSENT.TOKEN_FORGED');
    expect(await codeOf(other.consent.confirmOptIn(ticket.token))).toBe('CONSENT.TOKEN_FORGED');
    expect((await t.consent.show('bo@example.com')).purposes[0]!.state).toBe('pending');
  });

  it('unsubscribe - one click withdraws, a second click records nothing new', async () => {
    clock = new Date('2026-03-01T09:00:00Z');
    const t = await engine();
    const ticket = await t.consent.requestOptIn({ email: 'bo@example.com', purposes: ['email_marketing'] });
    await t.consent.confirmOptIn(ticket.token);
    const token = await t.consent.unsubscribeToken('bo@example.com', 'email_marketing');
    clock = new Date('2026-03-02T09:00:00Z');
    expect(await t.consent.unsubscribe(token)).toMatchObject({ alreadyWithdrawn: false });
    const after = (await t.consent.history('bo@example.com')).events.length;
    clock = new Date('2026-03-02T09:00:05Z');
    expect(await t.consent.unsubscribe(token)).toMatchObject({ alreadyWithdrawn: true });
    expect((await t.consent.history('bo@example.com')).events.length).toBe(after);
    expect((await t.consent.show('bo@example.com')).purposes[0]!.state).toBe('withdrawn');
    expect(await codeOf(t.consent.unsubscribe(`${token}x`))).toBe('CONSENT.TOKEN_FORGED');
  });
});
