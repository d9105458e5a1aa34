import { describe, expect, it } from 'vitest';
import { assembleOrders, readLines } from './jsonl.js';

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('readLines', () => {
  it('splits lines across chunk boundaries, including inside a multi-byte character', async () => {
    const text = '{"title":"Crème brûlée"}\n{"title":"Smørrebrød"}\n\n{"title":"last, no newline"}';
    const bytes = new TextEncoder().encode(text);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) chunks.push(bytes.subarray(i, i + 3));
    expect(await collect(readLines(streamOf(chunks)))).toEqual([
      '{"title":"Crème brûlée"}',
      '{"title":"Smørrebrød"}',
      '{"title":"last, no newline"}',
    ]);
  });
});

describe('readLines on a broken download', () => {
  it('turns a stream error into a retryable TactfulError', async () => {
    let sent = false;
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) {
          sent = true;
          controller.enqueue(new TextEncoder().encode('{"a":1}\n{"b"'));
        } else controller.error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      },
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const line of readLines(broken)) seen.push(line);
      })(),
    ).rejects.toMatchObject({ code: 'SHOPIFY.NETWORK', retryable: true });
    expect(seen).toEqual(['{"a":1}']);
  });
});

describe('assembleOrders', () => {
  const order = (n: number) =>
    JSON.stringify({
      id: `gid://shopify/Order/${n}`,
      createdAt: '2025-01-01T00:00:00Z',
      updatedAt: '2025-01-01T00:00:00Z',
    });
  const line = (n: number, parent: number) =>
    JSON.stringify({
      id: `gid://shopify/LineItem/${n}`,
      title: 'x',
      quantity: 1,
      product: { id: 'gid://shopify/Product/1' },
      __parentId: `gid://shopify/Order/${parent}`,
    });

  it('streams: an endless result yields orders while holding at most the window', async () => {
    let pulled = 0;
    async function* endless() {
      for (let n = 1; ; n++) {
        pulled++;
        yield order(n);
        pulled++;
        yield line(n, n);
      }
    }
    const window = 50;
    let taken = 0;
    for await (const item of assembleOrders(endless(), window)) {
      expect(item.lines).toHaveLength(1);
      if (++taken === 1000) break;
    }
    // 1000 orders released means 1000 + window orders read, two lines each, and no more.
    expect(pulled).toBeLessThanOrEqual(2 * (1000 + window) + 2);
  });

  it('puts late children back with their order, in file order', async () => {
    async function* lines() {
      yield order(1);
      yield order(2);
      yield line(10, 1);
      yield order(3);
      yield line(20, 2);
      yield line(11, 1);
      yield line(30, 3);
    }
    const result = await collect(assembleOrders(lines(), 3));
    expect(result.map((r) => [r.order.id, r.lines.map((l) => l.id)])).toEqual([
      ['gid://shopify/Order/1', ['gid://shopify/LineItem/10', 'gid://shopify/LineItem/11']],
      ['gid://shopify/Order/2', ['gid://shopify/LineItem/20']],
      ['gid://shopify/Order/3', ['gid://shopify/LineItem/30']],
    ]);
  });

  it('reports a child whose order already left the window, and a line that is not JSON', async () => {
    async function* late() {
      yield order(1);
      yield order(2);
      yield line(10, 1);
    }
    await expect(collect(assembleOrders(late(), 1))).rejects.toMatchObject({ code: 'SHOPIFY.BULK_ORDERING' });
    async function* broken() {
      yield order(1);
      yield '{"id": ';
    }
    await expect(collect(assembleOrders(broken(), 5))).rejects.toMatchObject({ code: 'SHOPIFY.BULK_RESULT_INVALID' });
  });
});
