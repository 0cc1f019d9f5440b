// Which subscribers have a timer due, without scanning every subscriber each
// tick: keys bucketed by due second. An entry may be stale (the state moved
// its timer); the caller recomputes the real due time when it fires.
export class TimerIndex {
  private readonly buckets = new Map<number, Set<string>>();
  private readonly dueOf = new Map<string, number>();

  schedule(key: string, dueMs: number | null | undefined): void {
    const old = this.dueOf.get(key);
    if (old !== undefined) this.buckets.get(Math.floor(old / 1000))?.delete(key);
    if (dueMs === null || dueMs === undefined) {
      this.dueOf.delete(key);
      return;
    }
    this.dueOf.set(key, dueMs);
    const b = Math.floor(dueMs / 1000);
    let set = this.buckets.get(b);
    if (!set) this.buckets.set(b, (set = new Set()));
    set.add(key);
  }

  /** Removes and returns the keys due at or before `nowMs`. */
  takeDue(nowMs: number): string[] {
    const out: string[] = [];
    const limit = Math.floor(nowMs / 1000);
    for (const [b, keys] of this.buckets) {
      if (b > limit) continue;
      for (const k of keys) {
        if ((this.dueOf.get(k) ?? Infinity) <= nowMs) {
          out.push(k);
          this.dueOf.delete(k);
          keys.delete(k);
        }
      }
      if (keys.size === 0) this.buckets.delete(b);
    }
    return out;
  }

  get size(): number {
    return this.dueOf.size;
  }
}
