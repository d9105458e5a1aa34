import { randomBytes } from 'node:crypto';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import { describeEachStore } from '../testing/harness.js';
import { REFERENCE_TABLES } from './distribution.js';
import type { Store } from './open.js';
import { schema } from './schema.js';
import { rawStore } from './open.js';

interface Key {
  table: string;
  name: string;
  kind: string;
  columns: string[];
  refTable: string | null;
  refColumns: string[] | null;
}

/**
 * What keeps a schema from distributing by `shop_id`, read from the migrated database's catalogue: a table
 * without `shop_id` or a primary key, and a primary key, unique constraint, unique index or foreign key
 * without `shop_id` (Citus requires the distribution column in each; a foreign key must join on it).
 */
async function distributionProblems(store: Store, namespace: string, reference: readonly string[]) {
  const tables = await rawStore(store).query<{ table: string; has_shop: boolean; has_pk: boolean }>(
    `select c.relname as table,
            exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'shop_id' and not a.attisdropped) as has_shop,
            exists (select 1 from pg_constraint p where p.conrelid = c.oid and p.contype = 'p') as has_pk
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and c.relkind in ('r', 'p') order by 1`,
    [namespace],
  );
  const keys = await rawStore(store).query<Key>(
    `select c.relname as table, con.conname as name, con.contype::text as kind,
            array(select a.attname::text from unnest(con.conkey) with ordinality k(num, ord) join pg_attribute a
                    on a.attrelid = con.conrelid and a.attnum = k.num order by k.ord) as columns,
            (select r.relname::text from pg_class r where r.oid = con.confrelid) as "refTable",
            case when con.contype = 'f' then array(select a.attname::text from unnest(con.confkey) with ordinality k(num, ord)
                    join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num order by k.ord) end as "refColumns"
       from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1 and con.contype in ('p', 'u', 'f')
     union all
     select t.relname, i.relname, 'unique index',
            array(select coalesce(a.attname::text, '(expression)') from unnest(ix.indkey::int2[]) with ordinality k(num, ord)
                    left join pg_attribute a on a.attrelid = ix.indrelid and a.attnum = k.num order by k.ord), null, null
       from pg_index ix join pg_class t on t.oid = ix.indrelid join pg_class i on i.oid = ix.indexrelid
       join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = $1 and ix.indisunique
        and not exists (select 1 from pg_constraint con where con.conindid = ix.indexrelid)
      order by 1, 2`,
    [namespace],
  );
  const problems: string[] = [];
  const isReference = (table: string) => reference.includes(table);
  for (const t of tables) {
    if (isReference(t.table)) continue;
    if (!t.has_shop) problems.push(`${t.table}: no shop_id column (nor listed in REFERENCE_TABLES)`);
    if (!t.has_pk) problems.push(`${t.table}: no primary key`);
  }
  const kindName: Record<string, string> = { p: 'primary key', u: 'unique constraint', f: 'foreign key' };
  for (const k of keys) {
    if (isReference(k.table)) continue;
    const what = `${k.table}: ${kindName[k.kind] ?? k.kind} ${k.name} (${k.columns.join(', ')})`;
    if (k.kind !== 'f') {
      if (!k.columns.includes('shop_id')) problems.push(`${what} lacks shop_id`);
      continue;
    }
    if (k.refTable && isReference(k.refTable)) continue;
    const at = k.columns.indexOf('shop_id');
    if (at < 0 || k.refColumns?.[at] !== 'shop_id')
      problems.push(`${what} -> ${k.refTable} (${k.refColumns?.join(', ')}) does not join on shop_id`);
  }
  return { tables: tables.map((t) => t.table), keys, problems };
}

describeEachStore('distribution by shop_id', (getStore) => {
  it('every table has shop_id, and every primary key, unique constraint or index and foreign key holds it', async () => {
    const found = await distributionProblems(getStore(), 'public', REFERENCE_TABLES);
    expect(found.problems).toEqual([]);
    // The catalogue is the whole schema: every table drizzle declares, and the keys the migrations made.
    const declared = Object.values(schema).map((table) => getTableConfig(table).name);
    expect(found.tables).toEqual(expect.arrayContaining(declared));
    expect(found.keys.filter((k) => k.kind === 'p')).toHaveLength(found.tables.length);
    expect(found.keys.some((k) => k.kind === 'unique index' && k.name === 'subjects_email_index')).toBe(true);
  });

  it('finds a table, a key, a unique index and a foreign key without shop_id, and spares a reference table', async () => {
    const store = getStore();
    const ns = `distribution_probe_${randomBytes(4).toString('hex')}`;
    await rawStore(store).query(`create schema ${ns}`);
    try {
      for (const ddl of [
        `create table ${ns}.countries (code text primary key)`,
        `create table ${ns}.loose (id int primary key, label text)`,
        `create table ${ns}.tenants (shop_id text, id int, email text, country text references ${ns}.countries, primary key (shop_id, id))`,
        `create unique index tenants_email on ${ns}.tenants (email)`,
        `create table ${ns}.children (shop_id text, id int, parent text, primary key (shop_id, id), constraint children_parent foreign key (parent, id) references ${ns}.tenants (shop_id, id))`,
        `alter table ${ns}.children add constraint children_id unique (id)`,
      ])
        await rawStore(store).query(ddl);
      const found = await distributionProblems(store, ns, ['countries']);
      expect([...found.problems].sort()).toEqual([
        'children: foreign key children_parent (parent, id) -> tenants (shop_id, id) does not join on shop_id',
        'children: unique constraint children_id (id) lacks shop_id',
        'loose: no shop_id column (nor listed in REFERENCE_TABLES)',
        'loose: primary key loose_pkey (id) lacks shop_id',
        'tenants: unique index tenants_email (email) lacks shop_id',
      ]);
    } finally {
      await rawStore(store).query(`drop schema ${ns} cascade`);
    }
  });
});
