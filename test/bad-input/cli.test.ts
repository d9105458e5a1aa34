/**
 * Bad input at the CLI: `tactful import orders FILE` with broken quoting, wrong columns, broken lines (also
 * after the first batch of 2 000 orders), files that are not files, and bad flags. Each exits non-zero
 * with a message that names the problem, and nothing is stored: each case imports under a source of its
 * own, so a stray row names its case, and the whole database is compared before and after.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '@tactful/core';
import { runCaptured } from '../../packages/app/src/cli/capture.js';
import { snapshot } from './harness.js';
import { rawStore } from '@tactful/core/testing';

const dir = mkdtempSync(join(tmpdir(), 'tactful-bad-cli-'));
const db = join(dir, 'db');
const base = ['--db', db, '--shop', 'bad-cli.myshopify.com'];
const shopifyExport = readFileSync(
  new URL('../../packages/shopify-adapter/test-data/orders_export_sample.csv', import.meta.url),
  'utf8',
);
const [header, ...rows] = shopifyExport.split(/\r?\n/);
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
/** rows[0] with cell `index` replaced (the first 17 cells of the sample hold no comma). */
const withCell = (index: number, value: string) => {
  const cells = rows[0]!.split(',');
  cells[index] = value;
  return cells.join(',');
};
const jsonLine = (i: number) =>
  JSON.stringify({ orderId: `j${i}`, productId: `p${i % 7}`, quantity: 1, time: '2026-03-01T10:00:00Z' });

async function dbSnapshot() {
  const store = await openStore({ url: db });
  try {
    const sources = await rawStore(store).query<{ source: string; n: number }>(
      'select source, count(*)::int as n from orders group by source order by source',
    );
    return { sources, all: await snapshot(store) };
  } finally {
    await store.close();
  }
}

let baseline: Awaited<ReturnType<typeof dbSnapshot>>;
beforeAll(async () => {
  // A shop with real history: the Shopify export imported once.
  const ok = await runCaptured([
    ...base,
    'import',
    'orders',
    file('good.csv', shopifyExport),
    '--source',
    'baseline',
    '--json',
  ]);
  expect(ok.code).toBe(0);
  baseline = await dbSnapshot();
  expect(baseline.sources).toEqual([{ source: 'baseline', n: JSON.parse(ok.stdout).orders }]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Case {
  name: string;
  args: () => string[];
  /** Exit code: 2 for input or usage the command cannot take (INPUT.INVALID, unknown flags). */
  code: number;
  says: RegExp;
  /** A usage error of the command line itself: no --source is added to it. */
  usage?: true;
}

const cases: Case[] = [
  {
    name: 'Shopify CSV: a quoted field never closed',
    args: () => [
      'import',
      'orders',
      file('unclosed.csv', `${header}\n${rows[0]}\n#9999,"broken@example.com,paid,2025-05-11 09:55:16 -0400\n`),
    ],
    code: 2,
    says: /closing `"` is missing/,
  },
  {
    name: 'Shopify CSV: the header lacks the line item columns',
    args: () => [
      'import',
      'orders',
      file(
        'nolines.csv',
        header!.replace('Lineitem name', 'Item').replace('Lineitem quantity', 'Qty') +
          '\n' +
          rows.slice(0, 3).join('\n'),
      ),
      '--format',
      'shopify-csv',
    ],
    code: 2,
    says: /header lacks/,
  },
  {
    name: 'Shopify CSV: columns of another export',
    args: () => [
      'import',
      'orders',
      file('other.csv', 'Email Address,First Name,Last Name\nkim@example.com,Kim,Lee\n'),
      '--format',
      'shopify-csv',
    ],
    code: 2,
    says: /Not a Shopify orders export/,
  },
  {
    name: 'Shopify CSV: a row without Name',
    args: () => [
      'import',
      'orders',
      file('noname.csv', `${header}\n${rows[0]}\n,${rows[0]!.split(',').slice(1).join(',')}`),
    ],
    code: 2,
    says: /has no Name/,
  },
  {
    name: 'Shopify CSV: a date that is not one',
    args: () => [
      'import',
      'orders',
      file('baddate.csv', `${header}\n${withCell(15, 'yesterday')}`),
      '--format',
      'shopify-csv',
    ],
    code: 2,
    says: /not a date/,
  },
  {
    name: 'Shopify CSV: SQL as a quantity',
    args: () => [
      'import',
      'orders',
      file('sqlqty.csv', `${header}\n${withCell(16, "'; drop table orders; --")}`),
      '--format',
      'shopify-csv',
    ],
    code: 2,
    says: /Lineitem quantity .* is not a number/,
  },
  {
    name: 'JSONL: a line that is not JSON',
    args: () => [
      'import',
      'orders',
      file('broken.jsonl', `${jsonLine(1)}\n{"orderId": "j2", "productId": \n`),
      '--format',
      'jsonl',
    ],
    code: 2,
    says: /Line 2 is not JSON/,
  },
  {
    name: 'JSONL: a line without productId',
    args: () => [
      'import',
      'orders',
      file('noproduct.jsonl', `${jsonLine(1)}\n{"orderId":"j2","time":"2026-03-01T10:00:00Z"}\n`),
      '--format',
      'jsonl',
    ],
    code: 2,
    says: /has no productId/,
  },
  {
    name: 'JSONL: a broken line after the first 2 000 orders',
    args: () => [
      'import',
      'orders',
      file('late.jsonl', `${Array.from({ length: 2500 }, (_, i) => jsonLine(i)).join('\n')}\nnot json\n`),
      '--format',
      'jsonl',
      '--source',
      'late-break',
    ],
    code: 2,
    says: /Line 2501 is not JSON/,
  },
  {
    name: 'an empty file',
    args: () => ['import', 'orders', file('empty.csv', '')],
    code: 2,
    says: /holds no orders|empty|format/,
  },
  {
    name: 'binary garbage',
    args: () => [
      'import',
      'orders',
      file('garbage.bin', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 37) % 256))),
      '--format',
      'shopify-csv',
    ],
    code: 2,
    says: /./,
  },
  {
    name: 'a file that does not exist',
    args: () => ['import', 'orders', join(dir, 'nope.csv')],
    code: 2,
    says: /no such file/,
  },
  {
    name: 'a folder instead of a file',
    args: () => {
      mkdirSync(join(dir, 'folder.csv'), { recursive: true });
      return ['import', 'orders', join(dir, 'folder.csv')];
    },
    code: 2,
    says: /is not a file/,
  },
  {
    name: 'an unknown --format',
    args: () => ['import', 'orders', file('good2.csv', shopifyExport), '--format', "csv'; drop table orders; --"],
    code: 2,
    says: /Unknown format/,
  },
  {
    name: 'a catalogue with the wrong columns',
    args: () => [
      'import',
      'orders',
      file('good3.csv', shopifyExport),
      '--catalog',
      file('cat.csv', 'sku,name\n1,Tea\n'),
    ],
    code: 2,
    says: /expected columns/,
  },
  {
    name: 'an unknown flag',
    args: () => ['import', 'orders', file('good4.csv', shopifyExport), '--frobnicate'],
    code: 2,
    says: /unknown option/,
    usage: true,
  },
  {
    name: 'no file argument',
    args: () => ['import', 'orders'],
    code: 2,
    says: /missing required argument/,
    usage: true,
  },
  {
    name: 'an unknown subcommand',
    args: () => ['import', 'everything', 'x.csv'],
    code: 2,
    says: /unknown command|too many arguments|error/,
    usage: true,
  },
];

