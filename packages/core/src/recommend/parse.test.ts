import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isTactfulError } from '../errors/tactful-error.js';
import type { OrderBasket } from './model.js';
import { csvRecords } from './csv.js';
import {
  detectBasketFormat,
  parseBasketCsv,
  parseFimi,
  parseJsonl,
  readBaskets,
  readItemCatalog,
  splitLines,
} from './parse.js';
import { groceriesPath } from '../../../../test/support/groceries.js';

const data = groceriesPath();
// A real Shopify "Export orders" CSV, kept with the Shopify adapter's test data.
const ordersExport = fileURLToPath(
  new URL('../../../shopify-adapter/test-data/orders_export_sample.csv', import.meta.url),
);
const dir = mkdtempSync(join(tmpdir(), 'tactful-parse-'));

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('line and record splitting', () => {
  it('lines - LF and CRLF, across chunk boundaries, last line without a newline', async () => {
    expect(await collect(splitLines(['a,b\r', '\nc', 'd\n', 'e']))).toEqual(['a,b', 'cd', 'e']);
  });

  it('csv - quoted fields with commas, doubled quotes and line breaks, split across chunks', async () => {
    const chunks = ['x,"a, b","say ""hi', '"""\r\n1,"two\nlines",', '3\n'];
    expect(await collect(csvRecords(chunks))).toEqual([
      ['x', 'a, b', 'say "hi"'],
      ['1', 'two\nlines', '3'],
    ]);
  });

  it('csv - an unclosed quote is invalid input', async () => {
    const error = await rejection(collect(csvRecords(['a,b\n', 'a,"b'])));
    expect(isTactfulError(error, 'INPUT.INVALID')).toBe(true);
    expect((error as Error).message).toMatch(/ends inside a quoted field \(line 2\): a closing `"` is missing/);
  });

  it('csv - a stray quote inside an unquoted field is kept as text, an empty line is skipped', async () => {
    expect(await collect(csvRecords(['12" pizza,b\n\n', 'c,d']))).toEqual([
      ['12" pizza', 'b'],
      ['c', 'd'],
    ]);
  });
});

describe('basket-csv', () => {
  it('keeps labels exactly, trailing spaces included', async () => {
    const baskets = await collect(parseBasketCsv(['pip fruit,yogurt,cream cheese ,meat spreads', '', 'whole milk']));
    expect(baskets.map((b) => b.productIds)).toEqual([
      ['pip fruit', 'yogurt', 'cream cheese ', 'meat spreads'],
      ['whole milk'],
    ]);
    expect(baskets.map((b) => b.orderId)).toEqual(['1', '3']);
  });

  it('Groceries - 9,835 baskets, and both labels with a trailing space survive', async () => {
    const { format, baskets } = await readBaskets(`${data}/groceries.csv`);
    expect(format).toBe('basket-csv');
    const all = await collect(baskets);
    expect(all).toHaveLength(9835);
    const labels = new Set(all.flatMap((b) => b.productIds));
    expect(labels.size).toBe(169);
    expect(labels.has('cream cheese ')).toBe(true);
    expect(labels.has('roll products ')).toBe(true);
    expect(labels.has('cream cheese')).toBe(false);
    const catalog = await readItemCatalog(`${data}/groceries_items.csv`);
    expect(catalog).toHaveLength(169);
    expect(new Set(catalog.map((p) => p.id))).toEqual(labels);
    expect(catalog.find((p) => p.id === 'roll products ')?.category).toBe('bread and backed goods');
  });
});

describe('fimi', () => {
  it('space-separated ids, blank lines skipped', async () => {
    const baskets = await collect(parseFimi(['1 2  3', '', '  7 ']));
    expect(baskets.map((b) => b.productIds)).toEqual([['1', '2', '3'], ['7']]);
  });
});

