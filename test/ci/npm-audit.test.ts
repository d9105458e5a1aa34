/**
 * CI's dependency audit (scripts/npm-audit.mjs), run as CI runs it, with a stand-in `npm` first on PATH that
 * answers `npm audit --json` as the registry would: unreachable, clean, or with advisories.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs the audit step with an `npm` that prints `answer` for `--omit=dev` and `full` for the whole tree. */
function audit(answer: object, full: object = answer): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tactful-audit-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'omit.json'), JSON.stringify(answer));
  writeFileSync(join(dir, 'full.json'), JSON.stringify(full));
  const npm = join(dir, 'npm');
  writeFileSync(
    npm,
    `#!/bin/sh\ncase "$*" in\n  *--json*--omit=dev*) cat "${dir}/omit.json"; exit 1;;\n  *--json*) cat "${dir}/full.json"; exit 1;;\n  *) echo "human report"; exit 1;;\nesac\n`,
  );
  chmodSync(npm, 0o755);
  const run = spawnSync(process.execPath, ['scripts/npm-audit.mjs'], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH ?? ''}` },
  });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

const report = (counts: Record<string, number>) => ({
  auditReportVersion: 2,
  vulnerabilities: {},
  metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...counts } },
});

describe('npm audit step of CI', () => {
  it('an unreachable advisory endpoint is said plainly and does not fail CI', () => {
    const { status, out } = audit({
      message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
      statusCode: 405,
      error: { summary: '', detail: '' },
    });
    expect(status).toBe(0);
    expect(out).toMatch(/npm audit \(production dependencies\) could NOT be run — 405 Method Not Allowed/);
    expect(out).toMatch(/npm audit \(full tree\) could NOT be run/);
    expect(out).toContain('dependencies were not audited here');
  });

  it('a clean tree, or moderate advisories only, passes and says what was found', () => {
    const { status, out } = audit(report({}), report({ moderate: 2, low: 1 }));
    expect(status).toBe(0);
    expect(out).toContain('npm audit (production dependencies): 0 critical, 0 high, 0 moderate, 0 low');
    expect(out).toContain('npm audit (full tree): 0 critical, 0 high, 2 moderate, 1 low');
  });

  it.each([
    ['a high advisory in production dependencies', report({ high: 1 }), report({ high: 1 })],
    ['a critical advisory in the dev tree only', report({}), report({ critical: 1 })],
  ])('%s fails CI and prints the report', (_name, omit, full) => {
    const { status, out } = audit(omit, full);
    expect(status).toBe(1);
    expect(out).toContain('FAILS');
    expect(out).toContain('human report');
  });
});
