import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, rawStore, type Store } from './open.js';
import { PGLITE_IMAGES_ENV, pgliteImagePath } from './pglite-image.js';
import { throwawayBase } from './throwaway-folder.js';
import { unpackPgliteImage } from './unpack-image.js';

const migrations = join(dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const journal = JSON.parse(readFileSync(join(migrations, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
const secret = 'cd'.repeat(32);
/** Tests that make an image in a child process or run initdb here: tens of seconds each on a loaded machine. */
const SLOW = 300_000;
const before = process.env[PGLITE_IMAGES_ENV];
let images: string;

beforeEach(() => {
  images = mkdtempSync(join(tmpdir(), 'tactful-new-db-images-'));
  process.env[PGLITE_IMAGES_ENV] = images;
});
afterEach(() => {
  if (before === undefined) delete process.env[PGLITE_IMAGES_ENV];
  else process.env[PGLITE_IMAGES_ENV] = before;
});

/** Every migration applied, and the store reads back what it wrote. */
async function expectMigratedAndUsable(store: Store) {
  const raw = rawStore(store);
  const applied = await raw.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
  expect(applied).toEqual([{ n: journal.entries.length }]);
  await raw.query(`INSERT INTO kv (shop_id, key, value, updated_at) VALUES ('shop', 'k', 'v', now())`);
  expect(await raw.query('SELECT value FROM kv')).toEqual([{ value: 'v' }]);
}

/** The suite's own image folder (vitest.config.ts), made once, for tests not about making images. */
function useSharedImages() {
  if (before === undefined) delete process.env[PGLITE_IMAGES_ENV];
  else process.env[PGLITE_IMAGES_ENV] = before;
}

const imagesMade = () => readdirSync(images).filter((name) => /^pglite-[0-9a-f]{16}\.tar$/.test(name));
const throwawayFolders = () =>
  readdirSync(throwawayBase()).filter((name) => name.startsWith(`tactful-memory-${process.pid}-`));

describe('a new embedded database', () => {
  it(
    'a new folder and a new memory://, opened at once with no image yet, are both migrated and usable',
    async () => {
      const folder = join(mkdtempSync(join(tmpdir(), 'tactful-new-db-')), 'db');
      const other = join(mkdtempSync(join(tmpdir(), 'tactful-new-db-')), 'db');
      const warnings: string[] = [];
      const warn = (message: string) => warnings.push(message);
      // A temporary file left by a child that was killed (its process is gone): not waited for.
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      const leftover = `${basename(pgliteImagePath(migrations)!)}.${gone}-0badc0de.partial`;
      writeFileSync(join(images, leftover), '');
      const stores = await Promise.all([
        openStore({ url: folder, secret, warn }),
        openStore({ url: 'memory://', secret, warn }),
        openStore({ url: other, secret, warn }),
      ]);
      for (const store of stores) await expectMigratedAndUsable(store);
      for (const store of stores) await store.close();
      expect(warnings).toEqual([]);
      // One child made the image for all three (written to a temporary name and renamed): nothing half-written.
      expect(readdirSync(images).sort()).toEqual([...imagesMade(), leftover].sort());
      expect(imagesMade()).toHaveLength(1);
      expect(existsSync(join(folder, 'PG_VERSION'))).toBe(true);
      const reopened = await openStore({ url: folder, secret });
      expect(await rawStore(reopened).query('SELECT key FROM kv')).toEqual([{ key: 'k' }]);
      await reopened.close();
    },
    SLOW,
  );

  it(
    "another process's child making the image: a new database waits for it instead of making a second",
    async () => {
      const shared = before && pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: before });
      expect(shared && existsSync(shared), "the suite's image (test/support/pglite-image.ts)").toBeTruthy();
      const image = pgliteImagePath(migrations)!;
      // The other process's child, as it is while initdb runs: alive, its temporary file beside the image.
      const maker = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
      const partial = `${image}.${maker.pid}-cafe0001.partial`;
      writeFileSync(partial, '');
      const seen = new Set<string>();
      const watch = setInterval(() => {
        for (const name of readdirSync(images)) if (name.endsWith('.partial')) seen.add(name);
      }, 20);
      try {
        const warnings: string[] = [];
        let openedAt = 0;
        const opening = openStore({ url: 'memory://', secret, warn: (message) => warnings.push(message) }).then(
          (store) => {
            openedAt = performance.now();
            return store;
          },
        );
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        // The child finishes: its image renamed into place, its temporary file gone.
        copyFileSync(shared as string, `${partial}.done`);
        renameSync(`${partial}.done`, image);
        rmSync(partial);
        const finishedAt = performance.now();
        const store = await opening;
        await expectMigratedAndUsable(store);
        await store.close();
        expect(openedAt).toBeGreaterThan(finishedAt);
        expect(warnings).toEqual([]);
        // No child of this process made an image of its own.
        expect([...seen]).toEqual([basename(partial)]);
      } finally {
        clearInterval(watch);
        maker.kill('SIGKILL');
      }
    },
    SLOW,
  );

  it(
    'when the image cannot be made, the database is created in this process, with a warning saying why',
    async () => {
      const blocked = join(images, 'a-file');
      writeFileSync(blocked, 'not a folder');
      process.env[PGLITE_IMAGES_ENV] = join(blocked, 'images');
      const warnings: string[] = [];
      const folder = join(mkdtempSync(join(tmpdir(), 'tactful-new-db-')), 'db');
      // A folder (memory:// is a throwaway folder too: the same path).
      const store = await openStore({ url: folder, secret, warn: (message) => warnings.push(message) });
      await expectMigratedAndUsable(store);
      await store.close();
      expect(warnings).toHaveLength(1);
      for (const warning of warnings) {
        expect(warning).toContain('in a child process');
        expect(warning).toContain('creating the database in this process instead');
        expect(warning).toContain(PGLITE_IMAGES_ENV);
      }
    },
    SLOW,
  );

  it(
    'a damaged image is not loaded: it is removed and made again in a child, and the database comes from the new one',
    async () => {
      // The suite's image (vitest.config.ts) when there is one, else one made here.
      const shared = before && pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: before });
      if (shared && existsSync(shared)) copyFileSync(shared, join(images, basename(shared)));
      else await (await openStore({ url: 'memory://', secret })).close();
      const [name] = imagesMade();
      const image = join(images, name!);
      const bytes = readFileSync(image);
      bytes[600] = bytes[600]! ^ 0xff; // inside the second entry's header: its checksum no longer matches
      writeFileSync(image, bytes);
      const warnings: string[] = [];
      const store = await openStore({ url: 'memory://', secret, warn: (message) => warnings.push(message) });
      await expectMigratedAndUsable(store);
      await store.close();
      expect(warnings).toEqual([expect.stringContaining('checksum')]);
      expect(warnings[0]).toContain('removed and is made again');
      expect(warnings[0]).not.toContain('in this process');
      // Made again, whole: the next new database unpacks it without a word.
      expect(imagesMade()).toEqual([name]);
      expect(readFileSync(image).equals(bytes)).toBe(false);
      const again = await openStore({ url: 'memory://', secret, warn: (message) => warnings.push(message) });
      await expectMigratedAndUsable(again);
      await again.close();
      expect(warnings).toHaveLength(1);
    },
    SLOW,
  );

  it(
    'images off: the database is created in this process, without a warning and without an image',
    async () => {
      process.env[PGLITE_IMAGES_ENV] = 'off';
      const warnings: string[] = [];
      const store = await openStore({ url: 'memory://', secret, warn: (message) => warnings.push(message) });
      await expectMigratedAndUsable(store);
      await store.close();
      expect(warnings).toEqual([]);
    },
    SLOW,
  );

  it('memory:// keeps its pages in a folder of its own, gone when the store closes', async () => {
    useSharedImages();
    const before = new Set(throwawayFolders());
    const a = await openStore({ url: 'memory://', secret });
    const b = await openStore({ url: 'memory://', secret });
    const mine = throwawayFolders().filter((name) => !before.has(name));
    expect(mine).toHaveLength(2);
    await rawStore(a).query(`INSERT INTO kv (shop_id, key, value, updated_at) VALUES ('shop', 'only-a', 'v', now())`);
    expect(await rawStore(b).query('SELECT key FROM kv')).toEqual([]);
    expect(a.location).toBe('memory://');
    await a.close();
    await b.close();
    expect(throwawayFolders().filter((name) => mine.includes(name))).toEqual([]);
  });

  it('memory:// goes on a tmpfs with room, else in the temporary folder', () => {
    const onDisk = mkdtempSync(join(tmpdir(), 'tactful-not-shm-'));
    const disk = statfsSync(onDisk);
    // A folder on a disk, or one that is not there, is never used: the temporary folder is.
    if (disk.type !== 0x01021994) expect(throwawayBase(onDisk)).toBe(tmpdir());
    expect(throwawayBase(join(onDisk, 'missing'))).toBe(tmpdir());
    rmSync(onDisk, { recursive: true });
    // Linux's /dev/shm, when it is a tmpfs with a gigabyte free (this machine kind: 24 GB), is used.
    const shm = existsSync('/dev/shm') ? statfsSync('/dev/shm') : null;
    if (shm?.type === 0x01021994 && shm.bavail * shm.bsize >= 2 ** 30) expect(throwawayBase()).toBe('/dev/shm');
  });

  it("memory:// folders of a process that was killed are removed by the next one; a live process's are kept", async () => {
    useSharedImages();
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    // In the folder memory:// uses now, and in the temporary folder (where it went before, or when /dev/shm is full).
    const bases = [...new Set([throwawayBase(), tmpdir()])];
    const left = bases.map((base) => join(base, `tactful-memory-${gone}-left`));
    const live = bases.map((base) => join(base, `tactful-memory-${process.ppid}-live`));
    for (const folder of [...left, ...live]) mkdirSync(join(folder, 'pgdata'), { recursive: true });
    const store = await openStore({ url: 'memory://', secret });
    await store.close();
    for (const folder of left) expect(existsSync(folder)).toBe(false);
    for (const folder of live) expect(existsSync(folder)).toBe(true);
    for (const folder of live) rmSync(folder, { recursive: true });
  });
});

