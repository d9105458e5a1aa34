/**
 * Where the Mailchimp reference files the sandbox needs live: `data/` at the root of this package (the
 * Marketing API OpenAPI spec, the audience webhook samples). The root is found from this module's own file by walking up to
 * the nearest package.json, so one rule holds from `src/` (the `source` condition), from a `dist/` chunk in
 * either module format, and from an installed `node_modules/@tactful/mailchimp`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`@tactful/mailchimp: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return dir;
}

/** A file shipped in the package's `data/` folder, e.g. `mailchimpDataPath('webhook_samples.json')`. */
export function mailchimpDataPath(relative = ''): string {
  return join(packageRoot(), 'data', relative);
}
