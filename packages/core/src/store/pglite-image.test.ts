import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, rawStore } from './open.js';
import { PGLITE_IMAGES_ENV, pgliteImagePath } from './pglite-image.js';

const migrations = join(dirname(fileURLToPath(import.meta.url)), '../../drizzle');
const secret = 'ab'.repeat(32);
const journal = JSON.parse(readFileSync(join(migrations, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };
const before = process.env[PGLITE_IMAGES_ENV];

afterEach(() => {
  if (before === undefined) delete process.env[PGLITE_IMAGES_ENV];
  else process.env[PGLITE_IMAGES_ENV] = before;
});

describe('migrated PGlite images', () => {
  it('are off unless the folder is named', () => {
    expect(pgliteImagePath(migrations, {})).toBeUndefined();
    expect(pgliteImagePath(migrations, { [PGLITE_IMAGES_ENV]: '  ' })).toBeUndefined();
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
