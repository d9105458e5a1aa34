/**
 * Test oracles for the privacy guarantees. They read the database directly — every table of the public
 * schema, found at run time, so a table added later is checked too — and never trust the code under test.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt } from '../crypto/cipher.js';
import type { RawStore as Store } from '../store/open.js';

export interface Finding {
  table: string;
  column: string;
  needle: string;
  how: 'plain text' | 'decrypted';
  key?: string;
}

async function publicColumns(store: Store): Promise<Map<string, Array<{ name: string; type: string }>>> {
  const cols = await store.query<{ table_name: string; column_name: string; data_type: string }>(
    `select table_name, column_name, data_type from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const out = new Map<string, Array<{ name: string; type: string }>>();
  for (const c of cols)
    out.set(c.table_name, [...(out.get(c.table_name) ?? []), { name: c.column_name, type: c.data_type }]);
  return out;
}

/** Every key that still exists for the shop: the master key, the shop key, every subject key not destroyed. */
export async function remainingKeys(store: Store, shopId: string): Promise<Array<{ name: string; key: Buffer }>> {
  const keys: Array<{ name: string; key: Buffer }> = [{ name: 'master', key: store.masterKey }];
  const [shop] = await store.query<{ wrapped_key: Buffer | Uint8Array }>(
    `select wrapped_key from shops where shop_id = $1`,
    [shopId],
  );
  if (!shop) return keys;
  const shopKey = decrypt(store.masterKey, Buffer.from(shop.wrapped_key), `shop:${shopId}`);
  keys.push({ name: 'shop', key: shopKey });
  const subjects = await store.query<{ subject_id: string; wrapped_key: Buffer | Uint8Array }>(
    `select subject_id, wrapped_key from subjects where shop_id = $1 and wrapped_key is not null`,
    [shopId],
  );
  for (const s of subjects)
    keys.push({
      name: `subject:${s.subject_id}`,
      key: decrypt(shopKey, Buffer.from(s.wrapped_key), `subject:${shopId}:${s.subject_id}`),
    });
  return keys;
}

/**
 * Decrypts an AES-256-GCM envelope WITHOUT checking its tag or associated data (GCM is CTR mode with the
 * counter starting at IV‖2): with the right key the plaintext appears whatever context it was bound to.
 */
export function decryptIgnoringContext(key: Buffer, envelope: Buffer): Buffer | null {
  if (envelope.length < 29 || envelope[0] !== 1) return null;
  const iv = Buffer.concat([envelope.subarray(1, 13), Buffer.from([0, 0, 0, 2])]);
  const decipher = createDecipheriv('aes-256-ctr', key, iv);
  return Buffer.concat([decipher.update(envelope.subarray(29)), decipher.final()]);
}

/**
 * Searches every row of the shop in every table for the needles: in plain text (any column, as JSON), and
 * inside every bytea value decrypted with every remaining key.
 */
export async function findPersonalData(
  store: Store,
  shopId: string,
  needles: string[],
  options: { skip?: (table: string, row: Record<string, unknown>) => boolean } = {},
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const lowered = needles.map((n) => n.toLowerCase());
  const keys = await remainingKeys(store, shopId);
  for (const [table, columns] of await publicColumns(store)) {
    if (!columns.some((c) => c.name === 'shop_id'))
      throw new Error(`table ${table} has no shop_id: the oracle cannot scope it`);
    const found = await store.query<Record<string, unknown>>(`select * from "${table}" where shop_id = $1`, [shopId]);
    for (const row of found) {
      if (options.skip?.(table, row)) continue;
      for (const col of columns) {
        const value = row[col.name];
        if (value === null || value === undefined) continue;
        if (col.type === 'bytea') {
          const buf = Buffer.from(value as Uint8Array);
          for (const { name, key } of keys) {
            const plain = decryptIgnoringContext(key, buf)?.toString('utf8').toLowerCase();
            if (!plain) continue;
            lowered.forEach((n, i) => {
              if (plain.includes(n))
                findings.push({ table, column: col.name, needle: needles[i]!, how: 'decrypted', key: name });
            });
          }
          continue;
        }
        const text = (typeof value === 'string' ? value : JSON.stringify(value)).toLowerCase();
        lowered.forEach((n, i) => {
          if (text.includes(n)) findings.push({ table, column: col.name, needle: needles[i]!, how: 'plain text' });
        });
      }
    }
  }
  return findings;
}

/** Every file under `folder` containing one of the needles (as UTF-8 or UTF-16LE bytes). */
export function scanFiles(folder: string, needles: string[]): Array<{ file: string; needle: string }> {
  const out: Array<{ file: string; needle: string }> = [];
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = readFileSync(file);
    for (const n of needles) {
      for (const variant of new Set([n, n.toLowerCase(), n.toUpperCase()])) {
        if (bytes.includes(Buffer.from(variant, 'utf8')) || bytes.includes(Buffer.from(variant, 'utf16le'))) {
          out.push({ file, needle: n });
          break;
        }
      }
    }
  }
  return out;
}

/** The shop's row count in every table of the public schema (after a shop's erasure, each must be 0). */
export async function shopRowCounts(store: Store, shopId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const [table] of await publicColumns(store)) {
    const [row] = await store.query<{ n: number }>(`select count(*)::int as n from "${table}" where shop_id = $1`, [
      shopId,
    ]);
    counts.set(table, row!.n);
  }
  return counts;
}

