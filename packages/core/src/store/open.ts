import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { TactfulError } from '../errors/tactful-error.js';
import { loadOrCreateSecretFile, parseMasterSecret } from '../crypto/master-secret.js';
import { collectGarbage } from './collect-garbage.js';
import { lockFolder, type FolderLock } from './folder-lock.js';
import { makePgliteImage } from './make-image.js';
import { PGLITE_IMAGES_ENV, pgliteImagePath } from './pglite-image.js';
import { shareDrizzleParsers } from './pglite-parsers.js';
import { makeThrowawayFolder } from './throwaway-folder.js';
import { unpackPgliteImage } from './unpack-image.js';
import { schema } from './schema.js';

export type Schema = typeof schema;
/** A Drizzle database over either driver; repositories take this (or a transaction of it). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/**
 * An open store, as an application holds it: where it is, and closing it. Everything else goes through the
 * engine (`createTactful`); raw SQL is for tests, from `@tactful/core/testing` (`rawStore`).
 */
export interface Store {
  readonly kind: 'pglite' | 'postgres';
  /** Where the data lives: the folder, `memory://`, or the URL with its password masked. */
  readonly location: string;
  /**
   * Closes the store. With `discardIfNew`, an embedded folder that this open created (there was none) is removed,
   * with the secret file made beside it, before the folder's claim is released: a command that failed on a new
   * folder leaves no database behind. An existing folder, `memory://` and PostgreSQL are only closed.
   */
  close(options?: { discardIfNew?: boolean }): Promise<void>;
}

