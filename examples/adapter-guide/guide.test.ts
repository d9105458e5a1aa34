// docs/adapters.md stays true: every ```ts block in it is a file of docs/snippets/, those files compile against
// @tactful/core's published types, and the guide's example adapter passes the conformance suite it describes.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// Registers the guide's own conformance run (the Acme adapter against its msw sandbox) in this file.
import '../../docs/snippets/04-conformance.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const guide = join(repoRoot, 'docs/adapters.md');
const snippets = join(repoRoot, 'docs/snippets');

/** The ```ts blocks of a markdown text, in order. */
export function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * Snippets are checked against @tactful/core's published types (dist: what an agency installs, and fast), which
 * CI builds right before the tests; without a build, against the sources (slower). After changing the core
 * locally, `npm run build` first for an up-to-date check.
 */
const coreBuilt =
  existsSync(join(repoRoot, 'packages/core/dist/index.d.ts')) &&
  existsSync(join(repoRoot, 'packages/core/dist/testing/index.d.ts'));

/** Type-checks files (real or in memory) with the repository's strictness; returns the diagnostics as text. */
function compile(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    ...(coreBuilt ? {} : { customConditions: ['source'] }),
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    typeRoots: [join(repoRoot, 'node_modules/@types')],
    strict: true,
    noUncheckedIndexedAccess: true,
    noImplicitOverride: true,
    esModuleInterop: true,
    skipLibCheck: true,
    isolatedModules: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const readFileBase = host.readFile.bind(host);
  const fileExistsBase = host.fileExists.bind(host);
  host.readFile = (name) => files[resolve(name)] ?? readFileBase(name);
  host.fileExists = (name) => resolve(name) in files || fileExistsBase(name);
  const getSourceFileBase = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const text = files[resolve(name)];
    return text !== undefined
      ? ts.createSourceFile(name, text, version, true)
      : getSourceFileBase(name, version, ...rest);
  };
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where =
      d.file && d.start !== undefined
        ? `${d.file.fileName.replace(`${repoRoot}/`, '')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}`
        : '';
    return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

async function snippetFiles(): Promise<Record<string, string>> {
  const names = (await readdir(snippets)).filter((f) => f.endsWith('.ts')).sort();
  const files: Record<string, string> = {};
  for (const name of names) files[join(snippets, name)] = await readFile(join(snippets, name), 'utf8');
  return files;
}

describe('docs/adapters.md', () => {
  it('every ts block is, in order, a file of docs/snippets (and every snippet is in the guide)', async () => {
    const blocks = tsBlocks(await readFile(guide, 'utf8'));
    const files = Object.values(await snippetFiles());
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    expect(blocks).toEqual(files);
  });

  it('the snippets compile against @tactful/core as published, and one that stops compiling is caught', {
    timeout: 300_000,
  }, async () => {
    const files = await snippetFiles();
    // A broken copy of the first snippet goes into the same program (one compile instead of two): it must fail.
    const [firstName, firstText] = Object.entries(files).sort(([a], [b]) => a.localeCompare(b))[0]!;
    const broken = join(snippets, `zz-broken-${firstName.split('/').pop()}`);
    files[broken] = firstText.replace("system: 'acme',", 'system: 42,');
    expect(files[broken]).not.toBe(firstText);
    const diagnostics = compile(files);
    expect(diagnostics.filter((d) => !d.includes('zz-broken-'))).toEqual([]);
    expect(diagnostics.join('\n')).toMatch(/zz-broken-01-platform\.ts:\d+ TS2322/);
  });
});
