import type { SubjectOrder, SubjectRecord, Tactful } from '@tactful/core';

export type { SubjectOrder, SubjectRecord } from '@tactful/core';

/**
 * What the shop holds about one subject, read for the preference centre through the engine's read models:
 * only the subject's own rows, always scoped by shop.
 */
export function emailOfSubject(tactful: Tactful, subjectId: string): Promise<string | null> {
  return tactful.profiles.emailOf(subjectId);
}

export function subjectRecord(tactful: Tactful, subjectId: string): Promise<SubjectRecord | null> {
  return tactful.profiles.record(subjectId);
}

export function ordersOfSubject(tactful: Tactful, subjectId: string, limit = 50): Promise<SubjectOrder[]> {
  return tactful.profiles.orders(subjectId, limit);
}

export function productTitles(tactful: Tactful, ids: readonly string[]): Promise<Map<string, string>> {
  return tactful.products.titles(ids);
}
