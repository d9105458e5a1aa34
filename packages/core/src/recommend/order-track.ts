/**
 * The tracked orders of a co-purchase model, kept compact so a shop's whole order history fits beside its
 * counts: one slot per order in typed arrays (customer, time, where its products sit in one shared pool of
 * dense product ids), a map from order id to slot, and each customer's orders as a linked list of slots. About
 * 50 bytes an order besides its id, where an object, an array and a customer string per order took ~300.
 *
 * Slots are appended in the order orders are remembered and visited in that order (as a Map's entries would
 * be: forgetting an order and remembering it again moves it to the end). A forgotten order leaves a hole that
 * a compaction squeezes out, keeping the order, once holes are half of the arrays.
 */
export class OrderTrack {
  private readonly slotOf = new Map<string, number>();
  private orderIds: Array<string | undefined> = [];
  /** Customer index of each slot, −1 for none. */
  private customer = new Int32Array(0);
  /** Epoch milliseconds of each slot, NaN for none. */
  private time = new Float64Array(0);
  private start = new Int32Array(0);
  /** Products of each slot; −1 marks a forgotten order. */
  private length = new Int32Array(0);
  /** Next and previous slot of the same customer, −1 at the ends. */
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  /** Slots in use, forgotten ones included. */
  private slots = 0;
  private pool = new Int32Array(0);
  private poolUsed = 0;
  private poolDead = 0;
  private readonly customerIndex = new Map<string, number>();
  private customerLabels: string[] = [];
  private head = new Int32Array(0);
  private tail = new Int32Array(0);

  get size(): number {
    return this.slotOf.size;
  }

  /** Bytes held by the typed arrays (ids and customer strings aside). */
  get byteLength(): number {
    const arrays = [this.customer, this.time, this.start, this.length, this.next, this.prev, this.pool];
    return arrays.reduce((sum, a) => sum + a.byteLength, this.head.byteLength + this.tail.byteLength);
  }

  has(orderId: string): boolean {
    return this.slotOf.has(orderId);
  }

  slot(orderId: string): number | undefined {
    return this.slotOf.get(orderId);
  }

  orderIdOf(slot: number): string {
    return this.orderIds[slot]!;
  }

  customerOf(slot: number): string | null {
    const c = this.customer[slot]!;
    return c < 0 ? null : this.customerLabels[c]!;
  }

  timeOf(slot: number): number | null {
    const t = this.time[slot]!;
    return Number.isNaN(t) ? null : t;
  }

  /** The order's dense product ids, a view valid until the next change. */
  items(slot: number): Int32Array {
    const s = this.start[slot]!;
    return this.pool.subarray(s, s + this.length[slot]!);
  }

  /** Customers with at least one order, in the order they first (again) had one. */
  customers(): string[] {
    return [...this.customerIndex.keys()];
  }

  /** Slots of a customer's orders, in the order they were remembered. */
  slotsOf(customerId: string): number[] {
    const c = this.customerIndex.get(customerId);
    const out: number[] = [];
    if (c === undefined) return out;
    for (let s = this.head[c]!; s >= 0; s = this.next[s]!) out.push(s);
    return out;
  }

  /** Order ids of every tracked order. */
  orderIdList(): string[] {
    return [...this.slotOf.keys()];
  }

  /** Visits every tracked order's slot, in the order they were remembered. */
  forEach(visit: (slot: number) => void): void {
    for (let s = 0; s < this.slots; s++) if (this.length[s]! >= 0) visit(s);
  }

  /** Remembers an order (replacing one with the same id) with the first `count` dense ids of `items`. */
  add(orderId: string, customerId: string | null, items: ArrayLike<number>, count: number, time: number | null): void {
    this.remove(orderId);
    if (this.slots === this.length.length) this.makeRoom(1, 0);
    if (this.poolUsed + count > this.pool.length) this.makeRoom(0, count);
    const s = this.slots++;
    this.orderIds[s] = orderId;
    this.slotOf.set(orderId, s);
    const start = this.poolUsed;
    for (let i = 0; i < count; i++) this.pool[start + i] = items[i]!;
    this.poolUsed += count;
    this.start[s] = start;
    this.length[s] = count;
    this.time[s] = time ?? Number.NaN;
    this.next[s] = -1;
    this.prev[s] = -1;
    let c = -1;
    if (customerId !== null) {
      c = this.customerIndex.get(customerId) ?? -1;
      if (c < 0) {
        c = this.customerLabels.length;
        this.customerLabels.push(customerId);
        this.customerIndex.set(customerId, c);
        if (c >= this.head.length) {
          this.head = grown(this.head, Math.max(64, this.head.length * 2));
          this.tail = grown(this.tail, this.head.length);
        }
        this.head[c] = -1;
        this.tail[c] = -1;
      }
      const last = this.tail[c]!;
      this.prev[s] = last;
      if (last >= 0) this.next[last] = s;
      else this.head[c] = s;
      this.tail[c] = s;
    }
    this.customer[s] = c;
  }

