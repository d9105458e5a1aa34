import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TactfulError } from '../errors/tactful-error.js';

/**
 * The app's master secret (`TACTFUL_SECRET`): 32 bytes as 64 hex characters or base64. It wraps every
 * shop key. For the embedded database a missing secret is generated once into `<folder>.secret` beside
 * the data folder (mode 0600), so the demo needs no set-up; a server database requires it explicitly.
 */
export function parseMasterSecret(value: string, where = 'TACTFUL_SECRET'): Buffer {
  const trimmed = value.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed))
    key = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key?.length !== 32) {
    throw new TactfulError(
      'CONFIG.INVALID',
      `${where} must be 32 random bytes as 64 hex characters or base64 (generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('hex'))").`,
    );
  }
  return key;
}

export function loadOrCreateSecretFile(path: string): Buffer {
  if (existsSync(path)) return parseMasterSecret(readFileSync(path, 'utf8'), path);
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(32);
  writeFileSync(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
