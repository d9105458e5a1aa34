/** The fault suite's table: one row per scenario, then the totals. */
export interface FaultRow {
  scenario: string;
  kills: number;
  faults: number;
  delivered: number;
  campaignSends: number;
  violations: number;
  seconds: number;
}

/** `wallSeconds`: the total row's seconds (scenarios that ran side by side overlap, so their sum says little). */
export function printFaultTable(title: string, rows: FaultRow[], wallSeconds?: number): void {
  if (rows.length === 0) return;
  const total = rows.reduce<FaultRow>(
    (t, r) => ({
      ...t,
      kills: t.kills + r.kills,
      faults: t.faults + r.faults,
      delivered: t.delivered + r.delivered,
      campaignSends: t.campaignSends + r.campaignSends,
      violations: t.violations + r.violations,
      seconds: t.seconds + r.seconds,
    }),
    {
      scenario: `total: ${rows.length} scenario${rows.length === 1 ? '' : 's'}`,
      kills: 0,
      faults: 0,
      delivered: 0,
      campaignSends: 0,
      violations: 0,
      seconds: 0,
    },
  );
  if (wallSeconds !== undefined) total.seconds = wallSeconds;
  const head = [
    'scenario',
    'SIGKILLs',
    'faults injected',
    'changes delivered',
    'campaign sends',
    'violations',
    'seconds',
  ];
  const cells = [...rows, total].map((r) => [
    r.scenario,
    String(r.kills),
    String(r.faults),
    String(r.delivered),
    String(r.campaignSends),
    String(r.violations),
    r.seconds.toFixed(1),
  ]);
  const widths = head.map((h, i) => cells.reduce((w, c) => Math.max(w, c[i]!.length), h.length));
  const line = (c: string[]) =>
    `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ')} |`;
  process.stdout.write(
    `\n${title}\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${cells.map(line).join('\n')}\n\n`,
  );
}
