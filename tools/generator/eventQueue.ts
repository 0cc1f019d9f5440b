// Min-heap of pending packet steps ordered by (time, insertion order). It
// holds only what is in flight — this slice's exchanges plus the tails of
// calls still running — so its size follows concurrency, not population.

export interface Step {
  /** Seconds since the start of the run. */
  t: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private readonly heap: Step[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(t: number, run: () => void): void {
    const h = this.heap;
    const s: Step = { t, seq: this.seq++, run };
    let i = h.length;
    h.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(s, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = s;
  }

  peekTime(): number {
    return this.heap.length ? this.heap[0]!.t : Infinity;
  }

  pop(): Step | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function before(a: Step, b: Step): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq);
}
