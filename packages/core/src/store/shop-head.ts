import { eq } from 'drizzle-orm';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from './open.js';
import { shops } from './schema.js';

/**
 * The heads of a shop's two hash chains, read under a row lock. Every append to the ledger or the audit
 * log of one shop runs in a transaction that holds this lock, so sequence numbers never collide across
 * app instances; `saveShopHead` writes the new heads before commit.
 */
export interface ShopHead {
  /** The shop's wrapped key, as the locked row holds it (the keys in use must be this key's). */
  readonly wrappedKey: Buffer;
  ledgerSeq: number;
  ledgerHead: string;
  auditSeq: number;
  auditHead: string;
  dirty: boolean;
}

export async function lockShopHead(tx: Db, shopId: string): Promise<ShopHead> {
  const [row] = await tx
    .select({
      wrappedKey: shops.wrappedKey,
      ledgerSeq: shops.ledgerSeq,
      ledgerHead: shops.ledgerHead,
      auditSeq: shops.auditSeq,
      auditHead: shops.auditHead,
    })
    .from(shops)
    .where(eq(shops.shopId, shopId))
    .for('update');
  if (!row) throw new TactfulError('STORE.SHOP_MISSING', `Shop ${shopId} does not exist yet.`);
  return { ...row, dirty: false };
}

export async function saveShopHead(tx: Db, shopId: string, head: ShopHead): Promise<void> {
  if (!head.dirty) return;
  await tx
    .update(shops)
    .set({ ledgerSeq: head.ledgerSeq, ledgerHead: head.ledgerHead, auditSeq: head.auditSeq, auditHead: head.auditHead })
    .where(eq(shops.shopId, shopId));
  head.dirty = false;
}
