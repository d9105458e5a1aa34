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

const BOM = '\uFEFF';
/**
 * How much text papaparse's parser is given at once, and so how many records are alive at once: a window's
 * records are handed out before the next window is read. Records held for a whole 1 MB chunk outlive the young
 * generation and are copied and promoted by the garbage collector (a Shopify export read 1.8x slower so,
 * measured by bench/csv.ts). A record longer than a window doubles the next one.
 */
const WINDOW = 16 * 1024;

/** Feeds text in pieces and hands back their complete records, a window at a time; `finish` flushes the last one. */
class CsvReader {
  readonly #parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: '"', escapeChar: '"' });
  /** Text not yet made into records: the start of a record, then text the next window reads. */
  #rest = '';
  /** How much of `#rest` has come since the last window was read. */
  #unread = 0;
  /** A CR at the end of the last piece: it may be the first half of a CRLF. */
  #pendingCr = false;
  #first = true;
  /** The line the first character of `#rest` is on. */
  #line = 1;
  /** How much new text the next window waits for. */
  #size = WINDOW;

  /** The complete records `piece` brings, a window's worth at a time (each array non-empty). */
  *push(piece: string): Generator<string[][], void, undefined> {
    let text = piece;
    if (this.#first && text.length > 0) {
      this.#first = false;
      if (text.startsWith(BOM)) text = text.slice(1);
    }
    if (this.#pendingCr) text = `\r${text}`;
    this.#pendingCr = text.endsWith('\r');
    if (this.#pendingCr) text = text.slice(0, -1);
    if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
    for (let at = 0; at < text.length; ) {
      const end = Math.min(at + this.#size - this.#unread, text.length);
      // A window is a new string, the rest joined to the new text: papaparse reads such a flat string markedly
      // faster than a slice of the chunk (measured: about 1.6x).
      this.#rest += text.slice(at, end);
      this.#unread += end - at;
      at = end;
      if (this.#unread < this.#size) break;
      const records = this.#parse(this.#rest, false);
      if (records.length > 0) yield records;
    }
  }

  finish(): string[][] {
    const input = this.#rest + (this.#pendingCr ? '\n' : '');
    this.#pendingCr = false;
    return this.#parse(input, true);
  }

  /** The complete, non-empty records of `input` (the rest, then new text); keeps what is left as the rest. */
  #parse(input: string, last: boolean): string[][] {
    const result = this.#parser.parse(input, 0, !last) as Papa.ParseResult<string[]>;
    const consumed = last ? input.length : result.meta.cursor;
    // With more text to come, a quote problem in the unfinished record may be the window's edge: it is judged
    // again once the record is whole.
    for (const error of result.errors) {
      if (last || (error.index ?? 0) < consumed) throw this.#invalid(input, error.index ?? 0, error);
    }
    // No record ended in the window: the next one waits for twice as much text, so a long record (or a quote
    // left open) is read again only a few times, not once for each window it spans.
    this.#size = consumed === 0 ? this.#size * 2 : WINDOW;
    this.#unread = 0;
    this.#line += countLines(input, consumed);
    this.#rest = input.slice(consumed);
    const records = result.data;
    let kept = 0;
    for (const record of records) if (record.length > 1 || record[0] !== '') records[kept++] = record;
    records.length = kept;
    return records;
  }

  /** The error at `index` of `input`, whose first character is on line `#line`. */
  #invalid(input: string, index: number, error: Papa.ParseError): TactfulError {
    const start = input.lastIndexOf('\n', Math.max(0, index - 1)) + 1;
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

/** How many line breaks `text` holds before `end`. */
function countLines(text: string, end: number): number {
  let n = 0;
  for (let at = text.indexOf('\n'); at !== -1 && at < end; at = text.indexOf('\n', at + 1)) n++;
  return n;
}

/**
 * The records of a text or byte stream (UTF-8), those of one 16 KB window at a time: a reader that loops over
 * them itself pays for one await per batch instead of one per record.
 */
export async function* csvBatches(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<string[][]> {
  const reader = new CsvReader();
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    // A multi-byte character split between two chunks is decoded whole once its second half arrives.
    yield* reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  }
  yield* reader.push(decoder.decode());
  const tail = reader.finish();
  if (tail.length > 0) yield tail;
}

/** Records from a text or byte stream (UTF-8), holding one window's records at a time. */
export async function* csvRecords(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<string[]> {
  for await (const records of csvBatches(chunks)) yield* records;
}

/** Records of a whole CSV text, read exactly as `csvRecords` reads a stream. */
export function csvRows(text: string): string[][] {
  const reader = new CsvReader();
  const rows: string[][] = [];
  for (const records of reader.push(text)) for (const record of records) rows.push(record);
  for (const record of reader.finish()) rows.push(record);
  return rows;
}
