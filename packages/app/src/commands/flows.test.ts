import { setupServer } from 'msw/node';
import { createTactful, openStore } from '@tactful/core';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';

const { db, shop, env: storeEnv, secret, dir, remove } = commandTestStore('cli-flows');
const AUDIENCE = 'cliflows1';
const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
const server = setupServer(...sandbox.handlers);
const env = {
  MAILCHIMP_API_KEY: sandbox.apiKey,
  MAILCHIMP_AUDIENCE_ID: AUDIENCE,
  PUBLIC_URL: 'https://tactful.example.com',
};
const run = (args: string[], extra: Record<string, string> = env) =>
  runCaptured(['--db', db, '--shop', shop, ...args], { ...storeEnv, ...extra }, dir);
const day = (d: number) => new Date(Date.now() - d * 86_400_000);
const people = Array.from({ length: 4 }, (_, i) => `f${i}@example.com`);
const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  const store = await openStore({ url: db, secret });
  try {
    const t = await createTactful({ store, shop });
    await t.contact.setPolicy({ quietHours: null });
    await t.settings.update({
      sender: { name: 'Tea Co', email: 'hello@tea.example', postalAddress: '1 Leaf Lane, 9000 Ghent, BE' },
    });
    await t.consent.recordBatch(
      people.flatMap((email, i) =>
        ['email_marketing', 'personalization'].map((purpose) => ({
          subject: { email },
          purpose,
          state: 'granted',
          level: 'confirmed',
          occurredAt: day(40),
          source: { system: 'cli', eventId: `${purpose}-${i}`, method: 'form' },
        })),
      ),
    );
    await t.products.upsert(['tea', 'pot', 'cup', 'saucer'].map((id) => ({ id, title: `The ${id}`, available: true })));
    const baskets = [
      ...Array.from({ length: 8 }, () => ['tea', 'pot']),
      ...Array.from({ length: 8 }, () => ['cup', 'saucer']),
    ];
    await t.orders.ingest(
      baskets.map((lines, i) => ({
        id: `b${i}`,
        email: `buyer${i}@example.com`,
        createdAt: day(30),
        updatedAt: day(30),
        lines: lines.map((productId) => ({ productId, title: productId, quantity: 1 })),
      })),
      'shopify',
    );
  } finally {
    await store.close();
  }
  for (const email of people) sandbox.seedMember(email, 'subscribed');
});

afterAll(() => {
  server.close();
  remove();
});

describe('tactful flows', () => {
  it('bad flags are refused with what to type, and change nothing', async () => {
    const cases: Array<[string[], string]> = [
      [['flows', 'set', 'post-purchase', '--holdout', '60%'], 'from 0 to 50 %'],
      [['flows', 'set', 'post-purchase', '--window', '9-17'], 'e.g. 09:00-20:00'],
      [['flows', 'set', 'post-purchase', '--delay', 'seven'], 'whole number of days'],
      [['flows', 'set', 'post-purchase', '--enabled', 'maybe'], 'not on or off'],
      [['flows', 'set', 'post-purchase', '--journey', '12', '--waves'], 'not both'],
      [['flows', 'set', 'post-purchase'], 'Nothing to change'],
      [['flows', 'run', '--until', 'tomorrow'], 'not an ISO date'],
      [['flows', 'run', '--until', '2999-01-01'], 'in the future'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const core = await run(['flows', 'set', 'post-purchase', '--delay', '200', '--journey', '12']);
    expect(core.code).toBe(2);
    expect(core.stderr).toContain('FLOW.INVALID');
    expect(core.stderr).toContain('delayDays');
    expect(core.stderr).toContain('stepId');
    const unknown = await run(['flows', 'show', 'welcome']);
    expect(unknown.stderr).toContain('FLOW.NOT_FOUND');
    const shown = JSON.parse((await run(['flows', 'show', 'post-purchase', '--json'])).stdout);
    expect(shown).toMatchObject({ enabled: false, delayDays: 7, updatedAt: null });
  });

  it('set turns the flow on; paid orders schedule steps; run sends the due ones in a wave once; report shows them', async () => {
    const h = new Date().getUTCHours();
    const set = await run([
      'flows',
      'set',
      'post-purchase',
      '--enabled',
      'on',
      '--delay',
      '7',
      '--holdout',
      '0%',
      '--window',
      `${hh(h - 1)}-${hh(h + 3)}`,
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('Changed: enabled, window, holdoutShare.');
    const store = await openStore({ url: db, secret });
    try {
      const t = await createTactful({ store, shop });
      await t.orders.ingest(
        people.map((email, i) => ({
          id: `o${i}`,
          email,
          createdAt: day(7.01),
          updatedAt: day(7.01),
          totalPrice: '12.00',
          lines: [{ productId: i % 2 ? 'tea' : 'cup', title: 'x', quantity: 1 }],
        })),
        'shopify',
      );
    } finally {
      await store.close();
    }
    expect((await run(['flows', 'list'])).stdout).toMatch(/post-purchase\s+yes\s+7 d/);
    const first = await run(['flows', 'run', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ leased: 4, sent: 4, failed: [] });
    const campaigns = [...sandbox.state.campaigns.values()];
    expect(campaigns).toHaveLength(1);
    expect(campaigns[0]!.sentTo).toHaveLength(4);
    const again = await run(['flows', 'run', '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ leased: 0, sent: 0 });
    expect(sandbox.state.campaigns.size).toBe(1);
    const report = await run(['flows', 'report', 'post-purchase']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/people \(orders of the flow\)\s+4\s+0/);
    expect(report.stdout).toContain('Welch');
    const show = await run(['flows', 'show', 'post-purchase']);
    expect(show.stdout).toMatch(/sent\s+4/);
  });
});
