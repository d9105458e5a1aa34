import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { TactfulError } from '../errors/tactful-error.js';
import { csvBatches, csvRecords } from './csv.js';
import type { OrderBasket } from './model.js';

/** The input formats `tactful rules` / `tactful evaluate` read. */
export const basketFormats = ['basket-csv', 'fimi', 'shopify-csv', 'jsonl'] as const;
export type BasketFormat = (typeof basketFormats)[number];

export function isBasketFormat(value: string): value is BasketFormat {
  return (basketFormats as readonly string[]).includes(value);
}

function invalid(message: string, cause?: unknown): TactfulError {
  return new TactfulError('INPUT.INVALID', message, cause === undefined ? {} : { cause });
}

/** Splits a text stream into lines (LF or CRLF), without holding more than one chunk and one line. */
export async function* splitLines(
  chunks: AsyncIterable<string | Buffer> | Iterable<string | Buffer>,
): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    const text = rest + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield text.slice(start, end);
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** Parses `basket-csv` lines: one basket a line, labels comma-separated and kept exactly (spaces included). */
export async function* parseBasketCsv(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<OrderBasket> {
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    yield { orderId: String(n), customerId: null, productIds: line.split(','), time: null };
  }
}

const FIMI_SEPARATOR = /\s+/;

/** Parses `fimi` lines: space-separated item ids, one basket a line. */
export async function* parseFimi(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<OrderBasket> {
  let n = 0;
  for await (const line of lines) {
    n++;
    const items = line.split(FIMI_SEPARATOR).filter((item) => item !== '');
    if (items.length === 0) continue;
    yield { orderId: String(n), customerId: null, productIds: items, time: null };
  }
}

/** One order line of the `jsonl` format. */
export interface OrderLineInput {
  orderId: string;
  customerId: string | null;
  productId: string;
  quantity: number;
  time: number | null;
}

function idField(value: unknown): string | null {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** Epoch milliseconds from a number, an ISO string or a Shopify-export time (`2025-05-11 09:55:16 -0400`). */
export function parseTime(value: unknown): number | null | undefined {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const shopify = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}(?::\d{2})?) ?([+-]\d{2}):?(\d{2})$/.exec(value);
  const text = shopify ? `${shopify[1]}T${shopify[2]}${shopify[3]}:${shopify[4]}` : value;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Reads one `jsonl` order line; throws INPUT.INVALID naming the line when it is not one. */
export function parseOrderLine(text: string, lineNumber: number): OrderLineInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw invalid(`Line ${lineNumber} is not JSON: ${(cause as Error).message}`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`Line ${lineNumber} is not a JSON object.`);
  const row = value as Record<string, unknown>;
  const orderId = idField(row.orderId ?? row.order_id);
  const productId = idField(row.productId ?? row.product_id);
  if (orderId === null) throw invalid(`Line ${lineNumber} has no orderId.`);
  if (productId === null) throw invalid(`Line ${lineNumber} has no productId.`);
  const customerRaw = row.customerId ?? row.customer_id;
  const customerId = customerRaw === undefined || customerRaw === null ? null : idField(customerRaw);
  const quantityRaw = row.quantity ?? 1;
  if (typeof quantityRaw !== 'number' || !Number.isFinite(quantityRaw))
    throw invalid(`Line ${lineNumber}: quantity must be a number.`);
  const time = parseTime(row.time ?? row.createdAt ?? row.created_at);
  if (time === undefined) throw invalid(`Line ${lineNumber}: time must be epoch milliseconds or an ISO 8601 date.`);
  return { orderId, customerId, productId, quantity: quantityRaw, time };
}

/**
 * Parses `jsonl` order lines into baskets. The lines of one order must be contiguous (as every export
 * writes them); lines with quantity ≤ 0 (returned) do not count.
 */
