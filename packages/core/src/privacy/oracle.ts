/**
 * Test oracles for the privacy guarantees. They read the database directly — every table of the public
 * schema, found at run time, so a table added later is checked too — and never trust the code under test.
 */
import { createDecipheriv } from 'node:crypto';
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
 * to text containing a needle. Envelope boundaries are unknown in raw pages and WAL, so every byte equal
 * to the envelope version (1) is tried as a start, decrypting the next `window` bytes as CTR.
 */
export function scanFilesDecrypting(
  folder: string,
  keys: Array<{ name: string; key: Buffer }>,
  needles: string[],
  window = 512,
): Array<{ file: string; offset: number; key: string; needle: string }> {
  const out: Array<{ file: string; offset: number; key: string; needle: string }> = [];
  const lowered = needles.map((n) => n.toLowerCase());
  // A needle's first 8 bytes are enough to spot it.
  const probes = lowered.map((n) => Buffer.from(n.slice(0, 8), 'utf8'));
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const bytes = readFileSync(file);
    for (let i = bytes.indexOf(1); i >= 0 && i + 30 < bytes.length; i = bytes.indexOf(1, i + 1)) {
      const iv = Buffer.concat([bytes.subarray(i + 1, i + 13), Buffer.from([0, 0, 0, 2])]);
      const body = bytes.subarray(i + 29, Math.min(bytes.length, i + 29 + window));
      for (const { name, key } of keys) {
        const decipher = createDecipheriv('aes-256-ctr', key, iv);
        const plain = Buffer.from(decipher.update(body).toString('latin1').toLowerCase(), 'latin1');
        probes.forEach((p, k) => {
          if (plain.includes(p)) out.push({ file, offset: i, key: name, needle: needles[k]! });
        });
      }
    }
  }
  return out;
}
