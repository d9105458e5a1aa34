import { createHmac } from 'node:crypto';
import type { TactfulStorage } from '../tactful.js';
import { APP_OWNER, keyValueStore } from '../store/kv.js';
import type { Db } from '../store/open.js';

export function storageApi(db: Db, shopId: string, masterKey: Buffer): TactfulStorage {
  return {
    shop: keyValueStore(db, shopId),
    app: keyValueStore(db, APP_OWNER),
    secretKey: (label) => createHmac('sha256', masterKey).update(label).digest(),
  };
}
