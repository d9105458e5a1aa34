import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, pgliteSharedBuffers, rawStore } from './open.js';
import { defaultPgliteImageFolder, PGLITE_IMAGES_ENV, pgliteImagePath } from './pglite-image.js';

const migrations = join(dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const secret = 'ab'.repeat(32);
const journal = JSON.parse(readFileSync(join(migrations, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
const before = process.env[PGLITE_IMAGES_ENV];

afterEach(() => {
  if (before === undefined) delete process.env[PGLITE_IMAGES_ENV];
  else process.env[PGLITE_IMAGES_ENV] = before;
});

describe('migrated PGlite images', () => {
  it("live in the user's cache folder unless a folder is named; off turns them off", () => {
    const cache = pgliteImagePath(migrations, { XDG_CACHE_HOME: '/cache' });
    expect(cache).toMatch(/^\/cache\/tactful\/pglite-[0-9a-f]{16}\.tar$/);
    expect(pgliteImagePath(migrations, { XDG_CACHE_HOME: '/cache', [PGLITE_IMAGES_ENV]: '  ' })).toBe(cache);
    expect(pgliteImagePath(migrations, {})).toBe(join(homedir(), '.cache/tactful', basename(cache!)));
    expect(defaultPgliteImageFolder({})).toBe(join(homedir(), '.cache/tactful'));
    expect(pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: 'off' })).toBeUndefined();
    expect(pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: ' OFF ' })).toBeUndefined();
  });

  it('are named after the migrations: a new migration never loads an old image', () => {
    const copy = mkdtempSync(join(tmpdir(), 'tactful-migrations-'));
    cpSync(migrations, copy, { recursive: true });
    const env = { [PGLITE_IMAGES_ENV]: '/images' };
    const first = pgliteImagePath(copy, env);
    expect(first).toMatch(/^\/images\/pglite-[0-9a-f]{16}\.tar$/);
    expect(pgliteImagePath(copy, env)).toBe(first);
    writeFileSync(join(copy, '9999_next.sql'), 'CREATE TABLE "next" ("id" text);');
    expect(pgliteImagePath(copy, env)).not.toBe(first);
  });

  it('a fresh database, in memory or in a folder, starts from the image: migrated and empty', async () => {
    const images = mkdtempSync(join(tmpdir(), 'tactful-images-'));
    // The suite's image (vitest.config.ts) when there is one: making one is new-database.test.ts's subject, and
    // costs an initdb in a child process. Else the first open below makes it here.
    const shared = before && pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: before });
    if (shared && existsSync(shared)) copyFileSync(shared, join(images, basename(shared)));
    process.env[PGLITE_IMAGES_ENV] = images;
    const first = await openStore({ url: 'memory://', secret });
    await rawStore(first).query(
      `INSERT INTO kv (shop_id, key, value, updated_at) VALUES ('shop', 'left', 'behind', now())`,
    );
    await first.close();
    const made = readdirSync(images);
    expect(made).toEqual([expect.stringMatching(/^pglite-[0-9a-f]{16}\.tar$/)]);

    const folder = join(mkdtempSync(join(tmpdir(), 'tactful-image-db-')), 'db');
    for (const url of ['memory://', folder]) {
      const store = await openStore({ url, secret });
      const raw = rawStore(store);
      expect(await raw.query('SELECT count(*)::int AS n FROM kv')).toEqual([{ n: 0 }]);
      const applied = await raw.query<{ n: number }>('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
      expect(applied).toEqual([{ n: journal.entries.length }]);
      await store.close();
    }
    expect(existsSync(join(folder, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(images)).toEqual(made);
  });
});

describe('embedded shared buffers', () => {
  const show = async (store: Awaited<ReturnType<typeof openStore>>) =>
    (await rawStore(store).query<{ shared_buffers: string }>('SHOW shared_buffers'))[0]?.shared_buffers;

  it('start small unless asked otherwise, from the option or the environment', async () => {
    const envBefore = process.env.TACTFUL_PGLITE_SHARED_BUFFERS;
    try {
      delete process.env.TACTFUL_PGLITE_SHARED_BUFFERS;
      const plain = await openStore({ url: 'memory://', secret });
      expect(await show(plain)).toBe('32MB');
      await plain.close();
      // Any size but the default shows the option is honoured; a large one would cost its whole size in fresh pages.
      const asked = await openStore({ url: 'memory://', secret, sharedBuffers: '48MB' });
      expect(await show(asked)).toBe('48MB');
      await asked.close();
      process.env.TACTFUL_PGLITE_SHARED_BUFFERS = '16 mb';
      const fromEnv = await openStore({ url: 'memory://', secret });
      expect(await show(fromEnv)).toBe('16MB');
      await fromEnv.close();
    } finally {
      if (envBefore === undefined) delete process.env.TACTFUL_PGLITE_SHARED_BUFFERS;
      else process.env.TACTFUL_PGLITE_SHARED_BUFFERS = envBefore;
    }
  });

  it('sizes are read in MB or GB, up to 1GB, and handed to PostgreSQL in MB', () => {
    expect(pgliteSharedBuffers('1GB')).toBe('1024MB');
    expect(pgliteSharedBuffers(' 8 mb ')).toBe('8MB');
    expect(pgliteSharedBuffers(undefined)).toBe('32MB');
    expect(() => pgliteSharedBuffers('1025MB')).toThrow(/from 8MB to 1GB/);
  });

  it('a size PostgreSQL would refuse, or none at all, is a configuration error naming the setting; no folder is made', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'tactful-buffers-')), 'db');
    for (const sharedBuffers of ['4MB', '2GB', 'lots', '32', '-1MB']) {
      await expect(openStore({ url: folder, secret, sharedBuffers })).rejects.toMatchObject({
        code: 'CONFIG.INVALID',
        message: expect.stringContaining('TACTFUL_PGLITE_SHARED_BUFFERS'),
      });
    }
    expect(existsSync(folder)).toBe(false);
  });
});
