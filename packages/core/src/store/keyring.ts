/**
 * Keys per shop and per subject. Each subject's direct identifiers are encrypted under that subject's own
 * data key, wrapped by the shop key, itself wrapped by the master secret. Erasing a subject destroys the
 * wrapped key: every copy of its ciphertext — dead row versions, WAL, backups — becomes unreadable.
 */
import { and, eq } from 'drizzle-orm';
import { TactfulError } from '../errors/tactful-error.js';
import type { Db } from './open.js';
import { shops, subjects } from './schema.js';
import { decrypt, deriveKey, encrypt, hmac, newKey } from '../crypto/cipher.js';

export interface ShopKeys {
  /** Wraps subject keys and encrypts shop-level secrets (outbox payloads, sessions). */
  readonly shopKey: Buffer;
  /** Keys the blind index of emails. */
  readonly indexKey: Buffer;
  /** Signs double opt-in and unsubscribe tokens. */
  readonly tokenKey: Buffer;
  /** The shop row's wrapped key these keys come from: a shop erased and created again has another. */
  readonly wrapped: Buffer;
}

/** How long a shop's cached keys are used before its row is read again (see `KeyRing.shop`). */
export const SHOP_KEY_RECHECK_MS = 1_000;

export class KeyRing {
  private readonly shopCache = new Map<string, { keys: ShopKeys; checkedAt: number }>();
  private readonly subjectCache = new Map<string, Buffer | null>();

  /** `clock`: milliseconds, for how long cached shop keys are used before a look at the row (a monotonic clock). */
  constructor(
    private readonly masterKey: Buffer,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Creates the shop on first use (with a fresh key) and returns its keys. They are cached, and the shop row is
   * read again once `SHOP_KEY_RECHECK_MS` have passed: another instance may have erased the shop (`shop/redact`
   * deletes its row and key) and a new install made a new key, and this instance must then stop using the erased
   * one. Work under the shop's lock compares at once (`withShopTransaction`).
   */
  async shop(db: Db, shopId: string, now = new Date()): Promise<ShopKeys> {
    const cached = this.shopCache.get(shopId);
    if (cached && this.clock() - cached.checkedAt < SHOP_KEY_RECHECK_MS) return cached.keys;
    let [row] = await db.select({ wrappedKey: shops.wrappedKey }).from(shops).where(eq(shops.shopId, shopId));
    if (cached && row?.wrappedKey.equals(cached.keys.wrapped)) {
      cached.checkedAt = this.clock();
      return cached.keys;
    }
    // Erased since (and perhaps created again): nothing this ring holds of the shop is used again.
    if (cached) this.forgetShop(shopId);
    if (!row) {
      const wrapped = encrypt(this.masterKey, newKey(), `shop:${shopId}`);
      await db.insert(shops).values({ shopId, wrappedKey: wrapped, createdAt: now }).onConflictDoNothing();
      [row] = await db.select({ wrappedKey: shops.wrappedKey }).from(shops).where(eq(shops.shopId, shopId));
    }
    if (!row) throw new TactfulError('STORE.SHOP_MISSING', `Shop ${shopId} could not be created.`);
    const shopKey = decrypt(this.masterKey, row.wrappedKey, `shop:${shopId}`);
    const keys: ShopKeys = {
      shopKey,
      indexKey: deriveKey(shopKey, 'tactful/email-index/v1'),
      tokenKey: deriveKey(shopKey, 'tactful/tokens/v1'),
      wrapped: row.wrappedKey,
    };
    this.shopCache.set(shopId, { keys, checkedAt: this.clock() });
    return keys;
  }

  emailIndex(keys: ShopKeys, normalisedEmail: string): Buffer {
    return hmac(keys.indexKey, normalisedEmail);
  }

  newSubjectKey(keys: ShopKeys, shopId: string, subjectId: string): { key: Buffer; wrapped: Buffer } {
    const key = newKey();
    return { key, wrapped: encrypt(keys.shopKey, key, `subject:${shopId}:${subjectId}`) };
  }

  /** Unwraps a subject key read from the subjects table (and caches it). */
  unwrapSubjectKey(keys: ShopKeys, shopId: string, subjectId: string, wrapped: Buffer | null): Buffer | null {
    const cacheKey = `${shopId}\u0000${subjectId}`;
    // A subject's key never changes while they have one (erasure and merging destroy it; nothing replaces it): a
    // key met before is the one this row wraps. A row without one (erased) is believed over the cache.
    const known = wrapped ? this.subjectCache.get(cacheKey) : undefined;
    if (known) return known;
    const key = wrapped ? decrypt(keys.shopKey, wrapped, `subject:${shopId}:${subjectId}`) : null;
    this.remember(cacheKey, key);
    return key;
  }

  /** The subject's data key, or null when the subject was erased (its key destroyed). */
  async subjectKey(db: Db, shopId: string, subjectId: string): Promise<Buffer | null> {
    const cacheKey = `${shopId}\u0000${subjectId}`;
    if (this.subjectCache.has(cacheKey)) return this.subjectCache.get(cacheKey) ?? null;
    const keys = await this.shop(db, shopId);
    const [row] = await db
      .select({ wrappedKey: subjects.wrappedKey })
      .from(subjects)
      .where(and(eq(subjects.shopId, shopId), eq(subjects.subjectId, subjectId)));
    const key = row?.wrappedKey ? decrypt(keys.shopKey, row.wrappedKey, `subject:${shopId}:${subjectId}`) : null;
    this.remember(cacheKey, key);
    return key;
  }

  rememberSubjectKey(shopId: string, subjectId: string, key: Buffer | null): void {
    this.remember(`${shopId}\u0000${subjectId}`, key);
  }

  forgetSubject(shopId: string, subjectId: string): void {
    this.subjectCache.delete(`${shopId}\u0000${subjectId}`);
  }

  forgetShop(shopId: string): void {
    this.shopCache.delete(shopId);
    for (const key of this.subjectCache.keys()) if (key.startsWith(`${shopId}\u0000`)) this.subjectCache.delete(key);
  }

  private remember(cacheKey: string, key: Buffer | null): void {
    if (this.subjectCache.size > 50_000) this.subjectCache.clear();
    this.subjectCache.set(cacheKey, key);
  }
}

/** Encrypts a subject's personal value; binds it to the subject and the field. */
export function sealForSubject(key: Buffer, shopId: string, subjectId: string, field: string, value: string): Buffer {
  return encrypt(key, value, `${shopId}:${subjectId}:${field}`);
}

export function openForSubject(key: Buffer, shopId: string, subjectId: string, field: string, sealed: Buffer): string {
  return decrypt(key, sealed, `${shopId}:${subjectId}:${field}`).toString('utf8');
}