describe('tactful import orders: bad files and flags are refused and store nothing', () => {
  const seen: Array<{ name: string; code: number; stderr: string }> = [];
  it.each(cases.map((c, i) => [c.name, c, i] as const))('%s', async (_name, c, i) => {
    const args = c.args();
    const withSource = args.includes('--source') || c.usage ? args : [...args, '--source', `case-${i}`];
    const r = await runCaptured([...base, ...withSource]);
    seen.push({ name: c.name, code: r.code, stderr: r.stderr });
    expect(r.code, r.stderr || r.stdout).toBe(c.code);
    expect(r.stderr).toMatch(c.says);
    expect(r.stdout).not.toMatch(/imported \d+ orders/);
  });

  it('after every refusal, the database is exactly as before: no order of any case, same heads', async () => {
    const after = await dbSnapshot();
    expect(after.sources).toEqual(baseline.sources);
    expect(after.all).toEqual(baseline.all);
  });
});

describe('every command: wrong input exits 2 with one line that names the input and what to do', () => {
  const cases: Array<{ name: string; args: () => string[]; says: RegExp }> = [
    {
      name: 'audit export --out into a folder that does not exist',
      args: () => ['audit', 'export', '--out', join(dir, 'missing', 'a.csv')],
      says: /--out .*missing\/a\.csv: the folder .*missing does not exist: create it or write elsewhere\./,
    },
    {
      name: 'audit export --out naming a folder',
      args: () => ['audit', 'export', '--out', dir],
      says: /is a folder: name a file in it/,
    },
    {
      name: '--db naming a file',
      args: () => ['--db', '/etc/passwd', 'consent', 'show', '--email', 'kim@example.com'],
      says: /--db \/etc\/passwd is a file, not a database: give a folder/,
    },
    {
      name: 'profile set with an address that is not one',
      args: () => ['profile', 'set', 'bad-email', '--first-name', 'Kim'],
      says: /^error INPUT\.INVALID: profile set: "bad-email" is not a valid email address: name the customer as --email/,
    },
    {
      name: 'profile exclude naming two customers',
      args: () => ['profile', 'exclude', 'kim@example.com', '--email', 'lee@example.com', '--category', 'tea'],
      says: /name two customers: give one, as --email <address>/,
    },
    {
      name: 'profile set naming no customer',
      args: () => ['profile', 'set', '--first-name', 'Kim'],
      says: /profile set: name the customer with --email <address>/,
    },
    {
      name: 'import orders of a file that does not exist calls it an orders file',
      args: () => ['import', 'orders', join(dir, 'none.csv')],
      says: /Cannot read the orders file .*none\.csv.*: no such file/,
    },
  ];

  let before: Awaited<ReturnType<typeof dbSnapshot>>;
  beforeAll(async () => {
    before = await dbSnapshot();
  });

  it.each(cases)('$name', async ({ args, says }) => {
    const given = args();
    const r = await runCaptured(given[0] === '--db' ? given : [...base, ...given]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/undefined|Error: E[A-Z]+|\n\s+at /);
  });

  it('the profile commands take --email like every other command, the address alone too', async () => {
    const flag = await runCaptured([...base, 'profile', 'set', '--email', 'nobody@example.com', '--first-name', 'Kim']);
    const alone = await runCaptured([...base, 'profile', 'set', 'nobody@example.com', '--first-name', 'Kim']);
    expect(flag.stderr).toMatch(/nobody@example\.com/);
    expect(alone.stderr).toBe(flag.stderr);
    expect(alone.code).toBe(flag.code);
  });

  it('nothing was stored by any of them', async () => {
    expect(await dbSnapshot()).toEqual(before);
  });
});
