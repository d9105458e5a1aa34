import { sql } from 'drizzle-orm';
import { PglitePreparedQuery } from 'drizzle-orm/pglite/session';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, rawStore, type Store } from './open.js';
import { DRIZZLE_TEXT_TYPES } from './pglite-parsers.js';

describe("PGlite: drizzle's parsers set once on the client", () => {
  it("the types set once are exactly those drizzle's driver passes with each query, each read as its text", () => {
    // Built the way drizzle's PGlite session builds each query, to read the options it passes.
    const noLog = { logQuery: () => undefined };
    const query = new PglitePreparedQuery(
      {} as never,
      'select 1',
      [],
      noLog as never,
      undefined as never,
      undefined,
      undefined,
      undefined,
      undefined,
      false,
    );
    const configs = query as unknown as Record<'queryConfig' | 'rawQueryConfig', { parsers: Record<number, unknown> }>;
    for (const config of [configs.queryConfig, configs.rawQueryConfig]) {
      expect(Object.keys(config.parsers).map(Number).sort()).toEqual([...DRIZZLE_TEXT_TYPES].sort());
      for (const parse of Object.values(config.parsers))
        expect((parse as (text: string) => unknown)('2026-05-01 10:00:00+00')).toBe('2026-05-01 10:00:00+00');
    }
  });

  let store: Store;
  beforeAll(async () => {
    store = await openStore({ url: 'memory://' });
  });
  afterAll(async () => {
    await store.close();
  });

  const values = `select timestamptz '2026-05-01 10:00:00+00' as at, date '2026-05-01' as day,
      interval '1 day 02:00' as span, array[timestamptz '2026-05-01 10:00:00+00'] as ats, numeric '1.50' as price,
      array[numeric '1.50'] as prices, 42::int as n, true as yes, '{"a":1}'::jsonb as doc`;

  it('drizzle reads those types as text and maps them itself, as with its own parsers', async () => {
    const { db } = rawStore(store);
    const result = (await db.execute(sql.raw(values))) as unknown as { rows: Array<Record<string, unknown>> };
    expect(result.rows[0]).toEqual({
      at: '2026-05-01 10:00:00+00',
      day: '2026-05-01',
      span: '1 day 02:00:00',
      ats: '{"2026-05-01 10:00:00+00"}',
      price: '1.50',
      prices: '{1.50}',
      n: 42,
      yes: true,
      doc: { a: 1 },
    });
    // A schema column of drizzle's timestamp mode comes back as a Date.
    await db.execute(sql`insert into shops (shop_id, wrapped_key, created_at)
      values ('parsers.myshopify.com', '\\x00', '2026-05-01T10:00:00Z')`);
    const [shop] = await db.query.shops.findMany({ where: (s, { eq }) => eq(s.shopId, 'parsers.myshopify.com') });
    expect(shop!.createdAt).toEqual(new Date('2026-05-01T10:00:00Z'));
  });

  it("plain SQL on the same client still reads them with PGlite's own parsers", async () => {
    const [row] = await rawStore(store).query<Record<string, unknown>>(values);
    expect(row!.at).toEqual(new Date('2026-05-01T10:00:00Z'));
    expect(row!.ats).toEqual([new Date('2026-05-01T10:00:00Z')]);
    expect(row!.day).toEqual(new Date('2026-05-01T00:00:00Z'));
    expect(row!.n).toBe(42);
    expect(row!.doc).toEqual({ a: 1 });
  });
});
