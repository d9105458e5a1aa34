#!/usr/bin/env node
// CI's dependency audit: `npm audit --omit=dev` (what ships) and the full tree (what builds and tests it).
// npm audit needs the registry's advisory endpoint, which some networks do not reach: then this says plainly
// that the audit was NOT run and exits 0 (an unreachable endpoint is not a finding); a high or critical
// advisory exits 1.
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

/** What one `npm audit --json` answer means: not run (and why), or the counts and whether they fail CI. */
export function verdict(stdout) {
  let report;
  try {
    report = JSON.parse(stdout);
  } catch {
    return { ran: false, why: 'npm audit gave no JSON answer' };
  }
  const counts = report?.metadata?.vulnerabilities;
  if (report?.error || typeof counts !== 'object' || counts === null) {
    const why = [report?.message ?? report?.statusCode, report?.error?.summary, report?.error?.code]
      .filter((x) => x !== undefined && x !== '')
      .join(' ');
    return { ran: false, why: why || 'the advisory endpoint did not answer' };
  }
  const n = (k) => Number(counts[k] ?? 0);
  return {
    ran: true,
    counts: { critical: n('critical'), high: n('high'), moderate: n('moderate'), low: n('low'), info: n('info') },
    fails: n('critical') + n('high') > 0,
  };
}

function describe(scope, v) {
  if (!v.ran) return `ci: npm audit (${scope}) could NOT be run — ${v.why}; dependencies were not audited here`;
  const c = v.counts;
  return `ci: npm audit (${scope}): ${c.critical} critical, ${c.high} high, ${c.moderate} moderate, ${c.low} low${v.fails ? ' — FAILS: fix or upgrade the packages above' : ''}`;
}

function main() {
  let failed = false;
  for (const [scope, args] of [
    ['production dependencies', ['--omit=dev']],
    ['full tree', []],
  ]) {
    const run = spawnSync('npm', ['audit', '--json', ...args], { encoding: 'utf8', timeout: 120_000 });
    const v = verdict(run.stdout ?? '');
    if (v.ran && v.fails) {
      // The human-readable report names the packages and the advisories.
      spawnSync('npm', ['audit', '--audit-level=high', ...args], { stdio: 'inherit', timeout: 120_000 });
    }
    console.log(describe(scope, v));
    failed ||= v.ran && v.fails;
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
