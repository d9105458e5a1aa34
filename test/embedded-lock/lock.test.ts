/**
 * One embedded database, one process, with real processes: `tactful serve` and a CLI command, two CLI
 * commands, a holder killed with SIGKILL whose stale claim the next process takes over, and processes racing
 * to take over one stale claim. Every wait is on something a process printed or a file of the lock.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/browser.js';
import { claimant, lockState, runTactful, tactful, waitForLock, type Proc } from './processes.js';

const dir = mkdtempSync(join(tmpdir(), 'tactful-lock-'));
const started: Proc[] = [];
afterAll(() => {
  for (const proc of started) proc.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const env = { TACTFUL_SECRET: randomBytes(32).toString('hex'), TACTFUL_ADMIN_TOKEN: 'lock-test-admin-token-0001' };
const LONG = 600_000;

function world(name: string) {
  const db = join(dir, name);
  const base = ['--db', db, '--shop', `${name}.myshopify.com`];
  return {
    db,
    run: (...args: string[]) => runTactful([...base, ...args], env),
    start: (args: string[], extra: Record<string, string> = {}) => {
      const proc = tactful([...base, ...args], { ...env, ...extra });
      started.push(proc);
      return proc;
    },
    grant: (email: string, eventId: string) =>
      runTactful(
        [...base, 'consent', 'record', '--email', email, '--purpose', 'email_marketing', '--state', 'granted'].concat([
          '--source',
          'cli',
          '--event-id',
          eventId,
        ]),
        env,
      ),
  };
}

/** One line on stderr, exit 1, naming the holder's pid and command line and what to do. */
function expectRefusedBy(result: { code: number | string; stderr: string }, holder: number, command: RegExp) {
  expect(result.code).toBe(1);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(
    new RegExp(`^error STORE\\.LOCKED: The embedded database .* is in use by process ${holder} `),
  );
  expect(lines[0]).toMatch(command);
  expect(lines[0]).toContain('stop that process first');
  expect(lines[0]).toContain('use PostgreSQL');
}