describe('jsonl', () => {
  it('groups contiguous order lines, parses times, drops quantity 0', async () => {
    const lines = [
      '{"orderId":"A","customerId":"c1","productId":"p1","quantity":2,"time":"2025-01-02T00:00:00Z"}',
      '{"order_id":"A","product_id":"p2","quantity":0}',
      '{"orderId":"A","productId":"p3"}',
      '{"orderId":7,"customerId":null,"productId":9,"time":1700000000000}',
    ];
    const baskets = await collect(parseJsonl(lines));
    expect(baskets).toEqual<OrderBasket[]>([
      { orderId: 'A', customerId: 'c1', productIds: ['p1', 'p3'], time: Date.UTC(2025, 0, 2) },
      { orderId: '7', customerId: null, productIds: ['9'], time: 1700000000000 },
    ]);
  });

  it('bad lines are invalid input naming the line', async () => {
    for (const [line, pattern] of [
      ['{"orderId":"A"}', /Line 1 has no productId/],
      ['not json', /Line 1 is not JSON/],
      ['{"orderId":"A","productId":"p","time":"yesterday"}', /Line 1: time/],
    ] as const) {
      const error = await rejection(collect(parseJsonl([line])));
      expect(isTactfulError(error, 'INPUT.INVALID')).toBe(true);
      expect((error as Error).message).toMatch(pattern);
    }
    const split = await rejection(
      collect(
        parseJsonl([
          '{"orderId":"A","productId":"p"}',
          '{"orderId":"B","productId":"p"}',
          '{"orderId":"A","productId":"q"}',
        ]),
      ),
    );
    expect((split as Error).message).toMatch(/not contiguous/);
  });
});

describe('shopify-csv', () => {
  it('the admin export - rows grouped by Name, customer from the first row, line-item names kept', async () => {
    const { format, baskets } = await readBaskets(ordersExport);
    expect(format).toBe('shopify-csv');
    const orders = await collect(baskets);
    expect(orders).toHaveLength(19);
    const first = orders[0]!;
    expect(first.orderId).toBe('6634244374859');
    expect(first.productIds).toEqual([
      'Gift Card - $10',
      'Selling Plans Ski Wax - Selling Plans Ski Wax',
      'The Collection Snowboard: Hydrogen',
      'The Collection Snowboard: Oxygen',
    ]);
    expect(first.time).toBe(Date.parse('2025-05-11T09:55:16-04:00'));
    const o1004 = orders.find((o) => o.orderId === '6637075562827')!;
    expect(o1004.customerId).toBe('ayumu.hirano@example.com');
    expect(o1004.productIds).toHaveLength(2);
    expect(orders.reduce((sum, o) => sum + o.productIds.length, 0)).toBe(40);
  });

  it('cancelled and refunded orders are left out', async () => {
    const file = join(dir, 'cancelled.csv');
    writeFileSync(
      file,
      'Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Cancelled at,Id\n' +
        '#1,a@example.com,paid,2025-05-11 09:55:16 -0400,1,"Board, red",,11\n' +
        '#1,,,2025-05-11 09:55:16 -0400,1,Wax,,\n' +
        '#2,b@example.com,paid,2025-05-12 09:55:16 -0400,1,Wax,2025-05-13 10:00:00 -0400,12\n' +
        '#3,b@example.com,refunded,2025-05-12 09:55:16 -0400,1,Wax,,13\n',
    );
    const orders = await collect((await readBaskets(file)).baskets);
    expect(orders).toEqual([
      {
        orderId: '11',
        customerId: 'a@example.com',
        productIds: ['Board, red', 'Wax'],
        time: Date.parse('2025-05-11T09:55:16-04:00'),
      },
    ]);
  });

  it('a CSV without the export columns is refused', async () => {
    const file = join(dir, 'other.csv');
    writeFileSync(file, 'Name,Email\n#1,a@example.com\n');
    const error = await rejection(collect((await readBaskets(file, 'shopify-csv')).baskets));
    expect((error as Error).message).toMatch(/Lineitem name/);
  });
});

describe('format detection and bad input', () => {
  it('guesses each format from the file', async () => {
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    expect(await detectBasketFormat(write('a.dat', '1 2 3\n4 5\n'))).toBe('fimi');
    expect(await detectBasketFormat(write('b.txt', '{"orderId":"1","productId":"a"}\n'))).toBe('jsonl');
    expect(await detectBasketFormat(write('c.jsonl', ''))).toBe('jsonl');
    expect(await detectBasketFormat(write('d.csv', 'whole milk,butter\n'))).toBe('basket-csv');
    expect(await detectBasketFormat(ordersExport)).toBe('shopify-csv');
  });

  it('a missing file or an unknown format is invalid input', async () => {
    const missing = await rejection(readBaskets(join(dir, 'nope.csv')));
    expect(isTactfulError(missing, 'INPUT.INVALID')).toBe(true);
    expect((missing as Error).message).toMatch(/no such file/);
    const unknown = await rejection(readBaskets(`${data}/groceries.csv`, 'xml'));
    expect(isTactfulError(unknown, 'INPUT.INVALID')).toBe(true);
    expect((unknown as Error).message).toMatch(/basket-csv, fimi, shopify-csv, jsonl/);
  });
});
