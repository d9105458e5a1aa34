#!/usr/bin/env node
// The `tactful` command. This file is in the repository (not built), so npm links it into node_modules/.bin
// at install time, before `npm run build` creates dist/: a bin that points into dist/ is skipped by npm when
// it does not exist yet, and `npx tactful` then cannot find it on a fresh clone.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write(
    'error: tactful is not built yet: run `npm run build` in the repository root, then try again.\n',
  );
  process.exit(2);
}
await import(cli.href);