describe('embedded database lock - real processes', () => {
  it(
    'serve holds the folder: a CLI grant is refused naming serve and changes nothing, and works once serve stops',
    async () => {
      const w = world('serve');
      const serve = w.start(['serve'], { PORT: String(await freePort()), HOST: '127.0.0.1' });
      await serve.waitForLine(/listening on http/, { stream: 'stderr' });

      const refused = await w.grant('ann@example.com', 'while-serving');
      expectRefusedBy(refused, serve.pid, /\(\S*node\S* \S*cli\.js --db \S+ --shop serve\.myshopify\.com serve\)/);

      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
      expect(lockState(w.db).top).toMatchObject({ pid: serve.pid, released: true });

      const show = await w.run('consent', 'show', '--email', 'ann@example.com', '--json');
      // The refused grant left nothing: no such customer yet.
      expect(show.stderr).toMatch(/SUBJECT\.NOT_FOUND|No customer/);
      const granted = await w.grant('ann@example.com', 'after-serving');
      expect(granted.stderr).toBe('');
      expect(granted.code).toBe(0);
    },
    LONG,
  );

  it(
    'two CLIs: a command while another holds the folder is refused naming it; the first finishes and releases',
    async () => {
      const w = world('two-clis');
      expect((await w.grant('bo@example.com', 'first')).code).toBe(0);
      // The first command holds the folder while it waits for a reader of its output (a FIFO).
      const fifo = join(dir, 'two-clis.fifo');
      execFileSync('mkfifo', [fifo]);
      const first = w.start(['audit', 'export', '--format', 'jsonl', '--out', fifo]);
      await waitForLock(w.db, (s) => s.top?.pid === first.pid && !s.top.released, 'the export holds the lock');

      const second = await w.grant('bo@example.com', 'second');
      expectRefusedBy(second, first.pid, /\(\S*node \S*cli\.js --db \S+ --shop two-clis\.myshopify\.com audit export/);

      const exported = await readFile(fifo, 'utf8');
      expect(await first.exited).toBe(0);
      expect(exported).toContain('"first"');
      expect(exported).not.toContain('"second"');
      expect(lockState(w.db).top).toMatchObject({ pid: first.pid, released: true });
      expect((await w.grant('bo@example.com', 'second')).code).toBe(0);
    },
    LONG,
  );

  it(
    'a CLI stopped by SIGTERM while it holds the folder releases its claim',
    async () => {
      const w = world('sigterm');
      const fifo = join(dir, 'sigterm.fifo');
      execFileSync('mkfifo', [fifo]);
      const holder = w.start(['audit', 'export', '--out', fifo]);
      await waitForLock(w.db, (s) => s.top?.pid === holder.pid && !s.top.released, 'the export holds the lock');
      holder.child.kill('SIGTERM');
      await holder.exited;
      expect(lockState(w.db).top).toMatchObject({ pid: holder.pid, released: true });
    },
    LONG,
  );

  it(
    'a SIGKILLed serve leaves a stale claim: the next command takes it over and the data is intact',
    async () => {
      const w = world('killed');
      expect((await w.grant('cy@example.com', 'before')).code).toBe(0);
      const serve = w.start(['serve'], { PORT: String(await freePort()), HOST: '127.0.0.1' });
      await serve.waitForLine(/listening on http/, { stream: 'stderr' });
      serve.child.kill('SIGKILL');
      expect(await serve.exited).toBe('SIGKILL');
      const stale = lockState(w.db);
      expect(stale.top).toMatchObject({ pid: serve.pid, released: false });

      const granted = await w.grant('dee@example.com', 'after');
      expect(granted.stderr).toBe('');
      expect(granted.code).toBe(0);
      // The taker swept the stale claim and released its own on exit.
      const after = lockState(w.db);
      expect(after.top).toMatchObject({ pid: granted.pid, released: true });
      expect(after.entries).toEqual([after.top!.generation, `${after.top!.generation}.released`]);
      expect(after.top!.generation > stale.top!.generation).toBe(true);

      const verify = await w.run('audit', 'verify');
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(/consent ledger: intact \(2 rows\)/);
      const show = await w.run('consent', 'show', '--email', 'cy@example.com');
      expect(show.stdout).toMatch(/email_marketing\s+granted/);
    },
    LONG,
  );

  it(
    'processes taking over one stale claim at once: exactly one wins, the others name it',
    async () => {
      const folder = join(dir, 'race');
      const first = claimant(folder);
      started.push(first);
      await first.waitForLine(/"ready"/);
      first.write('go\n');
      await first.waitForLine(/"won"/);
      first.child.kill('SIGKILL');
      await first.exited;
      let stale = first.pid;
      for (let round = 0; round < 2; round++) {
        expect(lockState(folder).top).toMatchObject({ pid: stale, released: false });
        const racers = Array.from({ length: 5 }, () => claimant(folder));
        started.push(...racers);
        await Promise.all(racers.map((r) => r.waitForLine(/"ready"/)));
        for (const r of racers) r.write('go\n');
        const verdicts = await Promise.all(racers.map((r) => r.waitForLine(/"won"|"refused"/)));
        const winners = racers.filter((_, i) => verdicts[i]!.includes('"won"'));
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        for (const [i, verdict] of verdicts.entries())
          if (racers[i] !== winner) expect(verdict).toContain(`in use by process ${winner.pid} `);
        expect(lockState(folder).top).toMatchObject({ pid: winner.pid, released: false });
        // The losers end normally (they hold nothing); the winner is killed to leave the next stale claim.
        for (const r of racers) if (r !== winner) r.child.stdin?.end();
        await Promise.all(racers.filter((r) => r !== winner).map((r) => r.exited));
        expect(lockState(folder).top).toMatchObject({ pid: winner.pid, released: false });
        winner.child.kill('SIGKILL');
        await winner.exited;
        stale = winner.pid;
      }
    },
    LONG,
  );
});