/** One ustar entry: a 512-byte header and the body padded to whole blocks. */
function tarEntry(name: string, body: string, type = '0'): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000600\0', 100);
  header.write(`${Buffer.byteLength(body).toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write(type, 156);
  header.write('ustar\0' + '00', 257);
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}

describe('unpacking an image', () => {
  const archive = (...entries: Buffer[]) => {
    const file = join(mkdtempSync(join(tmpdir(), 'tactful-tar-')), 'image.tar');
    writeFileSync(file, Buffer.concat([...entries, Buffer.alloc(1024)]));
    return file;
  };

  it('writes the data directory whole: files, folders and contents', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tactful-unpack-')), 'pgdata');
    unpackPgliteImage(
      archive(tarEntry('/PG_VERSION', '17\n'), tarEntry('/base', '', '5'), tarEntry('/base/1/2', 'x'.repeat(70_000))),
      dataDir,
    );
    expect(readFileSync(join(dataDir, 'PG_VERSION'), 'utf8')).toBe('17\n');
    expect(readFileSync(join(dataDir, 'base/1/2'), 'utf8')).toBe('x'.repeat(70_000));
  });

  it('refuses a path outside the data directory, a truncated archive, a link or one without PG_VERSION, leaving nothing', () => {
    const parent = mkdtempSync(join(tmpdir(), 'tactful-unpack-'));
    const dataDir = join(parent, 'pgdata');
    const version = tarEntry('/PG_VERSION', '17\n');
    const cases: Array<[string, string]> = [
      [archive(version, tarEntry('/../escaped', 'x')), 'unsafe path'],
      [archive(version, tarEntry('/base/link', '', '2')), 'of a kind'],
      [archive(tarEntry('/base', '', '5')), 'no PG_VERSION'],
    ];
    const truncated = archive(version);
    writeFileSync(truncated, readFileSync(truncated).subarray(0, 512));
    cases.push([truncated, 'ends']);
    for (const [file, message] of cases) {
      expect(() => unpackPgliteImage(file, dataDir)).toThrow(message);
      expect(readdirSync(parent)).toEqual([]);
    }
    expect(existsSync(join(parent, 'escaped'))).toBe(false);
  });
});
