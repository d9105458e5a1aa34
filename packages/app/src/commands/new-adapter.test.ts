// `tactful new adapter`: bad input writes nothing; a generated package builds with tsc, and its conformance
// suite runs straight away and fails honestly on every method not written yet.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from '../cli/capture.js';
import { CORE_VERSION } from './new-adapter/templates.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');
const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
const vitest = join(repoRoot, 'node_modules/vitest/vitest.mjs');

/**
 * The generated package builds against @tactful/core as an agency installs it: its published types (dist), which
 * CI builds right before the tests. After changing the core locally, `npm run build` first.
 */
const coreBuilt =
  existsSync(join(repoRoot, 'packages/core/dist/index.d.ts')) &&
  existsSync(join(repoRoot, 'packages/core/dist/testing/index.d.ts'));

// Inside the repository, so the generated package finds @tactful/core, vitest and msw in the root node_modules
// as an installed package would; outside every root include, so the repository's own runs never pick it up.
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(repoRoot, '.tmp-new-adapter-'));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

async function tree(dir: string): Promise<string[]> {
  return existsSync(dir) ? ((await readdir(dir, { recursive: true })) as string[]).sort() : [];
}

describe('tactful new adapter - bad input writes nothing', () => {
  it('a bad NAME and an unknown kind: exit 2, both named, nothing written', async () => {
    const dir = join(work, 'bad');
    const { code, stderr } = await runCaptured(['new', 'adapter', 'Acme_Shop', '--kind', 'store', '--dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain('NAME "Acme_Shop"');
    expect(stderr).toContain('--kind "store"');
    expect(stderr).toContain('Nothing was written');
    expect(existsSync(dir)).toBe(false);
  });

  it('a missing --kind: exit 2', async () => {
    const dir = join(work, 'nokind');
    const { code, stderr } = await runCaptured(['new', 'adapter', 'acme', '--dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain('--kind');
    expect(existsSync(dir)).toBe(false);
  });

  it('a folder that exists and is not empty: exit 2, its content untouched', async () => {
    const dir = join(work, 'taken');
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), '{"name":"mine"}');
    const { code, stderr } = await runCaptured(['new', 'adapter', 'acme', '--kind', 'platform', '--dir', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain('is not empty');
    expect(await tree(dir)).toEqual(['package.json']);
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}');
    expect((await readdir(work)).filter((f) => f.startsWith('.tactful-new-adapter-'))).toEqual([]);
  });

  it('a file where the folder should go: exit 2', async () => {
    const file = join(work, 'a-file');
    await writeFile(file, 'x');
    const { code, stderr } = await runCaptured(['new', 'adapter', 'acme', '--kind', 'provider', '--dir', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('is not a folder');
    expect(await readFile(file, 'utf8')).toBe('x');
  });

  it('an empty folder is fine, and --dir is relative to the working directory', async () => {
    await mkdir(join(work, 'empty'));
    const { code, stdout } = await runCaptured(
      ['new', 'adapter', 'acme', '--kind', 'platform', '--dir', 'empty'],
      {},
      work,
    );
    expect(code).toBe(0);
    expect(stdout).toContain('Created tactful-adapter-acme');
    expect(await tree(join(work, 'empty'))).toContain(join('src', 'conformance.test.ts'));
  });

  it('generated packages depend on the @tactful/core of this repository', async () => {
    const core = JSON.parse(await readFile(join(repoRoot, 'packages/core/package.json'), 'utf8')) as {
      version: string;
    };
    expect(CORE_VERSION).toBe(core.version);
  });
});

interface JsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{
    message?: string;
    assertionResults: Array<{ title: string; status: string; failureMessages: string[] }>;
  }>;
}

/** Runs the generated package's own suite in a child vitest, as `npm test` would there. */
async function runSuite(dir: string): Promise<{ exitCode: number; report: JsonReport }> {
  const out = join(dir, 'report.json');
  // The package's own vitest config, plus the repository's `source` condition so the suite under test is the
  // one in packages/core/src (not a dist built earlier).
  const config = join(dir, 'vitest.repo.config.ts');
  await writeFile(
    config,
    `import { defaultServerConditions } from 'vite';\nimport { defineConfig, mergeConfig } from 'vitest/config';\nimport base from './vitest.config.ts';\n` +
      `export default mergeConfig(base, defineConfig({ resolve: { conditions: ['source'] }, ssr: { resolve: { conditions: ['source', ...defaultServerConditions] } } }));\n`,
  );
  const exitCode = await run(
    process.execPath,
    [vitest, 'run', '--root', dir, '--config', config, '--reporter=json', `--outputFile=${out}`],
    { cwd: dir, env: { ...process.env, CI: '1', FORCE_COLOR: '0' } },
  ).then(
    () => 0,
    (error: { code?: number }) => error.code ?? 1,
  );
  return { exitCode, report: JSON.parse(await readFile(out, 'utf8')) as JsonReport };
}

describe('tactful new adapter - a generated package builds and its suite fails honestly', () => {
  const kinds = [
    {
      kind: 'platform',
      name: 'acme-shop',
      factory: 'createAcmeShopPlatform',
      suite: 'CommercePlatform conformance: acme-shop (sandbox)',
    },
    {
      kind: 'provider',
      name: 'acme-mail',
      factory: 'createAcmeMailProvider',
      suite: 'EmailProvider conformance: acme-mail (sandbox)',
    },
  ] as const;
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    for (const k of kinds) {
      dirs[k.kind] = join(work, k.name);
      const { code, stderr } = await runCaptured(['new', 'adapter', k.name, '--kind', k.kind, '--dir', dirs[k.kind]!]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });

  it('writes the package: manifest, tsconfigs, factory, sandbox, suite, README', async () => {
    for (const k of kinds) {
      const files = await tree(dirs[k.kind]!);
      for (const f of [
        'package.json',
        'tsconfig.json',
        'tsconfig.build.json',
        'README.md',
        join('src', 'index.ts'),
        join('src', 'conformance.test.ts'),
        join('src', 'testing', 'sandbox.ts'),
      ])
        expect(files).toContain(f);
      const pkg = JSON.parse(await readFile(join(dirs[k.kind]!, 'package.json'), 'utf8')) as {
        name: string;
        dependencies: Record<string, string>;
        peerDependencies: Record<string, string>;
        devDependencies: Record<string, string>;
      };
      expect(pkg.name).toBe(`tactful-adapter-${k.name}`);
      // Core is a peer (one copy in the app, so isTactfulError and the ports agree), and a dev dependency for tests.
      expect(pkg.peerDependencies['@tactful/core']).toBe(`^${CORE_VERSION}`);
      expect(pkg.devDependencies['@tactful/core']).toBe(`^${CORE_VERSION}`);
      expect(pkg.dependencies['@tactful/core']).toBeUndefined();
      expect(await readFile(join(dirs[k.kind]!, 'src/index.ts'), 'utf8')).toContain(`export function ${k.factory}(`);
    }
  });

  it('type-checks (tests included) and builds with tsc', { timeout: 300_000 }, async () => {
    if (!coreBuilt)
      throw new Error(
        '@tactful/core is not built (packages/core/dist): run `npm run build` first, as `npm test` and CI do.',
      );
    // Each package's own build (`npm run build`: tsc -p tsconfig.build.json), both in one `tsc -b` process, and one
    // program type-checking both packages' sources and tests with the packages' compiler options. tsc's start-up
    // dominates here: two processes instead of four (one `tsc -b` for both builds: 3.2 CPU-s against 5.8 for two).
    await writeFile(
      join(work, 'tsconfig.check.json'),
      JSON.stringify({ extends: './acme-shop/tsconfig.json', include: kinds.map((k) => `${k.name}/src`) }),
    );
    const jobs = [
      run(process.execPath, [tsc, '-b', ...kinds.map((k) => join(dirs[k.kind]!, 'tsconfig.build.json'))], {
        cwd: work,
      }),
      run(process.execPath, [tsc, '-p', join(work, 'tsconfig.check.json')], { cwd: work }),
    ];
    const results = await Promise.allSettled(jobs);
    const failures = results.flatMap((r) =>
      r.status === 'rejected' ? [String((r.reason as { stdout?: string }).stdout ?? r.reason)] : [],
    );
    expect(failures).toEqual([]);
    for (const k of kinds) {
      expect(await tree(join(dirs[k.kind]!, 'dist'))).toEqual(expect.arrayContaining(['index.d.ts', 'index.js']));
      const built = (await import(join(dirs[k.kind]!, 'dist/index.js'))) as Record<string, (o: unknown) => unknown>;
      expect(() => built[k.factory]!({})).toThrow(/CONFIG\.INVALID|Invalid/);
    }
  });

  it('runs its conformance suite at once: it loads, and fails on every method still NOT_IMPLEMENTED', async () => {
    const runs = await Promise.all(kinds.map((k) => runSuite(dirs[k.kind]!)));
    for (const [i, { exitCode, report }] of runs.entries()) {
      const k = kinds[i]!;
      expect(exitCode, `${k.kind}: the suite must fail`).not.toBe(0);
      // Loaded and ran (a crash on import has no tests and a file-level message instead).
      expect(report.testResults.map((f) => f.message ?? '').join('')).toBe('');
      expect(report.numTotalTests).toBeGreaterThanOrEqual(10);
      const tests = report.testResults.flatMap((f) => f.assertionResults);
      const failed = tests.filter((t) => t.status === 'failed');
      expect(failed.length).toBeGreaterThanOrEqual(8);
      // Every failure is the adapter's own honesty, not a broken harness.
      for (const t of failed)
        expect(t.failureMessages.join('\n'), `${k.kind}: ${t.title}`).toMatch(/NOT_IMPLEMENTED|not written yet/);
      // Nothing passes that the stub did not earn: only the capability declaration holds before any code is written.
      const passed = tests.filter((t) => t.status === 'passed').map((t) => t.title);
      if (k.kind === 'platform') expect(passed).toEqual([expect.stringMatching(/^declaresCapabilities/)]);
      else expect(passed).toEqual([]);
    }
  });
});
