import { createTactful, openStore, type Tactful } from '@tactful/core';
import type { CliContext } from './program.js';

/** Opens the store named by `--db`, wires the engine for `--shop`, runs `work`, and always closes the store. */
export async function withEngine<T>(ctx: CliContext, work: (tactful: Tactful) => Promise<T>): Promise<T> {
  const { db, shop } = ctx.globals();
  const store = await openStore({ url: db, secret: ctx.io.env.TACTFUL_SECRET });
  try {
    const tactful = await createTactful({ store, shop });
    return await work(tactful);
  } finally {
    await store.close();
  }
}
