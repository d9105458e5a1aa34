import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTactfulError } from '../errors/tactful-error.js';
import { lockFolder, processStart, type LockHolder } from './folder-lock.js';
import { openStore, rawStore } from './open.js';

const dir = mkdtempSync(join(tmpdir(), 'tactful-folder-lock-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const secret = randomBytes(32).toString('hex');
let n = 0;
const folder = () => join(dir, `db${++n}`);

/** A claim as another process would have written it: the lock directory's format, for cases no test can cause. */
function plantClaim(db: string, generation: number, holder: Partial<LockHolder>): void {
  mkdirSync(`${db}.lock`, { recursive: true });
  const claim: LockHolder = {
    pid: process.ppid,
    processStart: processStart(process.ppid) ?? null,
    bootId: null,
    host: hostname(),
    command: 'node tactful serve',
    since: '2026-12-01T10:00:00.000Z',
    ...holder,
  };
  writeFileSync(join(`${db}.lock`, String(generation).padStart(12, '0')), JSON.stringify(claim));
}

function refusal(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (isTactfulError(error, 'STORE.LOCKED')) return error.message;
    throw error;
  }
  throw new Error('the lock was taken, expected STORE.LOCKED');
}

describe('embedded database lock', () => {
  it('a second open of one folder in the same process is refused until the first store closes', async () => {
    const db = folder();
    const first = await openStore({ url: db, secret });
    await expect(openStore({ url: db, secret })).rejects.toThrow(/already open in this process/);
    await first.close();
    const again = await openStore({ url: db, secret });
    // The released claim 1 is swept by the holder of claim 2.
    expect(readdirSync(`${db}.lock`)).toEqual(['000000000002']);
    await again.close();
    expect(readdirSync(`${db}.lock`)).toEqual(['000000000002', '000000000002.released']);
  });

  it('fresh wipes a folder only under its lock: an open database is never wiped from under its holder', async () => {
    const db = folder();
    const holder = await openStore({ url: db, secret });
    await rawStore(holder).query('create table kept (x int)');
    await expect(openStore({ url: db, secret, fresh: true })).rejects.toMatchObject({ code: 'STORE.LOCKED' });
    expect(await rawStore(holder).query('select count(*)::int as n from kept')).toEqual([{ n: 0 }]);
    await holder.close();
    const fresh = await openStore({ url: db, secret, fresh: true });
    await expect(rawStore(fresh).query('select 1 from kept')).rejects.toThrow(/kept/);
    await fresh.close();
  });

  it('memory:// takes no lock: two in-memory stores open side by side', async () => {
    const a = await openStore({ url: 'memory://' });
    const b = await openStore({ url: 'memory://' });
    expect(existsSync('memory:.lock') || existsSync('memory://.lock')).toBe(false);
    await Promise.all([a.close(), b.close()]);
  });

  it('a live process of this machine holds its claim: refused, naming its pid and command line', () => {
    const db = folder();
    plantClaim(db, 4, {});
    const message = refusal(() => lockFolder(db));
    expect(message).toContain(`in use by process ${process.ppid} (node tactful serve) since 2026-12-01T10:00:00.000Z`);
    expect(message).toMatch(/stop that process first, or do this through the running app, or use PostgreSQL/);
  });

  it('a pid now used by another program (another start time) is a stale claim: taken over', () => {
    const db = folder();
    plantClaim(db, 4, { processStart: '1' });
    const lock = lockFolder(db);
    expect(readdirSync(lock.path)).toEqual(['000000000005']);
    lock.release();
  });

  it('a claim made before the machine restarted (another boot id) is stale: taken over', () => {
    const db = folder();
    plantClaim(db, 9, { bootId: 'another-boot' });
    const lock = lockFolder(db);
    expect(readdirSync(lock.path)).toEqual(['000000000010']);
    lock.release();
  });

  it('a claim from another machine sharing the folder stands: its processes cannot be seen from here', () => {
    const db = folder();
    plantClaim(db, 2, { host: 'other-host.example', pid: 999_999_999, processStart: null });
    expect(refusal(() => lockFolder(db))).toContain('in use by process 999999999 on host other-host.example');
  });

  it('a file in the lock that no tactful process wrote is refused with what to delete', () => {
    const db = folder();
    mkdirSync(`${db}.lock`);
    writeFileSync(join(`${db}.lock`, '000000000001'), 'not json');
    expect(refusal(() => lockFolder(db))).toMatch(/holds a claim no tactful process wrote .* delete .*\.lock/);
  });

  it('release is marked, not deleted, so claim numbers never go down', () => {
    const db = folder();
    const lock = lockFolder(db);
    lock.release();
    lock.release();
    expect(readdirSync(lock.path)).toEqual(['000000000001', '000000000001.released']);
    const next = lockFolder(db);
    expect(readdirSync(next.path)).toEqual(['000000000002']);
    next.release();
  });
});
