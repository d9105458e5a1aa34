/**
 * The raw-file oracle must find what it looks for: the erasure test passes when it finds nothing, so here it is
 * shown envelopes it has to find (any case, any key it is given, at a file's end) and ones it must not (another
 * key, past its window, plain text), and its findings are compared with a plain scan that deciphers each
 * candidate on its own, as AES-CTR from the GCM body's first counter block.
 */
import { createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encrypt } from '../crypto/cipher.js';
import { seededRandom } from '../random.js';
import { scanFilesDecrypting } from './oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'tactful-oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ada = { name: 'subject:ada', key: randomBytes(32) };
const shop = { name: 'shop', key: randomBytes(32) };
const other = { name: 'other', key: randomBytes(32) };
const NEEDLES = ['ada.lovelace@example.com', 'Ixelles-sur-Mer', '203.0.113.77'];

/** Random bytes with `parts` written at the given offsets. */
function file(name: string, size: number, parts: Array<[number, Buffer]>): string {
  const bytes = randomBytes(size);
  for (const [at, part] of parts) part.copy(bytes, at);
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** The scan as first written: one AES-CTR decipher per candidate byte and key, the window folded as Latin-1 text. */
function plainScan(folder: string, keys: Array<{ name: string; key: Buffer }>, needles: string[], window = 512) {
  const out: Array<{ file: string; offset: number; key: string; needle: string }> = [];
  const probes = needles.map((n) => Buffer.from(n.toLowerCase().slice(0, 8), 'utf8'));
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    for (let i = bytes.indexOf(1); i >= 0 && i + 30 < bytes.length; i = bytes.indexOf(1, i + 1)) {
      const iv = Buffer.concat([bytes.subarray(i + 1, i + 13), Buffer.from([0, 0, 0, 2])]);
      const body = bytes.subarray(i + 29, Math.min(bytes.length, i + 29 + window));
      for (const { name, key } of keys) {
        const text = createDecipheriv('aes-256-ctr', key, iv).update(body).toString('latin1').toLowerCase();
        const plain = Buffer.from(text, 'latin1');
        probes.forEach((p, k) => {
          if (plain.includes(p)) out.push({ file: path, offset: i, key: name, needle: needles[k]! });
        });
      }
    }
  }
  return out;
}

describe('scanFilesDecrypting', () => {
  const sealed = (key: Buffer, text: string) => encrypt(key, text, 'aad');
  const folder = join(dir, 'db');
  const pages = file('db/base/1/16384', 300_000, [
    [1_000, sealed(ada.key, '{"email":"Ada.Lovelace@Example.com"}')],
    [50_000, sealed(shop.key, `{"note":"${'x'.repeat(300)}","city":"IXELLES-SUR-MER"}`)],
    [90_000, sealed(other.key, '{"email":"ada.lovelace@example.com"}')],
    [120_000, sealed(ada.key, `${'y'.repeat(600)}203.0.113.77`)],
    [150_000, Buffer.from('ada.lovelace@example.com in plain text')],
  ]);
  const tail = sealed(ada.key, 'ip 203.0.113.77');
  const wal = file('db/pg_wal/000000010000000000000001', 40_000, [[40_000 - tail.length, tail]]);

  it('finds each envelope under the key that sealed it, in any case, up to the end of a file', () => {
    const found = scanFilesDecrypting(folder, [ada, shop], NEEDLES);
    const at = (path: string) => found.filter((f) => f.file === path).map((f) => [f.offset, f.key, f.needle]);
    expect(at(pages)).toEqual([
      [1_000, 'subject:ada', 'ada.lovelace@example.com'],
      [50_000, 'shop', 'Ixelles-sur-Mer'],
    ]);
    expect(at(wal)).toEqual([[40_000 - tail.length, 'subject:ada', '203.0.113.77']]);
  });

  it('finds nothing under a key it is not given, past its window, or in plain text', () => {
    expect(scanFilesDecrypting(folder, [shop], ['ada.lovelace@example.com', '203.0.113.77'])).toEqual([]);
    expect(scanFilesDecrypting(folder, [ada], ['203.0.113.77'], 512).map((f) => f.offset)).toEqual([
      40_000 - tail.length,
    ]);
    const wide = scanFilesDecrypting(folder, [ada], ['203.0.113.77'], 1024);
    expect(wide.map((f) => f.offset).sort((a, b) => a - b)).toEqual([40_000 - tail.length, 120_000]);
  });

  it('reports what a scan deciphering every candidate on its own reports, over files of many envelopes', () => {
    const random = seededRandom(11);
    const folderB = join(dir, 'many');
    const keys = [ada, shop, other];
    for (let f = 0; f < 3; f++) {
      const parts: Array<[number, Buffer]> = [];
      for (let e = 0; e < 40; e++) {
        const key = keys[Math.floor(random() * keys.length)]!.key;
        const needle = NEEDLES[Math.floor(random() * NEEDLES.length)]!;
        const padding = 'z'.repeat(Math.floor(random() * 700));
        const text = random() < 0.5 ? needle.toUpperCase() : needle;
        parts.push([e * 2_000 + Math.floor(random() * 500), sealed(key, `${padding}${text}`)]);
      }
      file(`many/f${f}`, 82_000 + f * 7, parts);
    }
    const fast = scanFilesDecrypting(folderB, [ada, shop], NEEDLES, 512);
    expect(fast.length).toBeGreaterThan(20);
    expect(fast).toEqual(plainScan(folderB, [ada, shop], NEEDLES, 512));
    const narrow = scanFilesDecrypting(folderB, [other], NEEDLES, 100);
    expect(narrow).toEqual(plainScan(folderB, [other], NEEDLES, 100));
  });
});
