/**
 * Links that reach an email or a page (product pages, product images) must be web addresses: a catalogue
 * entry could carry `javascript:` or `data:`, which escaping does not defuse inside `href` / `src`.
 */
export function webUrl(value: string | null | undefined): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}
