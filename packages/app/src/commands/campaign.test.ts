import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { createTactful, openStore } from '@tactful/core';
import { createMailchimpSandbox } from '@tactful/mailchimp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';

const { db, shop, env: storeEnv, secret, dir, remove } = commandTestStore('cli-campaign');
const AUDIENCE = 'cliaudience1';
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
const people = Array.from({ length: 6 }, (_, i) => `p${i}@example.com`);

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'error' });
  const store = await openStore({ url: db, secret });
  try {
    const t = await createTactful({ store, shop });
    await t.contact.setPolicy({ quietHours: null });
    const events = people.flatMap((email, i) =>
      ['email_marketing', 'personalization'].map((purpose) => ({
        subject: { email },
        purpose,
        state: 'granted',
        level: 'confirmed',
        occurredAt: day(40),
        source: { system: 'cli', eventId: `${purpose}-${i}`, method: 'form' },
      })),
    );
    await t.consent.recordBatch(events);
    await t.products.upsert(['tea', 'pot', 'cup', 'saucer'].map((id) => ({ id, title: `The ${id}`, available: true })));
    const baskets = [
      ...Array.from({ length: 8 }, () => ['tea', 'pot']),
      ...Array.from({ length: 8 }, () => ['cup', 'saucer']),
    ];
    await t.orders.ingest(
      [
        ...baskets.map((lines, i) => ({
          id: `b${i}`,
          email: `buyer${i}@example.com`,
          createdAt: day(30),
          updatedAt: day(30),
          lines: lines.map((productId) => ({ productId, title: productId, quantity: 1 })),
        })),
        ...people.map((email, i) => ({
          id: `o${i}`,
          email,
          createdAt: day(20),
          updatedAt: day(20),
          lines: [{ productId: i % 2 ? 'tea' : 'cup', title: 'x', quantity: 1 }],
        })),
      ],
      'shopify',
    );
  } finally {
    await store.close();
  }
  for (const email of people) sandbox.seedMember(email, email === 'p5@example.com' ? 'unsubscribed' : 'subscribed');
});

afterAll(() => {
  server.close();
  remove();
});

describe('tactful campaign and settings', () => {
  it('preview works without a sender (with a warning) and prints who would get it and the emails', async () => {
    const r = await run(['campaign', 'preview', '--name', 'spring', '--show', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('warning: No sender identity is set');
    expect(r.stdout).toMatch(/would get it now\s+6/);
    expect(r.stdout).toContain('--- to p');
    expect(r.stdout).toMatch(/Because you bought The (tea|cup)\./);
    expect(r.stdout).toContain('https://tactful.example.com/preferences?token=');
  });

  it('send needs a sender, a public URL and Mailchimp; each refusal says what to set and sends nothing', async () => {
    const noSender = await run(['campaign', 'send', '--name', 'spring']);
    expect(noSender.code).toBe(1);
    expect(noSender.stderr).toContain('CAMPAIGN.NO_SENDER');
    const noUrl = await run(['campaign', 'send', '--name', 'spring'], {
      MAILCHIMP_API_KEY: sandbox.apiKey,
      MAILCHIMP_AUDIENCE_ID: AUDIENCE,
    });
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('PUBLIC_URL');
    const noMailchimp = await run(['campaign', 'send', '--name', 'spring'], {
      PUBLIC_URL: 'https://tactful.example.com',
    });
    expect(noMailchimp.code).toBe(2);
    expect(noMailchimp.stderr).toContain('MAILCHIMP_API_KEY');
    expect(sandbox.state.campaigns.size).toBe(0);
  });

  it('settings set: bad input is refused and changes nothing; a full sender is saved', async () => {
    expect((await run(['settings', 'set'])).code).toBe(2);
    const bad = await run([
      'settings',
      'set',
      '--sender-name',
      'Tea Co',
      '--sender-email',
      'not-an-email',
      '--sender-address',
      '1 Leaf Lane, Ghent',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not an email address');
    expect((await run(['settings', 'set', '--double-opt-in', 'maybe'])).code).toBe(2);
    expect((await run(['settings', 'show', '--json'])).stdout).not.toContain('Tea Co');
    const ok = await run([
      'settings',
      'set',
      '--sender-name',
      'Tea Co',
      '--sender-email',
      'hello@tea.example',
      '--sender-address',
      '1 Leaf Lane, 9000 Ghent, BE',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await run(['settings', 'show'])).stdout).toContain('Tea Co <hello@tea.example>');
  });

  it('send goes through Mailchimp once; the one unsubscribed there is reported; a re-run sends nothing; report shows it', async () => {
    const bad = await run(['campaign', 'send', '--name', 'has spaces']);
    expect(bad.code).toBe(2);
    const first = await run(['campaign', 'send', '--name', 'spring', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const result = JSON.parse(first.stdout);
    expect(result).toMatchObject({ sent: 5, failed: [{ email: 'p5@example.com', code: 'MAILCHIMP.NOT_SUBSCRIBED' }] });
    const campaigns = [...sandbox.state.campaigns.values()];
    expect(campaigns.filter((c) => c.status === 'sent')).toHaveLength(1);
    const again = await run(['campaign', 'send', '--name', 'spring']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already got it \(earlier run\)\s+5/);
    expect([...sandbox.state.campaigns.values()].filter((c) => c.status === 'sent')).toHaveLength(1);
    sandbox.actions.open(campaigns[0]!.id, 'p0@example.com');
    const report = await run(['campaign', 'report', '--refresh']);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/spring\s+5\s+1\s+0\s+0/);
  });

  it('a segment that does not exist or a broken segment file is an input error', async () => {
    expect((await run(['campaign', 'preview', '--name', 'x', '--segment', 'nope'])).code).toBe(2);
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    expect((await run(['campaign', 'preview', '--name', 'x', '--segment-file', 'broken.json'])).code).toBe(2);
    expect((await run(['campaign', 'preview', '--name', 'x', '--at', 'yesterday'])).code).toBe(2);
  });
});
