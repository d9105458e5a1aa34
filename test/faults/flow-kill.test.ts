/**
 * A flow runner SIGKILLed mid-run (a child process sending due steps through the Mailchimp adapter to the
 * sandbox on loopback), then a second runner after the lease: every step ends sent, held out or skipped, and
 * nobody gets a flow email twice for one order, nor one without both consents.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createTactful, openStore } from '@tactful/core';
import { rawStore, storeTargets, uniqueShop } from '@tactful/core/testing';
import { createMailchimpSandbox, serveMailchimpSandbox } from '@tactful/mailchimp/testing';
import { bothConsentsGranted, teaAndCoffeeHistory } from '../support/flow-shop.js';
import { scriptCommand } from '../support/scripts.js';
import { flowViolations } from './flow-oracle.js';
import type { FlowRunnerConfig } from './flow-runner.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const AUDIENCE = 'flowkill01';
const dir = mkdtempSync(join(tmpdir(), 'tactful-flow-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the child until it exits, or until `killWhen` says so (then SIGKILL). */
function runChild(config: FlowRunnerConfig, killWhen?: () => boolean): Promise<{ killed: boolean; stderr: string }> {
  const child = spawn(process.execPath, scriptCommand('test/faults/flow-runner.ts'), {
    cwd: repoRoot,
    env: { ...process.env, TACTFUL_FLOW_RUNNER: JSON.stringify(config), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let killed = false;
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
  const timer = killWhen
    ? setInterval(() => {
        if (!killed && killWhen()) {
          killed = true;
          child.kill('SIGKILL');
        }
      }, 5)
    : undefined;
  return new Promise((resolve) =>
    child.once('exit', () => {
      if (timer) clearInterval(timer);
      resolve({ killed, stderr });
    }),
  );
}

describe('fault suite: a flow runner killed mid-run', () => {
  it('SIGKILL while sending: the next runner finishes, nobody gets a step twice or without consent', async () => {
    const pgTarget = storeTargets().find((t) => t.name === 'postgres' && !t.unavailable);
    const db = pgTarget ? pgTarget.url : join(dir, 'db');
    const secret = pgTarget?.secret ?? '7'.repeat(64);
    const shop = uniqueShop('flowkill');
    const t0 = new Date('2026-05-04T12:00:00Z');
    const people = Array.from({ length: 12 }, (_, i) => `k${i}@example.com`);
    const withdrawn = people[5]!; // withdraws before the steps are due: must get nothing
    const sandbox = createMailchimpSandbox({ audiences: [{ id: AUDIENCE }] });
    for (const email of people) sandbox.seedMember(email, 'subscribed');
    const host = await serveMailchimpSandbox(sandbox);
    try {
      const store = await openStore({ url: db, secret });
      try {
        let now = t0;
        const t = await createTactful({ store, shop, now: () => now });
        await t.contact.setPolicy({ quietHours: null });
        await t.settings.update({
          sender: { name: 'Kill Co', email: 'hi@kill.example', postalAddress: '1 Road, Town' },
        });
        await t.products.upsert(
          ['tea', 'kettle', 'honey', 'cups', 'coffee', 'grinder'].map((id) => ({ id, title: id, available: true })),
        );
        await t.consent.recordBatch(bothConsentsGranted(people, new Date(t0.getTime() - 40 * 86_400_000)));
        await t.orders.ingest(teaAndCoffeeHistory(new Date(t0.getTime() - 30 * 86_400_000)), 'shopify');
        await t.flows.set('post-purchase', { enabled: true, holdoutShare: 0.2 });
        await t.orders.ingest(
          people.map((email, i) => ({
            id: `o${i}`,
            email,
            createdAt: t0,
            updatedAt: t0,
            lines: [{ productId: i % 2 ? 'tea' : 'coffee', title: 'x', quantity: 1 }],
          })),
          'shopify',
        );
        now = new Date(t0.getTime() + 3 * 86_400_000);
        await t.consent.record({
          subject: { email: withdrawn },
          purpose: 'email_marketing',
          state: 'withdrawn',
          level: 'unknown',
          occurredAt: now,
          source: { system: 'shopify', eventId: 'withdraw-5', method: 'form' },
        });
      } finally {
        await store.close();
      }
      const base = {
        db,
        secret,
        shop,
        mailchimp: { baseUrl: host.baseUrl, apiKey: sandbox.apiKey, audienceId: AUDIENCE },
      };
      const due = new Date(t0.getTime() + 7 * 86_400_000 + 3_600_000);
      // Killed as soon as the third wave reached Mailchimp: it may be before or after the runner recorded it.
      const first = await runChild(
        { ...base, instance: 'first', now: due.toISOString() },
        () => sandbox.state.campaigns.size >= 3,
      );
      expect(first.killed, first.stderr).toBe(true);
      const second = await runChild({
        ...base,
        instance: 'second',
        now: new Date(due.getTime() + 5 * 60_000).toISOString(),
      });
      expect(second.killed, second.stderr).toBe(false);

      const reopened = await openStore({ url: db, secret });
      try {
        const rows = await rawStore(reopened).query<{ order_id: string; status: string; send_key: string | null }>(
          'select order_id, status, send_key from flow_steps where shop_id = $1',
          [shop],
        );
        expect(rows).toHaveLength(12);
        expect(rows.filter((r) => r.status === 'sending' || r.status === 'scheduled')).toEqual([]);
        const audience = sandbox.state.audiences.get(AUDIENCE)!;
        const received = new Map<string, number>();
        for (const c of sandbox.state.campaigns.values())
          for (const hash of c.sentTo) {
            const email = audience.members.get(hash)!.email_address;
            received.set(email, (received.get(email) ?? 0) + 1);
          }
        // One order each: nobody more than one email; everyone sent exactly one; nobody held out or withdrawn.
        expect([...received.values()].filter((n) => n > 1)).toEqual([]);
        const sent = rows.filter((r) => r.status === 'sent').map((r) => people[Number(r.order_id.slice(1))]!);
        expect([...received.keys()].sort()).toEqual(sent.sort());
        expect(received.has(withdrawn)).toBe(false);
        for (const r of rows.filter((x) => x.status === 'held_out'))
          expect(received.has(people[Number(r.order_id.slice(1))]!)).toBe(false);
        // The fault oracle's flow checks agree: both consents when sent, nobody twice, nobody in the holdout.
        const oracle = await flowViolations({
          tactful: await createTactful({ store: reopened, shop }),
          store: reopened,
          mailchimp: sandbox,
        });
        expect(oracle.violations).toEqual([]);
        expect(oracle.flowEmails).toBe(sent.length);
      } finally {
        await reopened.close();
      }
    } finally {
      await host.close();
    }
  }, 180_000);
});
