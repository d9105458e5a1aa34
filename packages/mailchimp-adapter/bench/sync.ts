/**
 * Syncs 10,000 changed members to the Mailchimp sandbox, then re-syncs the unchanged audience, and
 * reports the write calls of each: ⌈10 000 / 500⌉ batch calls plus a constant, then 0.
 * Run alone: `npx tsx packages/mailchimp-adapter/bench/sync.ts`.
 */
import { setupServer } from 'msw/node';
import type { MemberChange } from '@tactful/core';
import { createMailchimpProvider } from '../src/index.js';
import { createMailchimpSandbox } from '../src/testing/index.js';

export interface MailchimpSyncBench {
  members: number;
  batchSize: number;
  expectedWriteCalls: number;
  firstSync: { writeCalls: number; readCalls: number; ms: number; byEndpoint: Record<string, number> };
  resync: { writeCalls: number; readCalls: number; ms: number };
}

export async function benchMailchimpSync(
  options: { members?: number; print?: boolean } = {},
): Promise<MailchimpSyncBench> {
  const members = options.members ?? 10_000;
  const sandbox = createMailchimpSandbox({ audiences: [{ id: 'benchaud01' }] });
  const server = setupServer(...sandbox.handlers);
  server.listen({ onUnhandledRequest: 'error' });
  try {
    const provider = createMailchimpProvider({ apiKey: sandbox.apiKey, audienceId: 'benchaud01' });
    const batchSize = provider.capabilities.maxBatch;
    const occurredAt = new Date('2025-03-01T10:00:00Z');
    const changes: MemberChange[] = Array.from({ length: members }, (_, i) => {
      const email = `member${i}@bench.example.com`;
      return {
        email,
        consent: {
          email,
          purpose: 'email_marketing',
          state: i % 10 === 0 ? 'withdrawn' : 'granted',
          level: 'confirmed',
          occurredAt,
          firstParty: false,
        },
        mergeFields: { FNAME: `Member ${i}` },
      };
    });

    async function sync() {
      sandbox.calls.reset();
      const started = performance.now();
      let failed = 0;
      for (let i = 0; i < changes.length; i += batchSize) {
        const results = await provider.pushMembers(changes.slice(i, i + batchSize));
        failed += results.filter((r) => !r.ok).length;
      }
      if (failed > 0) throw new Error(`${failed} members failed to sync`);
      const total = sandbox.calls.total();
      const writeCalls = sandbox.calls.writes();
      return {
        writeCalls,
        readCalls: total - writeCalls,
        ms: Math.round(performance.now() - started),
        byEndpoint: sandbox.calls.all(),
      };
    }

    const firstSync = await sync();
    const { byEndpoint: _ignored, ...resync } = await sync();
    const result: MailchimpSyncBench = {
      members,
      batchSize,
      expectedWriteCalls: Math.ceil(members / batchSize),
      firstSync,
      resync,
    };
    if (options.print !== false) {
      console.log(
        `mailchimp sync: ${members} changed members → ${firstSync.writeCalls} write calls (expected ⌈${members}/${batchSize}⌉ = ${result.expectedWriteCalls} + constant), ` +
          `${firstSync.readCalls} reads, ${firstSync.ms} ms; re-sync → ${resync.writeCalls} write calls, ${resync.readCalls} reads, ${resync.ms} ms`,
      );
    }
    return result;
  } finally {
    server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchMailchimpSync();
}
