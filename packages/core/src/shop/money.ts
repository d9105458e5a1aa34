/**
 * An amount as a person reads it: with the shop's currency (`$2.50`, `€1,234.00`, `CHF 12.00`). Stored
 * amounts are decimal strings or numbers in the shop currency; nothing shown to a person goes without it.
 */
export function formatMoney(amount: number | string, currency: string): string {
  const value = typeof amount === 'string' ? Number(amount) : amount;
  if (!Number.isFinite(value)) return String(amount);
  try {
    return currencyFormat(currency).format(value);
  } catch {
    // A code Intl does not know still reads as an amount in that currency.
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** One formatter per currency (making one costs tens of microseconds, and a campaign prices every product). */
const currencyFormats = new Map<string, Intl.NumberFormat>();
function currencyFormat(currency: string): Intl.NumberFormat {
  let format = currencyFormats.get(currency);
  if (!format) {
    // An unknown code throws here, before anything is cached.
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    if (currencyFormats.size >= 1000) currencyFormats.clear();
    currencyFormats.set(currency, format);
  }
  return format;
}
