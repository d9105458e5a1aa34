import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks `X-Shopify-Hmac-Sha256`: base64(HMAC-SHA256(app secret, raw body)), compared in constant time.
 * `secret` may be a list (the current and the previous app secret while rotating).
 */
export function verifyShopifyHmac(
  rawBody: Buffer | Uint8Array | string,
  header: string | null | undefined,
  secret: string | readonly string[],
): boolean {
  if (!header) return false;
  const given = Buffer.from(header.trim(), 'base64');
  if (given.length !== 32) return false;
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : Buffer.from(rawBody);
  let ok = false;
  for (const key of typeof secret === 'string' ? [secret] : secret) {
    if (!key) continue;
    const expected = createHmac('sha256', key).update(body).digest();
    // Every secret is compared, so the time taken says nothing about which one matched.
    if (timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

export function signShopifyBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}
