import { numberFormat } from './intl.js';

/**
 * An amount as a person reads it: with the shop's currency (`$2.50`, `€1,234.00`, `CHF 12.00`). Stored
 * amounts are decimal strings or numbers in the shop currency; nothing shown to a person goes without it.
 */
export function formatMoney(amount: number | string, currency: string): string {
  const value = typeof amount === 'string' ? Number(amount) : amount;
  if (!Number.isFinite(value)) return String(amount);
  try {
    return numberFormat('en-US', { style: 'currency', currency }).format(value);
  } catch {
    // A code Intl does not know still reads as an amount in that currency.
    return `${value.toFixed(2)} ${currency}`;
  }
}
