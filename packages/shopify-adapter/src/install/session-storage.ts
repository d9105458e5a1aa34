/**
 * Where install sessions (the shop's access tokens) live. The interface matches what
 * @shopify/shopify-app-express expects of a session storage, plus `deleteSessionsByShop` for
 * app/uninstalled. `createEncryptedSessionStorage` keeps every session encrypted at rest (AES-256-GCM) in
 * any key-value store — Tactful's database in the app.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { TactfulError } from '@tactful/core';
import { Session } from '@shopify/shopify-api';

export interface ShopifySessionStorage {
  storeSession(session: Session): Promise<boolean>;
  loadSession(id: string): Promise<Session | undefined>;
  deleteSession(id: string): Promise<boolean>;
  deleteSessionsByShop(shop: string): Promise<boolean>;
  findSessionsByShop(shop: string): Promise<Session[]>;
}

export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys starting with `prefix`. */
  list(prefix: string): Promise<string[]>;
}

/** Sessions as plain data (dates as ISO strings), safe to serialise. */
function toRecord(session: Session): Record<string, unknown> {
  const data = session.toObject() as Record<string, unknown>;
  return {
    ...data,
    expires: session.expires?.toISOString(),
    refreshTokenExpires: session.refreshTokenExpires?.toISOString(),
  };
}

function fromRecord(record: Record<string, unknown>): Session {
  const params = { ...record } as Record<string, unknown>;
  params.expires = typeof record.expires === 'string' ? new Date(record.expires) : undefined;
  params.refreshTokenExpires =
    typeof record.refreshTokenExpires === 'string' ? new Date(record.refreshTokenExpires) : undefined;
  for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
  return new Session(params as unknown as ConstructorParameters<typeof Session>[0]);
}

/** An in-memory key-value store (tests, the demo). */
export function memoryKeyValueStore(): KeyValueStore & { readonly data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    async get(key) {
      return data.get(key) ?? null;
    },
    async set(key, value) {
      data.set(key, value);
    },
    async delete(key) {
      data.delete(key);
    },
    async list(prefix) {
      return [...data.keys()].filter((k) => k.startsWith(prefix));
    },
  };
}

const VERSION = 'v1';

function seal(key: Buffer, name: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(name, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

function open(key: Buffer, name: string, sealed: string): string {
  const [version, payload] = sealed.split(':');
  if (version !== VERSION || !payload)
    throw new TactfulError('SHOPIFY.SESSION_UNREADABLE', `Session ${name} is not in a format this version reads.`);
  const bytes = Buffer.from(payload, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
    decipher.setAAD(Buffer.from(name, 'utf8'));
    decipher.setAuthTag(bytes.subarray(12, 28));
    return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8');
  } catch (cause) {
    throw new TactfulError(
      'SHOPIFY.SESSION_UNREADABLE',
      `Session ${name} cannot be decrypted: the key changed or the row was altered. Reinstall the app for this shop.`,
      { cause },
    );
  }
}

/**
 * Session storage over a key-value store, every session sealed with AES-256-GCM under `key` (32 bytes),
 * bound to its own key name so a sealed value cannot be moved to another session.
 * Keys: `shopify:session:<id>` (sealed) and `shopify:shop:<shop>:<id>` (an index, no secret).
 */
export function createEncryptedSessionStorage(kv: KeyValueStore, key: Buffer): ShopifySessionStorage {
  if (!Buffer.isBuffer(key) || key.length !== 32) {
    throw new TactfulError(
      'CONFIG.INVALID',
      'The session encryption key must be 32 bytes (e.g. derived from TACTFUL_SECRET).',
    );
  }
  const sessionKey = (id: string) => `shopify:session:${id}`;
  const shopKey = (shop: string, id = '') => `shopify:shop:${shop.toLowerCase()}:${id}`;
  const storage: ShopifySessionStorage = {
    async storeSession(session) {
      const name = sessionKey(session.id);
      await kv.set(name, seal(key, name, JSON.stringify(toRecord(session))));
      await kv.set(shopKey(session.shop, session.id), '');
      return true;
    },
    async loadSession(id) {
      const name = sessionKey(id);
      const sealed = await kv.get(name);
      return sealed ? fromRecord(JSON.parse(open(key, name, sealed)) as Record<string, unknown>) : undefined;
    },
    async deleteSession(id) {
      const session = await storage.loadSession(id).catch(() => undefined);
      await kv.delete(sessionKey(id));
      if (session) await kv.delete(shopKey(session.shop, id));
      return true;
    },
    async findSessionsByShop(shop) {
      const sessions: Session[] = [];
      for (const indexKey of await kv.list(shopKey(shop))) {
        const session = await storage.loadSession(indexKey.slice(shopKey(shop).length));
        if (session) sessions.push(session);
      }
      return sessions;
    },
    async deleteSessionsByShop(shop) {
      for (const indexKey of await kv.list(shopKey(shop))) {
        await kv.delete(sessionKey(indexKey.slice(shopKey(shop).length)));
        await kv.delete(indexKey);
      }
      return true;
    },
  };
  return storage;
}

/** Sessions in memory, for tests and the demo (nothing is at rest). */
export function memorySessionStorage(): ShopifySessionStorage {
  return createEncryptedSessionStorage(memoryKeyValueStore(), randomBytes(32));
}