export async function* parseJsonl(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<OrderBasket> {
  const done = new Set<string>();
  let current: { orderId: string; customerId: string | null; productIds: string[]; time: number | null } | null = null;
  let n = 0;
  for await (const text of lines) {
    n++;
    if (text.trim() === '') continue;
    const line = parseOrderLine(text, n);
    if (current === null || current.orderId !== line.orderId) {
      if (current) {
        done.add(current.orderId);
        yield current;
      }
      if (done.has(line.orderId))
        throw invalid(
          `Line ${n}: the lines of order ${JSON.stringify(line.orderId)} are not contiguous; sort the file by order.`,
        );
      current = { orderId: line.orderId, customerId: line.customerId, productIds: [], time: line.time };
    }
    if (current.customerId === null) current.customerId = line.customerId;
    if (current.time === null) current.time = line.time;
    if (line.quantity > 0) current.productIds.push(line.productId);
  }
  if (current) yield current;
}

const SHOPIFY_COLUMNS = [
  'Name',
  'Email',
  'Financial Status',
  'Created at',
  'Lineitem quantity',
  'Lineitem name',
  'Cancelled at',
  'Id',
] as const;

/**
 * Parses the Shopify admin's "Export orders" CSV. Rows are grouped by `Name`; order-level fields (Email,
 * Financial Status, Cancelled at, Id) sit on the first row of each order. The product is the line item's
 * name, kept exactly. Cancelled, refunded and voided orders do not count and are skipped.
 */
export async function* parseShopifyCsv(
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
): AsyncGenerator<OrderBasket> {
  type Column = (typeof SHOPIFY_COLUMNS)[number];
  let column: Record<Column, number> | null = null;
  let current: { name: string; order: OrderBasket & { productIds: string[] }; skip: boolean } | null = null;
  const done = new Set<string>();
  let row = 0;
  // A chunk's records are read in one synchronous loop; only a finished order waits for the consumer.
  for await (const records of csvBatches(chunks)) {
    const ready: OrderBasket[] = [];
    try {
      for (const record of records) {
        row++;
        if (column === null) {
          const header = record.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h));
          const missing = SHOPIFY_COLUMNS.filter((name) => name !== 'Id' && !header.includes(name));
          if (missing.length > 0) throw invalid(`Not a Shopify orders export: the header lacks ${missing.join(', ')}.`);
          column = Object.fromEntries(SHOPIFY_COLUMNS.map((name) => [name, header.indexOf(name)])) as Record<
            Column,
            number
          >;
          continue;
        }
        const name = cell(record, column.Name);
        if (name === '') throw invalid(`Row ${row} of the Shopify export has no Name.`);
        if (current === null || current.name !== name) {
          if (current && !current.skip) ready.push(current.order);
          if (current) done.add(current.name);
          if (done.has(name))
            throw invalid(`Row ${row}: the rows of order ${name} are not contiguous; export again or sort by Name.`);
          const created = cell(record, column['Created at']);
          const time = parseTime(created);
          if (time === undefined) throw invalid(`Row ${row}: Created at ${JSON.stringify(created)} is not a date.`);
          const status = cell(record, column['Financial Status']).toLowerCase();
          const email = cell(record, column.Email).trim();
          current = {
            name,
            order: {
              orderId: cell(record, column.Id) || name,
              customerId: email === '' ? null : email,
              productIds: [],
              time,
            },
            skip: cell(record, column['Cancelled at']) !== '' || status === 'refunded' || status === 'voided',
          };
        }
        const quantityText = cell(record, column['Lineitem quantity']);
        const quantity = quantityText === '' ? 1 : Number(quantityText);
        if (!Number.isFinite(quantity))
          throw invalid(`Row ${row}: Lineitem quantity ${JSON.stringify(quantityText)} is not a number.`);
        const product = cell(record, column['Lineitem name']);
        if (product !== '' && quantity > 0) current.order.productIds.push(product);
      }
    } catch (error) {
      // The orders finished before a bad row are handed out first, as when each row was read on its own.
      yield* ready;
      throw error;
    }
    yield* ready;
  }
  if (current && !current.skip) yield current.order;
}

/** The field at column `i` of a record (`''` when the header lacks the column or the row is short). */
function cell(record: string[], i: number): string {
  return i < 0 ? '' : (record[i] ?? '');
}

