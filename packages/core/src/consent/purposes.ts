import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { appendAudit, type Actor } from '../audit/log.js';
import { parseOrThrow } from '../errors/zod.js';
import type { Db } from '../store/open.js';
import { purposes, purposeVersions } from '../store/schema.js';
import type { ShopHead } from '../store/shop-head.js';
import { purposeKey } from './event.js';

/** A purpose of processing, pointing at the exact clause of the store's terms that asks for it. */
export const purposeDefinition = z
  .object({
    key: purposeKey,
    title: z.string().trim().min(1).max(200),
    description: z.string().max(2000).default(''),
    documentUrl: z.url({ protocol: /^https?$/, error: 'documentUrl must be an http(s) URL of the terms document' }),
    clause: z.string().trim().min(1).max(256),
    version: z.string().trim().min(1).max(64),
  })
  .strict();
export type PurposeDefinition = z.output<typeof purposeDefinition>;
export type PurposeInput = z.input<typeof purposeDefinition>;

export interface Purpose extends PurposeDefinition {
  updatedAt: Date;
}

/** The two purposes every shop starts with; the store owner points them at their own terms. */
export function defaultPurposes(shopId: string): PurposeDefinition[] {
  const documentUrl = `https://${shopId}/policies/privacy-policy`;
  return [
    {
      key: 'email_marketing',
      title: 'Email offers',
      description: 'May we email you offers and product news?',
      documentUrl,
      clause: 'Marketing communications',
      version: '1',
    },
    {
      key: 'personalization',
      title: 'Personal recommendations',
      description: 'May we use your purchases to choose the products we show and send you?',
      documentUrl,
      clause: 'Personalisation',
      version: '1',
    },
  ];
}

export async function listPurposes(db: Db, shopId: string): Promise<Purpose[]> {
  const found = await db.select().from(purposes).where(eq(purposes.shopId, shopId)).orderBy(asc(purposes.key));
  return found.map(({ shopId: _shop, ...p }) => p);
}

export async function getPurpose(db: Db, shopId: string, key: string): Promise<Purpose | null> {
  const [row] = await db
    .select()
    .from(purposes)
    .where(and(eq(purposes.shopId, shopId), eq(purposes.key, key)));
  if (!row) return null;
  const { shopId: _shop, ...p } = row;
  return p;
}

/**
 * Defines or updates a purpose. A new clause version is recorded in `purpose_versions` and the audit log,
 * so consent given under an earlier version stays provable.
 */
export async function definePurpose(
  tx: Db,
  shopId: string,
  head: ShopHead,
  input: PurposeInput,
  actor: Actor,
  now: Date,
): Promise<{ purpose: Purpose; newVersion: boolean }> {
  const def = parseOrThrow(purposeDefinition, input, 'CONSENT.INVALID', 'purpose');
  const existing = await getPurpose(tx, shopId, def.key);
  await tx
    .insert(purposes)
    .values({ shopId, ...def, updatedAt: now })
    .onConflictDoUpdate({ target: [purposes.shopId, purposes.key], set: { ...def, updatedAt: now } });
  const inserted = await tx
    .insert(purposeVersions)
    .values({
      shopId,
      key: def.key,
      version: def.version,
      documentUrl: def.documentUrl,
      clause: def.clause,
      recordedAt: now,
    })
    .onConflictDoNothing()
    .returning({ version: purposeVersions.version });
  const newVersion = inserted.length > 0;
  if (!existing) {
    await appendAudit(tx, shopId, head, {
      action: 'purpose.defined',
      actor,
      at: now,
      details: { purpose: def.key, version: def.version, clause: def.clause, documentUrl: def.documentUrl },
    });
  } else if (newVersion) {
    await appendAudit(tx, shopId, head, {
      action: 'purpose.version_recorded',
      actor,
      at: now,
      details: {
        purpose: def.key,
        version: def.version,
        previousVersion: existing.version,
        clause: def.clause,
        documentUrl: def.documentUrl,
      },
    });
  }
  return { purpose: { ...def, updatedAt: now }, newVersion };
}
