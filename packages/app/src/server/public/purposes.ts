import type { Purpose, Tactful } from '@tactful/core';

/** The shop's purposes by key, for their titles and clauses. */
export async function purposeTitles(tactful: Tactful): Promise<Map<string, Purpose>> {
  return new Map((await tactful.purposes.list()).map((p) => [p.key, p]));
}
