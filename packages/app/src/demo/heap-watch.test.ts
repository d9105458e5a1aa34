import { describe, expect, it } from 'vitest';
import { watchHeap } from './heap-watch.js';

const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('the demo heap watch', () => {
  it('collects when the heap has grown by its growth since the last collection, and not before', async () => {
    const watch = watchHeap(16 * 2 ** 20, 60_000);
    try {
      watch.check();
      await turns(3);
      expect(watch.collections).toBe(0);
      let garbage: number[][] | undefined = Array.from({ length: 64 }, () =>
        Array.from({ length: 65_536 }, (_, i) => i),
      );
      const ref = new WeakRef(garbage);
      garbage = undefined;
      expect(ref.deref()).toBeDefined();
      await turns(1); // a WeakRef keeps its target through the job that made or read it
      watch.check();
      await turns(3);
      expect(watch.collections).toBe(1);
      expect(ref.deref()).toBeUndefined();
      watch.check();
      await turns(3);
      expect(watch.collections).toBe(1);
    } finally {
      watch.stop();
    }
  });
});
