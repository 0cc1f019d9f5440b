// Seeded, stateless randomness: per-subscriber facts are hashes of
// (seed, subscriber, purpose, ...) so nothing per subscriber is stored, and
// a small PRNG for per-slice draws. All integer maths is 32-bit (Math.imul).

/** murmur3 fmix32: a good 32-bit avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of up to four integers (each taken mod 2^32) to a uint32. */
export function hash(seed: number, a: number, b = 0, c = 0): number {
  let h = fmix32(seed ^ 0x9e3779b9);
  h = fmix32(h ^ (a >>> 0) ^ Math.imul(Math.floor(a / 4294967296), 0x27d4eb2f));
  h = fmix32(h ^ Math.imul(b >>> 0, 0x165667b1) ^ Math.floor(b / 4294967296));
  return fmix32(h ^ Math.imul(c >>> 0, 0xd3a2646c) ^ Math.floor(c / 4294967296));
}

/** Uniform in [0,1) from a hash. */
export function unit(seed: number, a: number, b = 0, c = 0): number {
  return hash(seed, a, b, c) / 4294967296;
}

/** sfc32: a fast, well-mixed PRNG for sequential draws within a slice. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(seed: number, stream = 0, slice = 0) {
    this.a = hash(seed, stream, slice, 1);
    this.b = hash(seed, stream, slice, 2);
    this.c = hash(seed, stream, slice, 3);
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0,1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0,n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Exponential with the given mean. */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Poisson count (Knuth for small means, normal approximation above 50). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 50) {
      const u = 1 - this.next();
      const v = this.next();
      const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
      return Math.max(0, Math.round(mean + z * Math.sqrt(mean)));
    }
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > l) {
      k++;
      p *= this.next();
    }
    return k;
  }
}
