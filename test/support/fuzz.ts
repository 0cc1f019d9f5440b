// Seeded randomness and mutations for fuzz tests: failures reproduce from the seed.
/** Deterministic PRNG (mulberry32) so fuzz failures reproduce from the seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One random mutation: bit flips, byte overwrite, truncation, duplication or deletion of a span. */
/** Flips one bit of one byte in place. */
export function flipBit(b: Buffer, index: number, bit: number): void {
  b[index] = (b[index] ?? 0) ^ (1 << bit);
}

export function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const pick = (n: number) => Math.floor(rnd() * n);
  switch (pick(5)) {
    case 0: {
      const flips = 1 + pick(8);
      for (let i = 0; i < flips && b.length; i++) flipBit(b, pick(b.length), pick(8));
      return b;
    }
    case 1: {
      const specials = [0x00, 0x0d, 0x0a, 0x20, 0x3a, 0x3b, 0x2c, 0x22, 0x3c, 0x3e, 0xff, 0x80];
      for (let i = 0; i < 1 + pick(4) && b.length; i++) b[pick(b.length)] = specials[pick(specials.length)]!;
      return b;
    }
    case 2:
      return b.subarray(0, pick(b.length + 1));
    case 3: {
      const s = pick(b.length + 1);
      const e = s + pick(b.length - s + 1);
      return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
    }
    default: {
      const s = pick(b.length + 1);
      const e = s + pick(Math.min(64, b.length - s) + 1);
      return Buffer.concat([b.subarray(0, s), b.subarray(e)]);
    }
  }
}
