import { createHash } from 'node:crypto';

/**
 * A hash chain over stored rows: each row carries sha256(previous row hash + canonical row). Editing,
 * inserting or deleting a row breaks the chain from that row on; the chain is computed over the stored
 * bytes (ciphertext included), so destroying a subject's key for erasure does not break it.
 */
export const GENESIS = '0'.repeat(64);

/** JSON with sorted keys, Dates as ISO strings, Buffers as hex: the same row always gives the same text. */
export function canonical(value: unknown): string {
  // Written for speed (every ledger row and audit entry is hashed, and every row again on verify), with the
  // same output as `{${sorted entries.map(k: canonical(v))}}`: keys in code-unit order, undefined left out.
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value);
  if (value instanceof Date) return `"${value.toISOString()}"`;
  if (value instanceof Uint8Array)
    return `"hex:${Buffer.from(value.buffer, value.byteOffset, value.length).toString('hex')}"`;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i]);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = sortedKeys(record);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${canonical(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The keys of `record` in code-unit order, as `Object.keys(record).sort()` gives them. Rows and details have a
 * handful of keys, and an insertion sort in place allocates nothing more, where `sort` copied the list each time
 * (the largest allocation of a consent batch, measured with a heap sampling profile).
 */
function sortedKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  if (keys.length > 32) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

export function chainHash(prevHash: string, row: unknown): string {
  return chainHashOfText(prevHash, canonical(row));
}

/** `chainHash` of a row whose canonical text the caller already has (it must be exactly `canonical(row)`). */
export function chainHashOfText(prevHash: string, canonicalText: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalText).digest('hex');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface ChainBreak {
  seq: number;
  reason: 'edited' | 'inserted-or-reordered' | 'missing' | 'truncated';
  detail: string;
}

/**
 * Walks rows in `seq` order (each with `seq`, `prevHash`, `rowHash` and its content) and returns the first
 * break, or null. `head` is the last seq and hash the shop row records, to detect a cut tail.
 */
export function verifyChain<R extends { seq: number; prevHash: string; rowHash: string }>(
  rows: Iterable<R>,
  content: (row: R) => unknown,
  _head: { seq: number; hash: string },
  state: { expectedSeq: number; prev: string } = { expectedSeq: 1, prev: GENESIS },
): ChainBreak | null {
  for (const row of rows) {
    if (row.seq !== state.expectedSeq) {
      return {
        seq: state.expectedSeq,
        reason: 'missing',
        detail: `row ${state.expectedSeq} is missing (next row found is ${row.seq})`,
      };
    }
    if (row.prevHash !== state.prev) {
      return {
        seq: row.seq,
        reason: 'inserted-or-reordered',
        detail: `row ${row.seq} does not follow row ${row.seq - 1}`,
      };
    }
    if (chainHash(row.prevHash, content(row)) !== row.rowHash) {
      return { seq: row.seq, reason: 'edited', detail: `row ${row.seq} was changed after it was written` };
    }
    state.prev = row.rowHash;
    state.expectedSeq += 1;
  }
  return null;
}

export function verifyHead(
  state: { expectedSeq: number; prev: string },
  head: { seq: number; hash: string },
): ChainBreak | null {
  const last = state.expectedSeq - 1;
  if (last !== head.seq || (head.seq > 0 && state.prev !== head.hash)) {
    return {
      seq: last + 1,
      reason: 'truncated',
      detail: `the chain ends at row ${last} but the shop's head says ${head.seq}`,
    };
  }
  return null;
}

export interface ChainVerification {
  ok: boolean;
  rows: number;
  firstBreak: ChainBreak | null;
}

/** Verifies a chained table page by page (`fetchPage(afterSeq)` returns rows with seq > afterSeq, in order). */
export async function verifyPaged<R extends { seq: number; prevHash: string; rowHash: string }>(
  fetchPage: (afterSeq: number) => Promise<R[]>,
  content: (row: R) => unknown,
  head: { seq: number; hash: string },
  pageSize: number,
): Promise<ChainVerification> {
  const state = { expectedSeq: 1, prev: GENESIS };
  let after = 0;
  let count = 0;
  for (;;) {
    const page = await fetchPage(after);
    const broken = verifyChain(page, content, head, state);
    count += page.length;
    if (broken) return { ok: false, rows: count, firstBreak: broken };
    if (page.length < pageSize) break;
    after = page[page.length - 1]!.seq;
  }
  const cut = verifyHead(state, head);
  return { ok: !cut, rows: count, firstBreak: cut };
}
