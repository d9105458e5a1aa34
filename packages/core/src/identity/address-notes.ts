import { and, eq, inArray } from 'drizzle-orm';
import type { Db } from '../store/open.js';
import { subjects } from '../store/schema.js';
import { parseEmail } from './email.js';
import { EMAIL, holdersOf, identifierIndex, type IdentityKeys } from './identifiers.js';

/**
 * What a system's report of its customers' addresses (customers/update) means, for many customers with two
 * queries: `unknown` when nobody holds the id now (or the holder was erased), `unchanged` when the holder's
 * current address is the reported one, `check` when the address may have changed (noteCustomerAddress decides,
 * one at a time). Writes nothing; an invalid address throws as noteCustomerAddress does.
 */
export async function addressNoteStates(
  db: Db,
  ctx: IdentityKeys,
  system: string,
  notes: ReadonlyArray<{ externalId: string; email: string }>,
): Promise<Array<'unknown' | 'unchanged' | 'check'>> {
  if (notes.length === 0) return [];
  const asked = notes.map((n) => ({
    id: identifierIndex(ctx, system, n.externalId),
    email: identifierIndex(ctx, EMAIL, parseEmail(n.email)),
  }));
  const holders = await holdersOf(
    db,
    ctx.shopId,
    asked.map((a) => a.id),
  );
  const held = [...new Set([...holders.values()].filter((h) => h.current).map((h) => h.subjectId))];
  const current = new Map<string, Buffer | null>();
  for (let i = 0; i < held.length; i += 1000) {
    for (const row of await db
      .select({ subjectId: subjects.subjectId, emailIndex: subjects.emailIndex, wrappedKey: subjects.wrappedKey })
      .from(subjects)
      .where(and(eq(subjects.shopId, ctx.shopId), inArray(subjects.subjectId, held.slice(i, i + 1000)))))
      current.set(row.subjectId, row.wrappedKey ? row.emailIndex : null);
  }
  return asked.map((a) => {
    const holder = holders.get(a.id.toString('hex'));
    const index = holder?.current ? current.get(holder.subjectId) : undefined;
    if (!index) return 'unknown';
    return index.equals(a.email) ? 'unchanged' : 'check';
  });
}
