// Which subscribers have a timer due, without decoding every subscriber each
// tick: one due time per key. An entry may be stale (the state moved its
// timer); the caller recomputes the real due time when it fires.
//
// Small per key (issue 15: most idle subscribers hold a timer, e.g. the 26 h
// staleness one): a Map entry whose value is the due time as an offset from the
// index's first due time, a small integer V8 keeps unboxed (±24 days; farther
// ones are boxed, still correct). No buckets: takeDue scans the keys, and only
// when the earliest due time has come.
export class TimerIndex {
  private readonly due = new Map<string, number>();
  private base: number | undefined;
  /** Nothing is due before this (a lower bound: a timer moved later leaves it early until the next scan). */
  private earliest = Infinity;

  schedule(key: string, dueMs: number | null | undefined): void {
    if (dueMs === null || dueMs === undefined) {
      this.due.delete(key);
      return;
    }
    this.base ??= dueMs;
    this.due.set(key, dueMs - this.base);
    if (dueMs < this.earliest) this.earliest = dueMs;
  }

  /** Removes and returns the keys due at or before `nowMs`, earliest first. */
  takeDue(nowMs: number): string[] {
    if (nowMs < this.earliest || this.base === undefined) return [];
    const limit = nowMs - this.base;
    const taken: Array<[string, number]> = [];
    let next = Infinity;
    for (const [key, at] of this.due) {
      if (at <= limit) {
        taken.push([key, at]);
        this.due.delete(key);
      } else if (at < next) next = at;
    }
    this.earliest = this.base + next;
    return taken.sort((a, b) => a[1] - b[1]).map(([key]) => key);
  }

  get size(): number {
    return this.due.size;
  }
}
