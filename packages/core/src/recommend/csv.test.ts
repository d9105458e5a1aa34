import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTactfulError } from '../errors/tactful-error.js';
import { csvRecords, csvRows } from './csv.js';

async function collect(chunks: Iterable<string | Uint8Array>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const record of csvRecords(chunks)) out.push(record);
  return out;
}

async function failure(chunks: Iterable<string | Uint8Array>): Promise<Error> {
  try {
    await collect(chunks);
  } catch (error) {
    expect(isTactfulError(error, 'INPUT.INVALID')).toBe(true);
    return error as Error;
  }
  throw new Error('expected INPUT.INVALID');
}

/** Cuts `text` at the given offsets (sorted, deduplicated): the chunks a stream might deliver. */
function cut(text: string, at: number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const point of points) {
    pieces.push(text.slice(from, point));
    from = point;
  }
  pieces.push(text.slice(from));
  return pieces;
}

function cutBytes(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...points].map((from, i) => bytes.subarray(from, points[i] ?? bytes.length));
}

// Fields drawn from the characters that matter to CSV: separators, quotes, every line ending, a BOM-like
// character, multi-byte text and plain letters.
const field = fc
  .array(fc.constantFrom('a', 'b', ' ', ',', '"', '\n', '\r\n', '\r', 'é', '😀', '\uFEFF'), { maxLength: 6 })
  .map((parts) => parts.join(''));
const record = fc.array(field, { minLength: 1, maxLength: 5 }).filter((r) => r.length > 1 || r[0] !== '');
const lineEnd = fc.constantFrom('\n', '\r\n', '\r');

function serialise(records: string[][], ends: string[]): string {
  return records
    .map((r, i) => {
      const line = r.map((f) => (/[",\r\n]/.test(f) || f.startsWith('\uFEFF') ? `"${f.replaceAll('"', '""')}"` : f));
      return line.join(',') + (ends[i % ends.length] ?? '\n');
    })
    .join('');
}

/** What a reader gives back: a line break inside a quoted field reads as `\n`. */
const expected = (records: string[][]) => records.map((r) => r.map((f) => f.replace(/\r\n?/g, '\n')));

describe('csvRecords', () => {
  it('reads back what a writer wrote, however the stream is cut and whatever the line endings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 8 }),
        fc.array(lineEnd, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        fc.boolean(),
        async (records, ends, at, asBytes) => {
          const text = serialise(records, ends);
          // Bytes are cut anywhere, even inside a multi-byte character; text anywhere, even inside a pair.
          const bytes = new TextEncoder().encode(text);
          const chunks = asBytes ? cutBytes(bytes, at) : cut(text, at);
          expect(await collect(chunks)).toEqual(expected(records));
          expect(csvRows(text)).toEqual(expected(records));
        },
      ),
      { seed: 20261206, numRuns: 300 },
    );
  });

  it('reads records longer than the parser is given at once, and many records past it, however they are cut', async () => {
    // The reader hands papaparse 16 KB at a time: long fields (plain, or quoted with quotes and line breaks)
    // make records that span one window or several.
    const longField = fc
      .array(fc.constantFrom('a', ',', '"', '\r\n', '😀', 'x'.repeat(4000), '"\n,'.repeat(1500)), { maxLength: 6 })
      .map((parts) => parts.join(''));
    const longRecord = fc.array(longField, { minLength: 1, maxLength: 4 }).filter((r) => r.length > 1 || r[0] !== '');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(record, longRecord), { minLength: 1, maxLength: 12 }),
        fc.array(lineEnd, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(200_000), { maxLength: 4 }),
        fc.boolean(),
        async (records, ends, at, asBytes) => {
          const text = serialise(records, ends);
          const chunks = asBytes ? cutBytes(new TextEncoder().encode(text), at) : cut(text, at);
          expect(await collect(chunks)).toEqual(expected(records));
          expect(csvRows(text)).toEqual(expected(records));
        },
      ),
      { seed: 20261206, numRuns: 60 },
    );
  });

  it('names the line of a quote problem far into the text', async () => {
    const head = 'a,b\n'.repeat(10_000);
    const open = await failure([head, 'c,"never\nclosed\n']);
    expect(open.message).toMatch(/ends inside a quoted field \(line 10001\)/);
    const text = `${head}"e"x,"f"\ng,h\n`;
    for (const at of [0, 20_000, 40_001, 40_003, text.length]) {
      const error = await failure([text.slice(0, at), text.slice(at)]);
      expect(error.message).toMatch(/not valid \(line 10001\)/);
    }
  });

  it('drops a leading byte-order mark and empty lines, keeps rows of any length', async () => {
    expect(await collect(['\uFEFFa,b,c\n', '\r\n\nd\r\n', '\re,f'])).toEqual([['a', 'b', 'c'], ['d'], ['e', 'f']]);
  });

  it('mixed line endings in one file, a CRLF split between two chunks', async () => {
    expect(await collect(['a,b\r', '\nc,d\ne,f\rg,h'])).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
      ['g', 'h'],
    ]);
  });

  it('a stray quote inside an unquoted field is text', async () => {
    expect(await collect(['12" pizza,"6"" sub"\n', 'x"y,z'])).toEqual([
      ['12" pizza', '6" sub'],
      ['x"y', 'z'],
    ]);
  });

  it('a quoted field left open names the line where it starts', async () => {
    const error = await failure(['a,b\n"multi\nline",ok\n', 'c,"never\nclosed\n']);
    expect(error.message).toMatch(/ends inside a quoted field \(line 4\): a closing `"` is missing/);
  });

  it('text after a closing quote is refused with its line, however the stream is cut', async () => {
    const text = 'a,b\nc,d\n"e"x,f\ng,h\n';
    for (let at = 0; at <= text.length; at++) {
      const error = await failure([text.slice(0, at), text.slice(at)]);
      expect(error.message).toMatch(/not valid \(line 3\)/);
    }
  });
});