/**
 * Rows of the shop that refer to the subject: a `subject_id` column equal to it, or any column whose text
 * contains one of `refs` (the subject id, the customer references of its orders, its order ids quoted).
 */
export async function rowsReferring(
  store: Store,
  shopId: string,
  subjectId: string,
  refs: string[],
): Promise<Array<{ table: string; row: Record<string, unknown> }>> {
  const out: Array<{ table: string; row: Record<string, unknown> }> = [];
  for (const [table] of await publicColumns(store)) {
    const found = await store.query<Record<string, unknown> & { _json: string }>(
      `select t.*, row_to_json(t)::text as _json from "${table}" t where shop_id = $1`,
      [shopId],
    );
    for (const r of found) {
      const { _json, ...row } = r;
      if (row.subject_id === subjectId || refs.some((ref) => _json.includes(ref))) out.push({ table, row });
    }
  }
  return out;
}

/**
 * Every place in the raw files under `folder` where an AES-256-GCM envelope decrypts, under one of `keys`,
 * to text containing a needle (in any case). Envelope boundaries are unknown in raw pages and WAL, so every byte
 * equal to the envelope version (1) is tried as a start, decrypting the next `window` bytes as CTR: GCM encrypts
 * its body with AES-CTR from counter block `iv || 2`.
 *
 * A database folder holds hundreds of thousands of such bytes. The keystream of every candidate is made in bulk,
 * a few thousand candidates per call, by encrypting their counter blocks under one reusable AES-256-ECB cipher per
 * key (a cipher object per candidate and key cost most of the scan); the bodies are XORed with it, folded to lower
 * case as Latin-1 text folds, and each needle looked for within each candidate's own window.
 */
export function scanFilesDecrypting(
  folder: string,
  keys: Array<{ name: string; key: Buffer }>,
  needles: string[],
  window = 512,
): Array<{ file: string; offset: number; key: string; needle: string }> {
  const out: Array<{ file: string; offset: number; key: string; needle: string }> = [];
  // A needle's first 8 bytes are enough to spot it.
  const probes = needles.map((n) => Buffer.from(n.toLowerCase().slice(0, 8), 'utf8'));
  const span = Math.ceil(window / 16) * 16;
  const ciphers = keys.map(({ key }) => createCipheriv('aes-256-ecb', key, null).setAutoPadding(false));
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = readFileSync(file);
    const found: Array<{ offset: number; key: number; needle: number }> = [];
    const starts: number[] = [];
    for (let i = bytes.indexOf(1); i >= 0 && i + 30 < bytes.length; i = bytes.indexOf(1, i + 1)) starts.push(i);
    for (let from = 0; from < starts.length; from += CANDIDATES_PER_CALL) {
      const batch = starts.slice(from, from + CANDIDATES_PER_CALL);
      // Each candidate's counter blocks and its body, at the same place of two buffers (zeros past a short body).
      const counters = Buffer.alloc(batch.length * span);
      const bodies = Buffer.alloc(batch.length * span);
      for (const [c, i] of batch.entries()) {
        for (let at = c * span; at < (c + 1) * span; at += 16) {
          for (let b = 0; b < 12; b++) counters[at + b] = bytes[i + 1 + b]!;
          counters[at + 15] = (at - c * span) / 16 + 2;
        }
        bytes.copy(bodies, c * span, i + 29, Math.min(bytes.length, i + 29 + window));
      }
      const body32 = new Int32Array(bodies.buffer, bodies.byteOffset, bodies.length / 4);
      for (const [k, cipher] of ciphers.entries()) {
        const plain = aligned(cipher.update(counters));
        const plain32 = new Int32Array(plain.buffer, plain.byteOffset, plain.length / 4);
        for (let w = 0; w < plain32.length; w++) plain32[w] = plain32[w]! ^ body32[w]!;
        for (let j = 0; j < plain.length; j++) plain[j] = LATIN1_LOWER[plain[j]!]!;
        for (const [p, probe] of probes.entries()) {
          let last = -1;
          for (let at = plain.indexOf(probe); at >= 0; at = plain.indexOf(probe, at + 1)) {
            const c = Math.floor(at / span);
            const length = Math.min(window, bytes.length - (batch[c]! + 29));
            if (c === last || at + probe.length > c * span + length) continue;
            last = c;
            found.push({ offset: batch[c]!, key: k, needle: p });
          }
        }
      }
    }
    // In the order of a scan candidate by candidate: offset, then key, then needle.
    found.sort((a, b) => a.offset - b.offset || a.key - b.key || a.needle - b.needle);
    for (const f of found) out.push({ file, offset: f.offset, key: keys[f.key]!.name, needle: needles[f.needle]! });
  }
  return out;
}

/** `bytes`, or a copy of them where a 32-bit view cannot start. */
const aligned = (bytes: Buffer) => (bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes));

/** Candidates whose keystream one cipher call makes: 4 096 windows of 512 bytes, 2 MiB. */
const CANDIDATES_PER_CALL = 4096;

/** Each byte as `String.prototype.toLowerCase` folds it as a Latin-1 character (A-Z, À-Þ but ×). */
const LATIN1_LOWER = Uint8Array.from({ length: 256 }, (_, b) =>
  (b >= 0x41 && b <= 0x5a) || (b >= 0xc0 && b <= 0xde && b !== 0xd7) ? b + 0x20 : b,
);
