import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTactful, openStore, TactfulError, type Tactful } from '@tactful/core';
import type { CliContext } from './program.js';

/** A --db that cannot be a database is refused in one line before anything opens it. */
export function checkDbTarget(ctx: CliContext, db: string): void {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) return;
  const path = resolve(ctx.io.cwd, db);
  if (existsSync(path) && !statSync(path).isDirectory())
    throw new TactfulError(
      'INPUT.INVALID',
      `--db ${db} is a file, not a database: give a folder (embedded PGlite, created when missing), memory:// or a postgres:// URL.`,
    );
}

/**
 * Opens the store named by `--db`, wires the engine for `--shop`, runs `work`, and always closes the store. A
 * command that fails on a folder it created (a mistyped --db, bad input refused by the engine) removes that new
 * database again: a refused command changes nothing.
 */
export async function withEngine<T>(ctx: CliContext, work: (tactful: Tactful) => Promise<T>): Promise<T> {
  const { db, shop } = ctx.globals();
  checkDbTarget(ctx, db);
  const store = await openStore({ url: db, secret: ctx.io.env.TACTFUL_SECRET });
  let failed = true;
  try {
    const tactful = await createTactful({ store, shop });
    const result = await work(tactful);
    failed = false;
    return result;
  } finally {
    await store.close({ discardIfNew: failed });
  }
}
