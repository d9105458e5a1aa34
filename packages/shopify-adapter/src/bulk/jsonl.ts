/**
 * Reads a bulk operation's JSONL result as a stream of lines and puts orders back together with their
 * line items. Children carry `__parentId` and come after their parent, but not necessarily right after
 * it: an order is held in a bounded window until enough later orders have arrived, then released.
 */
import { TactfulError } from '@tactful/core';
import type { LineItemNode, OrderNode } from '../records.js';

/** Splits a byte stream into lines without ever holding more than one chunk and one partial line. */
export async function* readLines(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = '';
  try {
    for (;;) {
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (cause) {
        throw new TactfulError(
          'SHOPIFY.NETWORK',
          'The bulk result download broke off; the import resumes where it stopped on the next run.',
          { cause, retryable: true },
        );
      }
      const { value, done } = chunk;
      if (done) break;
      rest += decoder.decode(value, { stream: true });
      let at = rest.indexOf('\n');
      let from = 0;
      while (at >= 0) {
        const line = rest.slice(from, at);
        if (line.trim().length > 0) yield line;
        from = at + 1;
        at = rest.indexOf('\n', from);
      }
      rest = rest.slice(from);
    }
    rest += decoder.decode();
    if (rest.trim().length > 0) yield rest;
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

export interface AssembledOrder {
  order: OrderNode;
  lines: LineItemNode[];
}

interface Pending extends AssembledOrder {}

/**
 * Emits each order with its line items once `window` later orders have arrived (or the file ended).
 * A child whose parent already left the window would be lost: that is reported, never skipped.
 */
export async function* assembleOrders(lines: AsyncIterable<string>, window: number): AsyncGenerator<AssembledOrder> {
  const pending = new Map<string, Pending>();
  let lineNo = 0;
  for await (const text of lines) {
    lineNo += 1;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(text) as Record<string, unknown>;
    } catch (cause) {
      throw new TactfulError('SHOPIFY.BULK_RESULT_INVALID', `Line ${lineNo} of the bulk result is not JSON.`, {
        cause,
      });
    }
    const parentId = row.__parentId;
    if (typeof parentId === 'string') {
      const parent = pending.get(parentId);
      if (!parent) {
        throw new TactfulError(
          'SHOPIFY.BULK_ORDERING',
          `Line ${lineNo} of the bulk result belongs to ${parentId}, which is no longer waiting for children: raise bulk.window (now ${window}) or set bulk.groupObjects.`,
        );
      }
      if (typeof row.id === 'string' && row.id.includes('/LineItem/'))
        parent.lines.push(row as unknown as LineItemNode);
      continue;
    }
    if (typeof row.id !== 'string') continue;
    pending.set(row.id, { order: row as unknown as OrderNode, lines: [] });
    while (pending.size > window) {
      const [oldestId, oldest] = pending.entries().next().value as [string, Pending];
      pending.delete(oldestId);
      yield oldest;
    }
  }
  for (const item of pending.values()) yield item;
}
