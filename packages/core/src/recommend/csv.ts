import Papa from 'papaparse';
import { TactfulError } from '../errors/tactful-error.js';

/*
 * How every CSV of ours is read (RFC 4180, parsed by papaparse's core parser, which reads a large Shopify export
 * about four times faster than csv-parse did, measured by bench/csv.ts):
 * - fields separated by commas, optionally quoted with `"`, a quote inside a quoted field doubled, line breaks
 *   allowed inside quotes;
 * - any line ending, mixed within one file (LF, CRLF, CR); a line break inside a quoted field reads as `\n`;
 * - rows may differ in length (a Shopify export's later rows are short);
 * - a leading byte-order mark and empty lines are dropped;
 * - a stray quote inside an unquoted field is kept as text, as spreadsheets write it;
 * - a quoted field left open at the end of the file, or text after a closing quote, is INPUT.INVALID naming
 *   the line.
 */

const LINE_END = /\r\n?/g;
const BOM = '\uFEFF';
const SLICE = 16 * 1024;

/** Feeds text in pieces and hands back each piece's complete records; `finish` flushes the last one. */
class CsvReader {
  readonly #parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: '"', escapeChar: '"' });
  /** Text not yet made into records: the start of a record the next piece completes. */
  #rest = '';
  /** A CR at the end of the last piece: it may be the first half of a CRLF. */
  #pendingCr = false;
  #first = true;
  /** The line the first character of `#rest` is on. */
  #line = 1;

  push(piece: string): string[][] {
    let text = piece;
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    if (this.#pendingCr) text = `\r${text}`;
    this.#pendingCr = text.endsWith('\r');
    if (this.#pendingCr) text = text.slice(0, -1);
    text = text.replace(LINE_END, '\n');
    // papaparse's parser slows down on long inputs (several times over on a 1 MB chunk, measured by
    // bench/csv.ts), so a chunk is parsed in small slices.
    if (text.length <= SLICE) return this.#parse(this.#rest + text, false);
    const records: string[][] = [];
    for (let at = 0; at < text.length; at += SLICE) {
      for (const record of this.#parse(this.#rest + text.slice(at, at + SLICE), false)) records.push(record);
    }
    return records;
  }

  finish(): string[][] {
    const input = this.#rest + (this.#pendingCr ? '\n' : '');
    this.#pendingCr = false;
    return this.#parse(input, true);
  }

  #parse(input: string, last: boolean): string[][] {
    const result = this.#parser.parse(input, 0, !last) as Papa.ParseResult<string[]>;
    const consumed = last ? input.length : result.meta.cursor;
    // With more text to come, a quote problem in the unfinished record may be the chunk's edge: it is judged
    // again once the record is whole.
    const error = result.errors.find((e) => last || (e.index ?? 0) < consumed);
    if (error) throw this.#invalid(input, error);
    this.#line += countLines(input, consumed);
    this.#rest = input.slice(consumed);
    const records = result.data;
    let kept = 0;
    for (const record of records) if (record.length > 1 || record[0] !== '') records[kept++] = record;
    records.length = kept;
    return records;
  }

  #invalid(input: string, error: Papa.ParseError): TactfulError {
    const start = input.lastIndexOf('\n', Math.max(0, (error.index ?? 0) - 1)) + 1;
    const line = this.#line + countLines(input, start);
    if (error.code === 'MissingQuotes')
      return new TactfulError(
        'INPUT.INVALID',
        `The CSV ends inside a quoted field (line ${line}): a closing \`"\` is missing.`,
      );
    return new TactfulError(
      'INPUT.INVALID',
      `The CSV is not valid (line ${line}): ${error.message}. Quote a field that holds a comma, a quote or a ` +
        'line break, and double each quote inside it.',
    );
  }
}

function countLines(text: string, end: number): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/** Records from a text or byte stream (UTF-8), holding one chunk's records at a time. */
export async function* csvRecords(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<string[]> {
  const reader = new CsvReader();
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    // A multi-byte character split between two chunks is decoded whole once its second half arrives.
    yield* reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  }
  yield* reader.push(decoder.decode());
  yield* reader.finish();
}

/** Records of a whole CSV text, read exactly as `csvRecords` reads a stream. */
export function csvRows(text: string): string[][] {
  const reader = new CsvReader();
  return [...reader.push(text), ...reader.finish()];
}
