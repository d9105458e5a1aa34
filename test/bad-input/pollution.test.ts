/**
 * Keys that name an object's prototype (`__proto__`, `constructor`, `prototype`) and inherited names
 * (`toString`) in input that is parsed into objects: the Mailchimp webhook's bracketed form keys, segment
 * JSON at the admin and the CLI. They are refused with a clear 400 / exit 2, change nothing, and leave
 * `Object.prototype` as it was (a polluted prototype used to turn every preference page into a 500).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../../packages/app/src/cli/capture.js';
import { MAILCHIMP_SECRET, auth, snapshot, startHarness, type Harness } from './harness.js';

let h: Harness;
let preferencesUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'tactful-pollution-'));

beforeAll(async () => {
  h = await startHarness();
  await h.tactful.consent.record({
    subject: { email: 'pia@example.com' },
    purpose: 'email_marketing',
    state: 'granted',
    level: 'confirmed',
    occurredAt: new Date('2026-03-01T10:00:00Z'),
    source: { system: 'cli', eventId: 'pia-1', method: 'form' },
  });
  const subjectId = (await h.tactful.audit.subjectIdOf('pia@example.com'))!;
  preferencesUrl = h.url(`/preferences?token=${encodeURIComponent(await h.tactful.links.preferences(subjectId))}`);
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Names no plain object should have as its own, and what a polluted prototype would show. */
const prototypeProbes = ['firstName', 'email', 'polluted', 'type', 'data'] as const;
const pristine = () => {
  const probe = {} as Record<string, unknown>;
  for (const name of prototypeProbes) expect(probe[name], `Object.prototype.${name}`).toBeUndefined();
};

const mailchimpBodies: Array<[string, string]> = [
  ['__proto__[firstName] with an unknown type', '__proto__%5BfirstName%5D=x&type=nope'],
  [
    '__proto__[polluted] in a valid subscribe',
    'type=subscribe&data%5Bemail%5D=a%40example.com&__proto__%5Bpolluted%5D=1',
  ],
  ['data[__proto__][email]', 'type=subscribe&fired_at=2026-05-01+10%3A00%3A00&data%5B__proto__%5D%5Bemail%5D=x'],
  ['constructor[prototype][polluted]', 'type=profile&constructor%5Bprototype%5D%5Bpolluted%5D=1'],
  ['data[merges][__proto__]', 'type=profile&data%5Bmerges%5D%5B__proto__%5D=1&data%5Bemail%5D=a%40example.com'],
  ['a bare __proto__ key', '__proto__=1&type=subscribe'],
];

describe('Mailchimp webhook: prototype keys in the form body', () => {
  it.each(mailchimpBodies)('%s: 400 that names the key, nothing stored, no prototype changed', async (_n, body) => {
    const before = await snapshot(h.store);
    const res = await fetch(h.url(`/mailchimp/webhooks/${MAILCHIMP_SECRET}`), {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/MAILCHIMP\.WEBHOOK_INVALID.*(__proto__|constructor|prototype)/);
    pristine();
    expect(await snapshot(h.store)).toEqual(before);
  });

  it('after all of them the preference centre still answers', async () => {
    for (const [, body] of mailchimpBodies)
      await fetch(h.url(`/mailchimp/webhooks/${MAILCHIMP_SECRET}`), {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const res = await fetch(preferencesUrl);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('pia@example.com');
  });
});

const segmentKeys = ['constructor', '__proto__', 'toString', 'prototype', 'hasOwnProperty', 'valueOf'];
const segmentDefinitions = segmentKeys.flatMap(
  (key): Array<[string, string]> => [
    [`a predicate named ${key}`, `{${JSON.stringify(key)}: {}}`],
    [`${key} inside all`, `{"all": [{${JSON.stringify(key)}: true}]}`],
    [`${key} as a field of a predicate`, `{"orderCount": {"min": 1, ${JSON.stringify(key)}: 2}}`],
  ],
);

describe('segment JSON: prototype and inherited names as keys', () => {
  it.each(segmentDefinitions)('admin preview, %s: 400 with the reason, nothing stored', async (_n, definition) => {
    const before = await snapshot(h.store);
    const res = await fetch(h.url(`/admin/segments?definition=${encodeURIComponent(definition)}`), { headers: auth });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/Invalid segment|not a|unknown key|Unrecognized key/i);
    pristine();
    expect(await snapshot(h.store)).toEqual(before);
  });

  it.each(segmentDefinitions)('tactful segment preview, %s: exit 2 and one clear line', async (_n, definition) => {
    const file = join(dir, 'segment.json');
    writeFileSync(file, definition);
    const run = await runCaptured(['--db', 'memory://', 'segment', 'preview', '--file', file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Invalid segment/);
    pristine();
  });
});
