/**
 * Shopify ids. GraphQL speaks global ids (`gid://shopify/Order/820982911946154508`), webhooks send the
 * same number bare, and those numbers exceed 2^53: Tactful keeps the bare number as a string.
 */
export type ShopifyResource = 'Customer' | 'Order' | 'Product' | 'ProductVariant' | 'LineItem' | 'BulkOperation';

export function toGid(resource: ShopifyResource, id: string): string {
  return id.startsWith('gid://') ? id : `gid://shopify/${resource}/${id}`;
}

/** `gid://shopify/Order/123?x=1` → `123`; a bare id is returned as is (trimmed). */
export function fromGid(gid: string): string {
  const match = /^gid:\/\/shopify\/[A-Za-z]+\/([^/?#]+)/.exec(gid);
  return match ? match[1]! : gid.trim();
}

export function gidResource(gid: string): string | undefined {
  return /^gid:\/\/shopify\/([A-Za-z]+)\//.exec(gid)?.[1];
}
