import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { progressEnabled, withProgress } from './progress.js';

function io(isTTY: boolean, env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const value: CliIo = {
    stdout: (s) => {
      out.stdout += s;
    },
    stderr: (s) => {
      out.stderr += s;
    },
    env,
    cwd: process.cwd(),
    isTTY,
  };
  return { io: value, out };
}

describe('withProgress', () => {
  it('draws nothing when stderr is not a terminal, and returns the work result', async () => {
    const { io: target, out } = io(false);
    const result = await withProgress(target, 'orders', 10, async (p) => {
      for (let i = 0; i < 10; i++) p.tick();
      expect(p.drawing).toBe(false);
      return 42;
    });
    expect(result).toBe(42);
    expect(out).toEqual({ stdout: '', stderr: '' });
  });

  it('draws nothing in quiet (--json) mode or with TACTFUL_PROGRESS=0, even on a terminal', async () => {
    for (const [t, quiet] of [
      [io(true), true],
      [io(true, { TACTFUL_PROGRESS: '0' }), false],
    ] as const) {
      await withProgress(t.io, 'orders', 5, async (p) => p.tick(5), { quiet });
      expect(t.out.stderr).toBe('');
      expect(progressEnabled(t.io, { quiet })).toBe(false);
    }
  });

  it('on a terminal draws a bar with label, count and total on stderr only, and clears it at the end', async () => {
    const { io: target, out } = io(true);
    await withProgress(
      target,
      'importing',
      4,
      async (p) => {
        expect(p.drawing).toBe(true);
        p.tick(2);
        p.tick(2);
      },
      { unit: 'orders' },
    );
    expect(out.stdout).toBe('');
    expect(out.stderr).toContain('importing [');
    expect(out.stderr).toMatch(/100% 4\/4 orders/);
    // cleared on stop: the last thing written erases the line.
    expect(out.stderr).toMatch(/\x1b\[2K$/);
  });

  it('an unknown total shows a running count, and a total learnt later turns it into a bar', async () => {
    const { io: target, out } = io(true);
    await withProgress(target, 'syncing', undefined, async (p) => {
      p.set(3);
      p.total(6);
      p.set(6);
    });
    // Redraws are throttled (8 a second): the first draw is the count, the final one the full bar.
    expect(out.stderr).toMatch(/syncing 0 0s/);
    expect(out.stderr).toMatch(/syncing \[[^\]]*\] 100% 6\/6/);
  });

  it('clears the bar and rethrows when the work fails', async () => {
    const { io: target, out } = io(true);
    await expect(
      withProgress(target, 'failing', 2, async (p) => {
        p.tick();
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(out.stderr).toContain('failing [');
  });
});
