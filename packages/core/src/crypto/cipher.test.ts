import { describe, expect, it } from 'vitest';
import { decrypt, encrypt, newKey } from './cipher.js';

describe('AES-256-GCM envelope', () => {
  it('round-trips, and every value gets an IV of its own, across the IV pool refills', () => {
    const key = newKey();
    const ivs = new Set<string>();
    // 10 000 values: more than two pools of 4 096 IVs.
    for (let i = 0; i < 10_000; i++) {
      const sealed = encrypt(key, `value ${i}`, `aad:${i}`);
      ivs.add(sealed.subarray(1, 13).toString('hex'));
      if (i % 997 === 0) expect(decrypt(key, sealed, `aad:${i}`).toString('utf8')).toBe(`value ${i}`);
    }
    expect(ivs.size).toBe(10_000);
  });

  it('refuses another place (associated data), another key, or a changed byte', () => {
    const key = newKey();
    const sealed = encrypt(key, 'secret', 'subject:a');
    expect(() => decrypt(key, sealed, 'subject:b')).toThrow(/Could not decrypt/);
    expect(() => decrypt(newKey(), sealed, 'subject:a')).toThrow(/Could not decrypt/);
    const changed = Buffer.from(sealed);
    changed[changed.length - 1]! ^= 1;
    expect(() => decrypt(key, changed, 'subject:a')).toThrow(/Could not decrypt/);
    expect(() => decrypt(key, sealed.subarray(0, 20), 'subject:a')).toThrow(/malformed/);
  });
});
