import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured as runIn } from '../cli/capture.js';
import { commandTestStore } from '../cli/test-store.js';
import { rawStore } from '@tactful/core/testing';

const { db, shop, env, secret, dir, remove, kind } = commandTestStore('cli-consent');
afterAll(remove);
/** A command on the shared database gets its environment; one on a folder of a case's own runs as a user's first. */
const runCaptured = (argv: string[]) => runIn(argv, argv[1] === db ? env : {});

const base = ['--db', db, '--shop', shop];
/** `consent record` for Cy in the database `at` (the one the cases share unless another is named). */
const recordAt = (at: string, ...args: string[]) =>
  runCaptured([
    '--db',
    at,
    '--shop',
    shop,
    'consent',
    'record',
    '--email',
    'Cy@Example.com',
    '--purpose',
    'email_marketing',
    '--source',
    'cli',
    ...args,
  ]);
const record = (...args: string[]) => recordAt(db, ...args);

describe('tactful consent', () => {
  it('record - stores a grant and show prints state, level, since, source, clause and version', async () => {
    const r = await record(
      '--state',
      'granted',
      '--event-id',
      'c1',
      '--method',
      'form',
      '--level',
      'single',
      '--occurred-at',
      '2026-05-01T10:00:00Z',
      '--ip',
      '192.0.2.10',
      '--clause',
      '4.2 Newsletter',
      '--policy-version',
      '2026-01',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('email_marketing is now granted (single)');
    const show = await runCaptured([...base, 'consent', 'show', '--email', 'cy@example.com']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /email_marketing\s+granted\s+single\s+2026-05-01T10:00:00.000Z\s+cli\/form\s+4.2 Newsletter\s+2026-01/,
    );
    const json = JSON.parse(
      (await runCaptured([...base, 'consent', 'show', '--email', 'cy@example.com', '--json'])).stdout,
    );
    expect(json.purposes[0]).toMatchObject({
      purpose: 'email_marketing',
      state: 'granted',
      clause: '4.2 Newsletter',
      version: '2026-01',
    });
  });

  it('record - the same event again is reported as already recorded, exit 0', async () => {
    const r = await record(
      '--state',
      'granted',
      '--event-id',
      'c1',
      '--method',
      'form',
      '--level',
      'single',
      '--occurred-at',
      '2026-05-01T10:00:00Z',
      '--ip',
      '192.0.2.10',
      '--clause',
      '4.2 Newsletter',
      '--policy-version',
      '2026-01',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('already recorded');
  });

  it('history - lists every event with its evidence', async () => {
    await record('--state', 'withdrawn', '--event-id', 'c2', '--occurred-at', '2026-05-02T10:00:00Z');
    const r = await runCaptured([...base, 'consent', 'history', '--email', 'cy@example.com', '--json']);
    expect(r.code).toBe(0);
    const history = JSON.parse(r.stdout);
    expect(history.events.map((e: { state: string }) => e.state)).toEqual(['granted', 'withdrawn']);
    expect(history.events[0].evidence.ip).toBe('192.0.2.10');
  });

  it('bad input - exit 2 with one clear line, nothing stored', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--state', 'granted', '--event-id', 'b1', '--email', 'nope'], /not a valid email/],
      [['--state', 'maybe', '--event-id', 'b2'], /--state "maybe" is not one of: granted, withdrawn, pending/],
      [
        ['--state', 'granted', '--event-id', 'b3', '--occurred-at', 'yesterday'],
        /--occurred-at "yesterday" is not an ISO date/,
      ],
      [['--state', 'granted', '--event-id', 'b4', '--occurred-at', '2099-01-01T00:00:00Z'], /in the future/],
      [['--state', 'granted', '--event-id', 'b5', '--method', 'telepathy'], /--method "telepathy" is not one of/],
      [['--state', 'granted', '--event-id', 'c1'], /already recorded with different content/],
    ];
    for (const [args, message] of cases) {
      const r = await record(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const unknownPurpose = await runCaptured([
      ...base,
      'consent',
      'record',
      '--email',
      'cy@example.com',
      '--purpose',
      'telepathy',
      '--state',
      'granted',
      '--source',
      'cli',
      '--event-id',
      'b6',
    ]);
    expect(unknownPurpose.code).toBe(2);
    expect(unknownPurpose.stderr).toMatch(/Unknown purpose "telepathy"/);
    const missing = await runCaptured([...base, 'consent', 'show', '--email', 'ghost@example.com']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/No customer with email ghost@example.com/);
    const history = JSON.parse(
      (await runCaptured([...base, 'consent', 'history', '--email', 'cy@example.com', '--json'])).stdout,
    );
    expect(history.events).toHaveLength(2);
  });

  it('bad input - an unknown database scheme is a configuration error (exit 2)', async () => {
    const r = await runCaptured(['--db', 'mysql://x', 'consent', 'show', '--email', 'a@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown database URL scheme/);
  });

  it('at rest - no customer email or IP appears in the raw database folder', async () => {
    // A folder of its own (the shared database may be a PostgreSQL server), holding what the first case recorded.
    const folder = join(dir, 'at-rest');
    const r = await recordAt(
      folder,
      '--state',
      'granted',
      '--event-id',
      'c1',
      '--ip',
      '192.0.2.10',
      '--clause',
      '4.2 Newsletter',
    );
    expect(r.stderr).toBe('');
    const files = (await import('node:fs'))
      .readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      expect(bytes.includes('cy@example.com'), f.name).toBe(false);
      expect(bytes.includes('Cy@Example.com'), f.name).toBe(false);
      expect(bytes.includes('192.0.2.10'), f.name).toBe(false);
    }
    // The known-plaintext check is meaningful: a value that is stored in clear is found.
    const found = (await import('node:fs'))
      .readdirSync(folder, { recursive: true, withFileTypes: true })
      .some((f) => f.isFile() && readFileSync(join(f.parentPath, f.name)).includes('4.2 Newsletter'));
    expect(found).toBe(true);
  });
});

describe('tactful audit', () => {
  it('export - CSV and JSONL, filtered by email and time, to stdout or a file', async () => {
    const csv = await runCaptured([...base, 'audit', 'export', '--email', 'cy@example.com']);
    expect(csv.code).toBe(0);
    const lines = csv.stdout.trim().split('\r\n');
    expect(lines[0]).toBe('seq,at,action,actor_type,actor_id,subject_id,email,details,row_hash');
    expect(lines.slice(1).every((l) => l.includes('cy@example.com'))).toBe(true);
    const out = join(dir, 'audit.jsonl');
    const jsonl = await runCaptured([
      ...base,
      'audit',
      'export',
      '--format',
      'jsonl',
      '--out',
      out,
      '--since',
      '2000-01-01',
    ]);
    expect(jsonl.code).toBe(0);
    const entries = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['purpose.defined', 'subject.registered', 'consent.recorded']),
    );
    expect(entries.every((e) => e.actor && e.at)).toBe(true);
    const future = await runCaptured([...base, 'audit', 'export', '--format', 'jsonl', '--since', '2100-01-01']);
    expect(future.stdout).toBe('');
  });

  it('export - bad flags exit 2', async () => {
    expect((await runCaptured([...base, 'audit', 'export', '--format', 'xml'])).code).toBe(2);
    expect((await runCaptured([...base, 'audit', 'export', '--since', 'last week'])).code).toBe(2);
    expect((await runCaptured([...base, 'audit', 'export', '--email', 'ghost@example.com'])).code).toBe(2);
  });

  it('verify - exit 0 when intact; exit 1 naming the first bad row after an SQL edit', async () => {
    const ok = await runCaptured([...base, 'audit', 'verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/consent ledger: intact \(2 rows\)/);
    const { openStore } = await import('@tactful/core');
    const store = await openStore({ url: db, secret });
    await rawStore(store).query(`update consent_ledger set level = 'confirmed' where shop_id = $1 and seq = 1`, [shop]);
    await store.close();
    const bad = await runCaptured([...base, 'audit', 'verify']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/consent ledger: BROKEN at row 1 \(edited\)/);
  });
  it('a command refused on a new --db folder leaves no database behind; a new folder that worked is kept', async () => {
    const fresh = join(dir, 'mistyped');
    const refused = await runCaptured(['--db', fresh, '--shop', shop, 'consent', 'show', '--email', 'not-an-email']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('not a valid email address');
    expect(existsSync(fresh)).toBe(false);
    expect(existsSync(`${fresh}.secret`)).toBe(false);
    // The same refusal on the folder the other cases filled changes nothing there.
    const before = (await runCaptured([...base, 'consent', 'show', '--email', 'cy@example.com', '--json'])).stdout;
    expect((await runCaptured([...base, 'consent', 'show', '--email', 'not-an-email'])).code).not.toBe(0);
    if (kind === 'folder') expect(existsSync(db)).toBe(true);
    expect((await runCaptured([...base, 'consent', 'show', '--email', 'cy@example.com', '--json'])).stdout).toBe(
      before,
    );
    // A command that succeeds on a new folder keeps it, with its secret.
    const kept = join(dir, 'kept');
    const ok = await recordAt(kept, '--state', 'granted', '--event-id', 'k1');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(existsSync(kept)).toBe(true);
    expect(existsSync(`${kept}.secret`)).toBe(true);
  });
});
