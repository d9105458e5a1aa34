import { describe, expect, it } from 'vitest';
import { collectGarbage } from './collect-garbage.js';

describe('collectGarbage', () => {
  it('frees what nothing references any more, without node being started with --expose-gc', async () => {
    let big: Uint8Array | undefined = new Uint8Array(8 * 2 ** 20);
    const ref = new WeakRef(big);
    big = undefined;
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(ref.deref()).toBeDefined(); // nothing allocates here, so nothing collects it on its own
    await collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });

  it('leaves no gc function behind in the program', async () => {
    const before = typeof (globalThis as { gc?: unknown }).gc;
    await collectGarbage();
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe(before);
  });
});
