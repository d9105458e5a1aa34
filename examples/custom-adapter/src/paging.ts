/**
 * Pages a WooCommerce collection without gaps or duplicates. WooCommerce pages by offset (`page`/`per_page`,
 * or `offset`), which shifts when a record before the current position is deleted. The adapter sorts by id
 * ascending (new records land at the end), asks for one record of overlap, and the cursor remembers the last id
 * it handed out: when the overlap shows the list moved, it steps back and keeps only ids after that one.
 */
import { TactfulError, type Page, type PageRequest } from '@tactful/core';
import type { Query, WooClient } from './client.js';

interface Cursor {
  /** Position (offset) just after the last record handed out, as the list stood then. */
  o: number;
  /** The last id handed out. */
  l: number;
}

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decode(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (Number.isInteger(value.o) && Number.isInteger(value.l) && value.o! >= 0 && value.l! >= 0)
      return { o: value.o!, l: value.l! };
  } catch {
    // falls through to the error below
  }
  throw new TactfulError(
    'WOOCOMMERCE.BAD_CURSOR',
    `"${text.slice(0, 40)}" is not a cursor this adapter handed out: start again without a cursor.`,
  );
}

export async function pageCollection<Raw extends { id: number }, T>(
  client: WooClient,
  path: string,
  request: PageRequest | undefined,
  pageSize: number,
  map: (raw: Raw) => T,
  query: Query = {},
): Promise<Page<T>> {
  const limit = Math.max(1, Math.min(request?.limit ?? pageSize, pageSize));
  const cursor = request?.cursor ? decode(request.cursor) : { o: 0, l: 0 };
  let start = cursor.o > 0 ? cursor.o - 1 : 0;
  for (;;) {
    const { data, headers } = await client.request<Raw[]>('GET', path, {
      query: { ...query, orderby: 'id', order: 'asc', per_page: limit + 1, offset: start },
    });
    if (!Array.isArray(data))
      throw new TactfulError(
        'WOOCOMMERCE.BAD_RESPONSE',
        `WooCommerce answered GET ${path} without a list; is this a WooCommerce REST endpoint?`,
        { body: data },
      );
    const first = data[0];
    if (cursor.l > 0 && start > 0 && first !== undefined && first.id > cursor.l) {
      // Records before our position were deleted: the window starts after the last one handed out. Step back.
      start = Math.max(0, start - limit);
      continue;
    }
    const fresh = data.filter((row) => row.id > cursor.l);
    const taken = fresh.slice(0, limit);
    const last = taken[taken.length - 1];
    if (last === undefined) return { items: [] };
    const nextOffset = start + data.indexOf(last) + 1;
    const total = Number(headers.get('x-wp-total'));
    const more =
      Number.isFinite(total) && headers.has('x-wp-total')
        ? total > nextOffset
        : fresh.length > limit || data.length === limit + 1;
    return { items: taken.map(map), nextCursor: more ? encode({ o: nextOffset, l: last.id }) : undefined };
  }
}
