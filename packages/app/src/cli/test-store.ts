import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { uniqueShop } from '@tactful/core/testing';

/** Where a CLI command test keeps the data its commands read and write. */
export interface CommandTestStore {
  /** The `--db` every command of the file is given. */
  db: string;
  /** A shop of the file's own: on a shared PostgreSQL, rows of other files and earlier runs never show. */
  shop: string;
  /** The environment every command and every direct open needs (the master secret on PostgreSQL). */
  env: Record<string, string>;
  /** The secret for `openStore` beside the commands: undefined on a folder, which keeps its own secret file. */
  secret: string | undefined;
  kind: 'postgres' | 'folder';
  /** A temporary folder of the file's own, for its CSV files and for tests about folders themselves. */
  dir: string;
  remove(): void;
}

/**
 * The database a file of CLI command tests runs its commands on: the PostgreSQL server when `DATABASE_URL` is set
 * (CI always sets it), else an embedded folder, as on a user's first run. Every command opens the store and closes
 * it again; on PostgreSQL an open is a connection pool, on a folder it starts PGlite (about half a CPU-second in a
 * process that has started it before, and these files run some 150 commands). Both are real stores behind the same
 * `--db` code; the folder's own behaviour (a refused command leaves no new folder behind, the secret file beside it,
 * the lock between processes) is tested on folders of its own, in these files and in test/embedded-lock.
 */
export function commandTestStore(prefix: string): CommandTestStore {
  const dir = mkdtempSync(join(tmpdir(), `tactful-${prefix}-`));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const url = process.env.DATABASE_URL;
  if (url) {
    const secret = randomBytes(32).toString('hex');
    return {
      db: url,
      shop: uniqueShop(prefix),
      env: { TACTFUL_SECRET: secret },
      secret,
      kind: 'postgres',
      dir,
      remove,
    };
  }
  return {
    db: join(dir, 'db'),
    shop: `${prefix}.myshopify.com`,
    env: {},
    secret: undefined,
    kind: 'folder',
    dir,
    remove,
  };
}