/** What only core (and tests, through `rawStore`) may touch: the database itself and the master secret. */
export interface RawStore extends Store {
  readonly db: Db;
  /** The app's master secret, which wraps every shop key. */
  readonly masterKey: Buffer;
  /** Runs raw SQL (tests, benchmarks). Rows as plain objects. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/** The database behind a store opened by `openStore` (core's own access; tests use `rawStore` from /testing). */
export function rawStore(store: Store): RawStore {
  const raw = store as Partial<RawStore>;
  if (!raw.db || !raw.masterKey || typeof raw.query !== 'function')
    throw new TactfulError('CONFIG.INVALID', 'This store was not opened by openStore: open it with openStore.');
  return store as RawStore;
}

export interface OpenStoreOptions {
  /**
   * A folder (PGlite on disk), `memory://` (a throwaway PGlite database, gone when the store closes) or
   * `postgres://…` / `postgresql://…`.
   */
  url?: string;
  /** The master secret (hex or base64). Defaults to `TACTFUL_SECRET`, else a file beside a PGlite folder. */
  secret?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /**
   * Embedded folder only: delete the database and its generated secret first, once this process holds the
   * folder's lock, so a database another process has open is never wiped from under it.
   */
  fresh?: boolean;
  /**
   * Embedded only: PostgreSQL's `shared_buffers` inside PGlite (`8MB` … `1GB`). Defaults to
   * `TACTFUL_PGLITE_SHARED_BUFFERS`, else {@link DEFAULT_PGLITE_SHARED_BUFFERS}.
   */
  sharedBuffers?: string;
  /**
   * Embedded only: told when a new database has to be created in this process after all (its image could not be
   * made or unpacked, see pglite-image.ts). Defaults to a process warning.
   */
  warn?: (message: string) => void;
}

/**
 * PGlite's PostgreSQL starts with 128 MB of shared buffers, which it zeroes on every start: two thirds of the
 * CPU of opening a folder. An embedded store's pages also sit in the operating system's cache (a folder) or
 * are memory already (memory://), so a smaller pool costs little and every open is about three times cheaper
 * (`npm run bench -- store-open`).
 */
export const DEFAULT_PGLITE_SHARED_BUFFERS = '32MB';

export const DEFAULT_STORE_URL = '.tactful/db';

/** Opens the store at `url` and applies the committed migrations before returning. */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const url = (options.url ?? DEFAULT_STORE_URL).trim();
  if (url === '')
    throw new TactfulError(
      'CONFIG.INVALID',
      'The database location is empty: pass a folder, memory:// or a postgres:// URL.',
    );
  const secret = options.secret ?? process.env.TACTFUL_SECRET;
  if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, secret, options.maxConnections ?? 10);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && url !== 'memory://') {
    throw new TactfulError(
      'CONFIG.INVALID',
      `Unknown database URL scheme in "${url}": use a folder path, memory:// or postgres://.`,
    );
  }
  const sharedBuffers = pgliteSharedBuffers(options.sharedBuffers ?? process.env.TACTFUL_PGLITE_SHARED_BUFFERS);
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, 'TactfulWarning'));
  if (url === 'memory://') return openPglite(url, undefined, secret, sharedBuffers, warn);
  // PGlite is one process's database: a second process on the same folder would overwrite its pages.
  const folder = resolve(url);
  const lock = lockFolder(folder);
  try {
    if (options.fresh) {
      rmSync(folder, { recursive: true, force: true });
      rmSync(`${folder}.secret`, { force: true });
    }
    // Judged under the claim: no other process makes this folder's database meanwhile.
    const isNew = !existsSync(folder);
    return await openPglite(url, { folder, lock, isNew }, secret, sharedBuffers, warn);
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** A `shared_buffers` size PostgreSQL accepts, between 8MB and 1GB; anything else is a configuration error. */
export function pgliteSharedBuffers(value: string | undefined): string {
  const size = (value ?? '').trim() || DEFAULT_PGLITE_SHARED_BUFFERS;
  const match = /^(\d+)\s*(MB|GB)$/i.exec(size);
  const mb = match ? Number(match[1]) * (match[2]!.toUpperCase() === 'GB' ? 1024 : 1) : Number.NaN;
  if (!(mb >= 8 && mb <= 1024))
    throw new TactfulError(
      'CONFIG.INVALID',
      `The embedded database's shared buffers "${size}" (TACTFUL_PGLITE_SHARED_BUFFERS) is not a size from 8MB to 1GB: write it like 32MB.`,
    );
  return `${mb}MB`;
}

async function openPglite(
  url: string,
  embedded: { folder: string; lock: FolderLock; isNew: boolean } | undefined,
  secret: string | undefined,
  sharedBuffers: string,
  warn: (message: string) => void,
): Promise<RawStore> {
  const { PGlite, types } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const folder = embedded?.folder;
  const secretFile = folder && !secret && !existsSync(`${folder}.secret`) ? `${folder}.secret` : undefined;
  const masterKey = secret
    ? parseMasterSecret(secret)
    : folder
      ? loadOrCreateSecretFile(`${folder}.secret`)
      : (await import('node:crypto')).randomBytes(32);
  // memory:// is a folder of its own too, thrown away on close (see throwaway-folder.ts).
  const throwaway = folder ? undefined : makeThrowawayFolder();
  const dataDir = folder ?? join(throwaway!.path, 'pgdata');
  const migrations = migrationsFolder();
  let client: InstanceType<typeof PGlite>;
  let createdHere = false;
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) createdHere = !(await createFromImage(dataDir, migrations, warn));
    const startParams = [...PGlite.defaultStartParams, '-c', `shared_buffers=${sharedBuffers}`];
    client = new PGlite(dataDir, { startParams });
    await client.waitReady;
  } catch (cause) {
    throwaway?.remove();
    throw new TactfulError(
      'STORE.OPEN_FAILED',
      `Could not open the embedded database at ${folder ?? url}: ${(cause as Error).message}.`,
      { cause },
    );
  }
  const { forDrizzle, ownParsers } = shareDrizzleParsers(client, types.arrayParser);
  const db = drizzle({ client: forDrizzle, schema }) as unknown as Db;
  try {
    await migrate(db as never, { migrationsFolder: migrations });
  } catch (error) {
    await client.close().catch(() => undefined);
    throwaway?.remove();
    throw error;
  }
  // initdb ran here, in WebAssembly instances of its own, closed now but ~450 MB until V8 collects them, which an
  // idle server never makes it do: the app idle on a new database would hold twice what it needs.
  if (createdHere) await collectGarbage();
  return {
    db,
    kind: 'pglite',
    location: folder ?? 'memory://',
    masterKey,
    async query(text, params) {
      const result = await client.query(text, params as unknown[] | undefined, { parsers: ownParsers });
      return result.rows as never;
    },
    async close(options) {
      try {
        if (!client.closed) await client.close();
        if (options?.discardIfNew && embedded?.isNew) {
          rmSync(embedded.folder, { recursive: true, force: true });
          if (secretFile) rmSync(secretFile, { force: true });
        }
      } finally {
        throwaway?.remove();
        embedded?.lock.release();
      }
    },
  };
}

