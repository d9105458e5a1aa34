/**
 * AES-256-GCM envelope: version byte, 12-byte IV, 16-byte tag, ciphertext. The associated data binds a
 * ciphertext to where it belongs (shop, subject, column), so a value copied elsewhere does not decrypt.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, hkdfSync } from 'node:crypto';
import { TactfulError } from '../errors/tactful-error.js';

const VERSION = 1;
const IV_BYTES = 12;
/** IVs drawn at once from the CSPRNG: one call per 4 096 values instead of one each (a consent batch seals thousands). */
const IV_POOL_BYTES = IV_BYTES * 4096;
let ivPool = Buffer.alloc(0);
let ivOffset = 0;

/** A fresh random IV; each pool byte is handed out once. */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_POOL_BYTES);
    ivOffset = 0;
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES);
  ivOffset += IV_BYTES;
  return iv;
}

export function encrypt(key: Buffer, plaintext: Buffer | string, aad: string): Buffer {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([
    cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
    cipher.final(),
  ]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function decrypt(key: Buffer, envelope: Buffer, aad: string): Buffer {
  if (envelope.length < 29 || envelope[0] !== VERSION) {
    throw new TactfulError('CRYPTO.INVALID', 'Encrypted value is malformed or of an unknown version.');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(1, 13));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(envelope.subarray(13, 29));
    return Buffer.concat([decipher.update(envelope.subarray(29)), decipher.final()]);
  } catch (cause) {
    throw new TactfulError(
      'CRYPTO.DECRYPT_FAILED',
      'Could not decrypt a stored value: wrong key (is TACTFUL_SECRET the one this database was created with?) or tampered data.',
      { cause },
    );
  }
}

export function newKey(): Buffer {
  return randomBytes(32);
}

/** A sub-key for one use, derived from a parent key (HKDF-SHA256). */
export function deriveKey(parent: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', parent, Buffer.alloc(0), Buffer.from(info, 'utf8'), 32));
}

export function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
