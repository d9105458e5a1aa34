import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Every TypeScript file under `dir` that is not a test (`*.test.ts`), at any depth: the shipped sources. */
export function shippedSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return shippedSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}
