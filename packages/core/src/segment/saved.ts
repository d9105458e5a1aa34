/** Saved segments: named definitions kept per shop (not personal data); members are always computed. */
import { and, asc, eq } from 'drizzle-orm';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from '../store/open.js';
import { segments } from '../store/schema.js';
import { parseSegment, type Segment } from './language.js';

const segmentName = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export async function saveSegment(
  db: Db,
  shopId: string,
  name: string,
  definition: unknown,
  at: Date,
): Promise<Segment> {
  if (!segmentName.test(name))
    throw new TactfulError(
      'SEGMENT.INVALID',
      `"${name}" is not a segment name: use lower-case letters, digits, - and _ (64 at most).`,
    );
  const segment = parseSegment(definition);
  await db
    .insert(segments)
    .values({ shopId, name, definition: segment, updatedAt: at })
    .onConflictDoUpdate({ target: [segments.shopId, segments.name], set: { definition: segment, updatedAt: at } });
  return segment;
}

export async function listSegments(
  db: Db,
  shopId: string,
): Promise<Array<{ name: string; definition: Segment; updatedAt: Date }>> {
  const found = await db.select().from(segments).where(eq(segments.shopId, shopId)).orderBy(asc(segments.name));
  return found.map((r) => ({ name: r.name, definition: parseSegment(r.definition), updatedAt: r.updatedAt }));
}

export async function deleteSegment(db: Db, shopId: string, name: string): Promise<boolean> {
  const gone = await db
    .delete(segments)
    .where(and(eq(segments.shopId, shopId), eq(segments.name, name)))
    .returning({ name: segments.name });
  return gone.length > 0;
}
