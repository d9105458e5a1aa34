/**
 * The small shop the flow tests recommend from: a co-purchase history where tea goes with a kettle (6 orders) or
 * with honey and cups (4), and coffee with a grinder (6), bought by people who are not the flow's customers.
 */
import type { OrderRecord } from '@tactful/core';

export function teaAndCoffeeHistory(at: Date): OrderRecord[] {
  const baskets = [
    ...Array.from({ length: 6 }, () => ['tea', 'kettle']),
    ...Array.from({ length: 4 }, () => ['tea', 'honey', 'cups']),
    ...Array.from({ length: 6 }, () => ['coffee', 'grinder']),
  ];
  return baskets.map((lines, i) => ({
    id: `h${i}`,
    email: `h${i}@example.com`,
    createdAt: at,
    updatedAt: at,
    lines: lines.map((productId) => ({ productId, title: productId, quantity: 1 })),
  }));
}

/** Each person's confirmed grant of both purposes, from Shopify, at `at`: a consent batch for `recordBatch`. */
export function bothConsentsGranted(people: readonly string[], at: Date) {
  return people.flatMap((email, i) =>
    ['email_marketing', 'personalization'].map((purpose) => ({
      subject: { email },
      purpose,
      state: 'granted',
      level: 'confirmed',
      occurredAt: at,
      source: { system: 'shopify', eventId: `${purpose}-${i}`, method: 'form' },
    })),
  );
}