/**
 * Puts a migrated, empty database at `dataDir` from the image (pglite-image.ts), making the image first in a child
 * process when there is none. A damaged image is removed and made again in the child, once. False when none of
 * that can be done: then PGlite creates the database in this process (initdb, ~800 MB at its peak), as it did
 * before images, and `warn` says why.
 */
async function createFromImage(dataDir: string, migrations: string, warn: (message: string) => void) {
  const imagePath = pgliteImagePath(migrations);
  if (!imagePath) return false;
  for (let remade = false; ; remade = true) {
    if (!existsSync(imagePath)) {
      const made = await makePgliteImage(imagePath, migrations);
      if (!made.made) {
        warn(
          `Could not make the embedded database's image ${imagePath} in a child process (${made.reason}): creating the database in this process instead, which needs about 0.8 GB while it runs. Set ${PGLITE_IMAGES_ENV} to a folder this user can write to.`,
        );
        return false;
      }
    }
    try {
      unpackPgliteImage(imagePath, dataDir);
      return true;
    } catch (error) {
      // Images are renamed into place whole, so a damaged one was damaged since: it is made again. (An error with
      // a code is the file system's, about the data folder: the image is kept.)
      const damaged = !(error as NodeJS.ErrnoException).code;
      if (damaged) rmSync(imagePath, { force: true });
      if (damaged && !remade) {
        warn(
          `The embedded database's image ${imagePath} was damaged (${(error as Error).message}): it was removed and is made again.`,
        );
        continue;
      }
      warn(
        `Could not unpack the embedded database's image ${imagePath} (${(error as Error).message}): creating the database in this process instead${damaged ? '; the damaged image was removed' : ''}.`,
      );
      return false;
    }
  }
}

async function openPostgres(url: string, secret: string | undefined, max: number): Promise<RawStore> {
  if (!secret) {
    throw new TactfulError(
      'CONFIG.INVALID',
      'TACTFUL_SECRET is required with a PostgreSQL database: set it to 64 hex characters and keep it safe (it unlocks every shop key).',
    );
  }
  const masterKey = parseMasterSecret(secret);
  const pg = (await import('pg')).default;
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  // timestamptz and bigint come back as Date / number through Drizzle's column mappers.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {
    /* an idle client lost its connection; the next checkout reconnects */
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (cause) {
    await pool.end().catch(() => undefined);
    throw new TactfulError(
      'STORE.OPEN_FAILED',
      `Could not connect to PostgreSQL at ${maskUrl(url)}: ${(cause as Error).message}.`,
      { cause },
    );
  }
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  // Several app instances may start at once: one applies the migrations, the others wait for it.
  const lock = await pool.connect();
  try {
    await lock.query('select pg_advisory_lock(7337001)');
    await migrate(db as never, { migrationsFolder: migrationsFolder() });
  } finally {
    await lock.query('select pg_advisory_unlock(7337001)').catch(() => undefined);
    lock.release();
  }
  return {
    db,
    kind: 'postgres',
    location: maskUrl(url),
    masterKey,
    async query(text, params) {
      const result = await pool.query(text, params as unknown[] | undefined);
      return result.rows as never;
    },
    async close() {
      await pool.end();
    },
  };
}

function maskUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/** The committed drizzle-kit migrations: `packages/core/drizzle`, from the sources or from dist. */
export function migrationsFolder(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'drizzle');
    if (existsSync(join(candidate, 'meta', '_journal.json'))) return candidate;
    dir = dirname(dir);
  }
  throw new TactfulError(
    'STORE.MIGRATIONS_MISSING',
    'The migrations folder of @tactful/core was not found: reinstall the package.',
  );
}

/** Helper for repositories: the rows of a raw `sql` query on either driver. */
export async function rows<T>(db: Db, query: ReturnType<typeof sql>): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
