// Periodic per-subscriber events (power cycles, periodic location updates,
// re-registrations) without per-subscriber storage. Member j's phase within
// the period comes from an affine permutation of [0,M) — slot = (a·j+b) mod M,
// phase = (slot + jitter)·P/M — so the members whose event falls in a time
// window are found by inverting the permutation over a slot range: the cost is
// proportional to the events produced, not to M.
import { hash, unit } from './rng.ts';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function modInverse(a: number, m: number): number {
  // Extended Euclid; values stay below 2^25 so doubles are exact.
  let [r0, r1] = [m, a];
  let [t0, t1] = [0, 1];
  while (r1) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % m) + m) % m;
}

/** (x·y) mod m for x,y < m ≤ 2^26 — the product stays exact below 2^53. */
function mulmod(x: number, y: number, m: number): number {
  return (x * y) % m;
}

export class PhaseRing {
  private readonly a: number;
  private readonly ainv: number;
  private readonly b: number;

  constructor(
    readonly members: number,
    readonly period: number,
    private readonly seed: number,
    private readonly salt: number,
  ) {
    if (members > 1 << 26) throw new Error('PhaseRing: more than 2^26 members');
    const m = Math.max(members, 1);
    let a = Math.max(1, Math.floor(m * 0.6180339887) % m);
    while (gcd(a, m) !== 1) a++;
    this.a = a % m || 1;
    this.ainv = m === 1 ? 0 : modInverse(this.a, m);
    this.b = hash(seed, salt, 0xb) % m;
  }

  /** Phase of member j in [0, period). */
  phase(j: number): number {
    const m = this.members;
    const slot = (mulmod(this.a, j, m) + this.b) % m;
    return ((slot + unit(this.seed, this.salt, j)) * this.period) / m;
  }

  /** Time since member j's most recent event (at offset) before or at t, in [0, period). */
  sinceLast(j: number, t: number, offset = 0): number {
    const x = (t - offset - this.phase(j)) % this.period;
    return x < 0 ? x + this.period : x;
  }

  /** Calls fn(j, time, cycle) for every member event with time in [t0, t1). */
  each(t0: number, t1: number, offset: number, fn: (j: number, time: number, cycle: number) => void): void {
    const m = this.members;
    if (m === 0) return;
    const p = this.period;
    const x0 = t0 - offset;
    const x1 = t1 - offset;
    for (let k = Math.floor(x0 / p); k * p < x1; k++) {
      const lo = Math.max(0, x0 - k * p);
      const hi = Math.min(p, x1 - k * p);
      if (lo >= hi) continue;
      const s0 = Math.max(0, Math.floor((lo * m) / p) - 1);
      const s1 = Math.min(m, Math.ceil((hi * m) / p) + 1);
      for (let s = s0; s < s1; s++) {
        const j = mulmod(this.ainv, (s - this.b + m) % m, m);
        const ph = this.phase(j);
        if (ph >= lo && ph < hi) fn(j, ph + k * p + offset, k);
      }
    }
  }
}