  /** Forgets an order; an unknown id changes nothing. */
  remove(orderId: string): void {
    const s = this.slotOf.get(orderId);
    if (s === undefined) return;
    this.slotOf.delete(orderId);
    const c = this.customer[s]!;
    if (c >= 0) {
      const p = this.prev[s]!;
      const n = this.next[s]!;
      if (p >= 0) this.next[p] = n;
      else this.head[c] = n;
      if (n >= 0) this.prev[n] = p;
      else this.tail[c] = p;
      if (this.head[c] === -1) {
        // The customer's last order: the customer goes (a later order gives them a new index).
        this.customerIndex.delete(this.customerLabels[c]!);
        this.customerLabels[c] = '';
      }
    }
    this.poolDead += this.length[s]!;
    this.length[s] = -1;
    this.orderIds[s] = undefined;
  }

  /** Room for `slots` more slots and `items` more pool entries: compacts when holes are half, else grows. */
  private makeRoom(slots: number, items: number): void {
    const holes = this.slots - this.slotOf.size;
    if (holes * 2 >= this.length.length || this.poolDead * 2 >= this.pool.length) this.compact();
    if (this.slots + slots > this.length.length) {
      const capacity = Math.max(64, this.length.length * 2, this.slots + slots);
      this.customer = grown(this.customer, capacity);
      this.start = grown(this.start, capacity);
      this.length = grown(this.length, capacity);
      this.next = grown(this.next, capacity);
      this.prev = grown(this.prev, capacity);
      const time = new Float64Array(capacity);
      time.set(this.time);
      this.time = time;
    }
    if (this.poolUsed + items > this.pool.length)
      this.pool = grown(this.pool, Math.max(256, this.pool.length * 2, this.poolUsed + items));
  }

  /** Moves the live slots down over the holes, keeping their order, and renumbers every link to them. */
  private compact(): void {
    const renumber = new Int32Array(this.slots);
    let w = 0;
    let poolW = 0;
    for (let r = 0; r < this.slots; r++) {
      const length = this.length[r]!;
      if (length < 0) {
        renumber[r] = -1;
        continue;
      }
      renumber[r] = w;
      // w ≤ r: slot w was read before, so overwriting it is safe; the pool moves down the same way.
      const start = this.start[r]!;
      this.pool.copyWithin(poolW, start, start + length);
      this.start[w] = poolW;
      poolW += length;
      this.length[w] = length;
      this.orderIds[w] = this.orderIds[r];
      this.customer[w] = this.customer[r]!;
      this.time[w] = this.time[r]!;
      this.next[w] = this.next[r]!;
      this.prev[w] = this.prev[r]!;
      w++;
    }
    for (let s = 0; s < w; s++) {
      const n = this.next[s]!;
      const p = this.prev[s]!;
      this.next[s] = n >= 0 ? renumber[n]! : -1;
      this.prev[s] = p >= 0 ? renumber[p]! : -1;
    }
    for (const c of this.customerIndex.values()) {
      this.head[c] = renumber[this.head[c]!]!;
      this.tail[c] = renumber[this.tail[c]!]!;
    }
    for (const [orderId, s] of this.slotOf) this.slotOf.set(orderId, renumber[s]!);
    this.orderIds.length = w;
    this.slots = w;
    this.poolUsed = poolW;
    this.poolDead = 0;
  }
}

function grown(array: Int32Array, capacity: number): Int32Array<ArrayBuffer> {
  const out = new Int32Array(capacity);
  out.set(array);
  return out;
}