async function readHead(file: string, bytes = 65536): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Guesses the format of a baskets file from its name and first line. */
export async function detectBasketFormat(file: string): Promise<BasketFormat> {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  const head = (await readHead(file)).replace(/^\uFEFF/, '');
  const firstLine = head.split(/\r?\n/, 1)[0] ?? '';
  if (firstLine.trimStart().startsWith('{')) return 'jsonl';
  if (firstLine.startsWith('Name,') && firstLine.includes('Lineitem name')) return 'shopify-csv';
  if (/^\s*\d+(\s+\d+)*\s*$/.test(firstLine) && !firstLine.includes(',')) return 'fimi';
  return 'basket-csv';
}

/** Checks that `file` is a readable file; throws INPUT.INVALID otherwise. */
export async function assertReadableFile(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (cause) {
    const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (cause as Error).message;
    throw invalid(`Cannot read the orders file ${JSON.stringify(file)}: ${why}.`, cause);
  }
  if (!info.isFile()) throw invalid(`${JSON.stringify(file)} is not a file.`);
}

/**
 * How a CSV file is streamed to the CSV reader: bytes, which it decodes with TextDecoder (several times faster
 * than the stream's own UTF-8 decoding), in 64 KB chunks. A 1 MB chunk's text is allocated straight into the
 * old generation, which only a full collection frees: the large Shopify export read 1.5-2x slower so
 * (bench/csv.ts).
 */
const CSV_CHUNKS = { highWaterMark: 64 * 1024 };

/** Streams the baskets of a file in the given (or guessed) format. */
export async function readBaskets(
  file: string,
  format?: BasketFormat | string,
): Promise<{ format: BasketFormat; baskets: AsyncIterable<OrderBasket> }> {
  await assertReadableFile(file);
  if (format !== undefined && !isBasketFormat(format)) {
    throw invalid(`Unknown format ${JSON.stringify(format)}: use one of ${basketFormats.join(', ')}.`);
  }
  const resolved = format ?? (await detectBasketFormat(file));
  const stream = () => createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const baskets = (() => {
    switch (resolved) {
      case 'basket-csv':
        return parseBasketCsv(splitLines(stream()));
      case 'fimi':
        return parseFimi(splitLines(stream()));
      case 'jsonl':
        return parseJsonl(splitLines(stream()));
      case 'shopify-csv':
        return parseShopifyCsv(createReadStream(file, CSV_CHUNKS));
    }
  })();
  return { format: resolved, baskets };
}

/** A product as the recommender needs it. */
export interface CatalogProduct {
  id: string;
  title: string;
  url?: string | undefined;
  imageUrl?: string | null | undefined;
  price?: string | undefined;
  category?: string | null | undefined;
  available: boolean;
  /** Bought again and again (coffee, milk): may be recommended again once its repurchase interval passed. */
  replenishable?: boolean | undefined;
  /** The usual days between two purchases of it by one customer; see `estimateRepurchaseIntervals`. */
  repurchaseIntervalDays?: number | undefined;
}

/**
 * Reads an item catalogue CSV such as Groceries' `groceries_items.csv` (`labels`, `level2`, ...): the id
 * column's value is kept exactly (trailing spaces included) and becomes id and title.
 */
export async function readItemCatalog(
  file: string,
  options: { idColumn?: string; categoryColumn?: string } = {},
): Promise<CatalogProduct[]> {
  await assertReadableFile(file);
  const idColumn = options.idColumn ?? 'labels';
  const categoryColumn = options.categoryColumn ?? 'level2';
  const out: CatalogProduct[] = [];
  let header: string[] | null = null;
  for await (const record of csvRecords(createReadStream(file, CSV_CHUNKS))) {
    if (header === null) {
      header = record;
      if (!header.includes(idColumn) || !header.includes(categoryColumn)) {
        throw invalid(`${file}: expected columns ${idColumn} and ${categoryColumn}, found ${header.join(', ')}.`);
      }
      continue;
    }
    const id = record[header.indexOf(idColumn)] ?? '';
    if (id === '') continue;
    out.push({ id, title: id, category: record[header.indexOf(categoryColumn)] ?? null, available: true });
  }
  return out;
}
