import { randomBytes } from 'node:crypto';
import { bigint, boolean, doublePrecision, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import { describeEachStore } from '../testing/harness.js';
import { bulkInsert } from './bulk.js';
import { rawStore } from './open.js';
import { bytea } from './schema.js';

function probeTable(name: string) {
  return pgTable(name, {
    shopId: text('shop_id').notNull(),
    n: integer('n'),
    big: bigint('big', { mode: 'number' }),
    flag: boolean('flag'),
    ratio: doublePrecision('ratio'),
    doc: jsonb('doc'),
    blob: bytea('blob'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }),
    note: text('note'),
  });
}

type Row = Record<string, unknown>;

describeEachStore('bulk insert', (getStore) => {
  async function roundTrip(rows: Row[]): Promise<Row[]> {
    const raw = rawStore(getStore());
    const name = `bulk_probe_${randomBytes(4).toString('hex')}`;
    await raw.query(
      `create table ${name} (shop_id text not null, n int, big bigint, flag boolean, ratio float8, doc jsonb, blob bytea, at timestamptz, note text, ord serial)`,
    );
    try {
      await bulkInsert(raw.db, probeTable(name), rows as never);
      return await raw.query<Row>(
        `select shop_id, n, big::text as big, flag, ratio, doc, encode(blob, 'hex') as blob, to_json(at)#>>'{}' as at, note from ${name} order by ord`,
      );
    } finally {
      await raw.query(`drop table ${name}`);
    }
  }

  it('bulk - every column type comes back as written, row by row and in order', async () => {
    const at = new Date('2026-03-01T10:00:00.123Z');
    const back = await roundTrip([
      {
        shopId: 's',
        n: 1,
        big: 9007199254740991,
        flag: true,
        ratio: 0.1,
        doc: { a: [1, 'x'], ['__proto__']: { polluted: true }, q: 'it\'s "quoted" \\ ünïcode' },
        blob: Buffer.from('00ff10', 'hex'),
        at,
        note: "l'été \\x00 \u2028",
      },
      { shopId: 's', n: -2, big: 0, flag: false, ratio: 1e-7, doc: 'just a string', blob: Buffer.alloc(0), at: null },
      { shopId: 's', n: undefined, doc: null, note: '\\xdeadbeef' },
    ]);
    expect(back).toEqual([
      {
        shop_id: 's',
        n: 1,
        big: '9007199254740991',
        flag: true,
        ratio: 0.1,
        doc: { a: [1, 'x'], ['__proto__']: { polluted: true }, q: 'it\'s "quoted" \\ ünïcode' },
        blob: '00ff10',
        at: '2026-03-01T10:00:00.123+00:00',
        note: "l'été \\x00 \u2028",
      },
      { shop_id: 's', n: -2, big: '0', flag: false, ratio: 1e-7, doc: 'just a string', blob: '', at: null, note: null },
      {
        shop_id: 's',
        n: null,
        big: null,
        flag: null,
        ratio: null,
        doc: null,
        blob: null,
        at: null,
        note: '\\xdeadbeef',
      },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('bulk - a value every row shares is bound once and stored as each row would store it', async () => {
    const at = new Date('2026-03-01T10:00:00Z');
    const rows = Array.from({ length: 3 }, (_, i) => ({
      shopId: 'shared-shop',
      n: 0,
      flag: false,
      ratio: 2.5,
      doc: 'same string', // JSON: stays the JSON string, not text parsed as JSON
      blob: Buffer.from('ab', 'hex'),
      at: new Date(at), // equal times, distinct Date objects
      note: i === 1 ? undefined : null, // present, null in every row
      big: i,
    }));
    const back = await roundTrip(rows);
    expect(back).toEqual(
      [0, 1, 2].map((i) => ({
        shop_id: 'shared-shop',
        n: 0,
        big: String(i),
        flag: false,
        ratio: 2.5,
        doc: 'same string',
        blob: 'ab',
        at: '2026-03-01T10:00:00+00:00',
        note: null,
      })),
    );
    // A text that looks like bytea hex in every row stays text.
    expect(
      (
        await roundTrip([
          { shopId: 'x', note: '\\x41' },
          { shopId: 'x', note: '\\x41' },
        ])
      ).map((r) => r.note),
    ).toEqual(['\\x41', '\\x41']);
  });
});
