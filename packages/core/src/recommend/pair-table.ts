/**
 * Counts of unordered product pairs (a < b, dense integer ids) in an open-addressing hash table built on
 * typed arrays: about 12 bytes a slot, no object per pair. Linear probing; a count that falls to zero
 * stays as a zero slot until the next resize drops it, so subtraction never breaks a probe chain.
 */
export class PairTable {
  private keysA: Int32Array;
  private keysB: Int32Array;
  private counts: Int32Array;
  private mask: number;
  /** Occupied slots, zero counts included. */
  private used = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.keysA = new Int32Array(capacity).fill(-1);
    this.keysB = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  /** Bytes held by the table's arrays. */
  get byteLength(): number {
    return this.keysA.byteLength + this.keysB.byteLength + this.counts.byteLength;
  }

  private slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** Grows the table ahead of `pairs` more live pairs, so a bulk load never resizes. */
  reserve(pairs: number): void {
    let capacity = this.capacity;
    while ((this.used + pairs) * 10 > capacity * 7) capacity *= 2;
    if (capacity > this.capacity) this.resize(capacity, false);
  }

  /** Adds `delta` to the count of {a, b}; a and b in any order, a ≠ b. Returns the new count. */
  add(a: number, b: number, delta: number): number {
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const keysA = this.keysA;
    const keysB = this.keysB;
    const mask = this.mask;
    let i = this.slot(a, b);
    for (;;) {
      const ka = keysA[i]!;
      if (ka === -1) break;
      if (ka === a && keysB[i] === b) {
        const next = this.counts[i]! + delta;
        if (next < 0) throw new RangeError(`pair count would fall below zero for {${a}, ${b}}`);
        this.counts[i] = next;
        return next;
      }
      i = (i + 1) & mask;
    }
    if (delta < 0) throw new RangeError(`pair count would fall below zero for {${a}, ${b}}`);
    if (delta === 0) return 0;
    keysA[i] = a;
    keysB[i] = b;
    this.counts[i] = delta;
    this.used++;
    if (this.used * 10 > this.capacity * 7) this.resize(this.capacity * 2);
    return delta;
  }

  get(a: number, b: number): number {
    if (a > b) {
      const t = a;
      a = b;
      b = t;
    }
    const mask = this.mask;
    let i = this.slot(a, b);
    for (;;) {
      const ka = this.keysA[i]!;
      if (ka === -1) return 0;
      if (ka === a && this.keysB[i] === b) return this.counts[i]!;
      i = (i + 1) & mask;
    }
  }

  /** Calls `visit(a, b, count)` for every pair with a positive count (a < b). */
  forEach(visit: (a: number, b: number, count: number) => void): void {
    const { keysA, keysB, counts } = this;
    for (let i = 0; i < keysA.length; i++) {
      const c = counts[i]!;
      if (c > 0) visit(keysA[i]!, keysB[i]!, c);
    }
  }

  /** Pairs with a positive count. */
  size(): number {
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) n++;
    return n;
  }

  private resize(capacity: number, allowShrink = true): void {
    const { keysA, keysB, counts } = this;
    // Zero slots are dropped: shrink back if most of the table was subtracted away.
    let live = 0;
    for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) live++;
    while (allowShrink && capacity > 16 && live * 10 < capacity * 3) capacity /= 2;
    this.keysA = new Int32Array(capacity).fill(-1);
    this.keysB = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.used = 0;
    for (let i = 0; i < keysA.length; i++) {
      const c = counts[i]!;
      if (c > 0) {
        let j = this.slot(keysA[i]!, keysB[i]!);
        while (this.keysA[j] !== -1) j = (j + 1) & this.mask;
        this.keysA[j] = keysA[i]!;
        this.keysB[j] = keysB[i]!;
        this.counts[j] = c;
        this.used++;
      }
    }
  }
}
