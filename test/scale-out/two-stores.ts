/**
 * Two app instances' stores (two pools) on a PostgreSQL database of their own, made before a suite and dropped
 * after it: workers that serve every shop must not meet other runs' rows (sealed under other secrets, they fail
 * on every attempt). Call inside a `describe` that runs only when `storeTargets()` has PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '@tactful/core';
import type { StoreTarget } from '@tactful/core/testing';

export interface StorePair {
  a: Store;
  b: Store;
}

export function twoStoresOnOwnDatabase(target: StoreTarget, prefix: string): StorePair {
  const pair = {} as StorePair;
  const database = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  beforeAll(async () => {
    if (target.unavailable) throw new Error(target.unavailable);
    await admin(`create database ${database}`);
    const url = new URL(target.url);
    url.pathname = `/${database}`;
    pair.a = await openStore({ url: url.toString(), secret: target.secret });
    pair.b = await openStore({ url: url.toString(), secret: target.secret });
  });
  afterAll(async () => {
    await pair.a?.close();
    await pair.b?.close();
    await admin(`drop database if exists ${database} with (force)`);
  });
  return pair;
}
