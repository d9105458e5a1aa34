#!/usr/bin/env node
/**
 * Converts a public basket data set, given its path, into the order-line JSONL `tactful evaluate` and
 * `tactful import orders` read ({"orderId","customerId","productId","quantity","time"}, one order's lines
 * together, orders by time). Where each file comes from and its licence: scripts/datasets/README.md.
 *
 *   node scripts/datasets/convert.mjs bakery BreadBasket_DMS.csv > bakery.jsonl
 *   node scripts/datasets/convert.mjs grocery-members Groceries_dataset.csv > members.jsonl
 *   node scripts/datasets/convert.mjs online-retail "Online Retail.csv" > retail.jsonl
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** One CSV record of a line (RFC 4180 quoting; these files hold no line breaks inside fields). */
function cells(line) {
  const out = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cell);
      cell = '';
    } else cell += c;
  }
  out.push(cell);
  return out;
}

/** dd-mm-yyyy, yyyy-mm-dd or m/d/yyyy, with an optional hh:mm[:ss], as UTC epoch ms. */
function parseDate(text, time = '') {
  const t = `${text} ${time}`.trim();
  let m = /^(\d{1,2})-(\d{1,2})-(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (m) return Date.UTC(+m[3], +m[2] - 1, +m[1], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (m) return Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (m) return Date.UTC(+m[3], +m[1] - 1, +m[2], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0));
  throw new Error(`Unreadable date "${t}": expected dd-mm-yyyy, yyyy-mm-dd or m/d/yyyy with an optional time.`);
}

const kinds = {
  /** The Bread Basket, Edinburgh: Date,Time,Transaction,Item; "NONE" marks an empty line. No customers. */
  bakery: (row, header) => {
    const at = (name) => row[header.indexOf(name)];
    const item = at('Item')?.trim();
    if (!item || item === 'NONE') return null;
    return {
      orderId: `t${at('Transaction')}`,
      customerId: null,
      productId: item,
      time: parseDate(at('Date'), at('Time')),
    };
  },
  /** Member_number,Date,itemDescription: a basket is one member's purchases of one day. */
  'grocery-members': (row) => {
    const [member, date, item] = row;
    if (!member || !date || !item) return null;
    return { orderId: `${member}/${date}`, customerId: `m${member}`, productId: item.trim(), time: parseDate(date) };
  },
  /** UCI Online Retail: invoices (cancellations "C…" and non-positive quantities left out), products by stock code. */
  'online-retail': (row, header) => {
    const at = (name) => row[header.indexOf(name)];
    const invoice = at('InvoiceNo') ?? at('Invoice');
    const quantity = Number(at('Quantity'));
    if (!invoice || invoice.startsWith('C') || !(quantity > 0)) return null;
    const customer = (at('CustomerID') ?? at('Customer ID') ?? '').trim().replace(/\.0$/, '');
    return {
      orderId: invoice,
      customerId: customer === '' ? null : `c${customer}`,
      productId: at('StockCode').trim().toUpperCase(),
      time: parseDate(at('InvoiceDate')),
    };
  },
};

const [kind, file] = process.argv.slice(2);
if (!kinds[kind] || !file) {
  process.stderr.write(`usage: node scripts/datasets/convert.mjs ${Object.keys(kinds).join('|')} FILE > out.jsonl\n`);
  process.exit(2);
}
const orders = new Map();
let header = null;
for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  const row = cells(line);
  if (header === null) {
    header = row.map((h) => h.trim());
    continue;
  }
  const item = kinds[kind](row, header);
  if (!item) continue;
  let order = orders.get(item.orderId);
  if (!order) orders.set(item.orderId, (order = { customerId: item.customerId, time: item.time, products: new Set() }));
  order.products.add(item.productId);
}
const sorted = [...orders].sort((a, b) => a[1].time - b[1].time || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
let chunk = '';
for (const [orderId, order] of sorted) {
  for (const productId of order.products) {
    const line = { orderId, customerId: order.customerId, productId, quantity: 1, time: order.time };
    chunk += `${JSON.stringify(line)}\n`;
  }
  if (chunk.length > 1 << 16) {
    process.stdout.write(chunk);
    chunk = '';
  }
}
process.stdout.write(chunk);
