import { describe, expect, it } from 'vitest';
import { benchMailchimpSync } from '../../bench/sync.js';

describe('sync cost', () => {
  it('10 000 changed members take ⌈10 000/500⌉ write calls plus a constant, then 0 on a re-sync', async () => {
    const result = await benchMailchimpSync({ members: 10_000, print: false });
    expect(result.expectedWriteCalls).toBe(20);
    expect(result.firstSync.writeCalls).toBeGreaterThanOrEqual(20);
    expect(result.firstSync.writeCalls).toBeLessThanOrEqual(20 + 2);
    expect(result.firstSync.byEndpoint['POST /lists/{list_id}']).toBe(20);
    expect(result.resync.writeCalls).toBe(0);
  }, 120_000);
});
