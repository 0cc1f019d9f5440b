// ISUP circuits on the trunk groups between MSCs and gateway MSCs. A circuit
// (CIC) is never seized while an earlier call still holds it, so
// (OPC, DPC, CIC) identifies one call at a time, as decoders correlating
// IAM…RLC assume. Each call's end is known when it is scheduled, so a
// circuit's state is just the time it becomes free again.

/** CICs 1..4095 (12-bit field, Q.763 §1.2). */
const CIRCUITS = 4095;

export class TrunkGroups {
  private readonly freeAt: Float64Array;
  private readonly cursor: Uint16Array;

  constructor(readonly links: number) {
    this.freeAt = new Float64Array(links * CIRCUITS);
    this.cursor = new Uint16Array(links);
  }

  /** Seizes a circuit on `link` from t until `until`; returns the CIC or -1 when all are busy. */
  seize(link: number, t: number, until: number): number {
    const base = link * CIRCUITS;
    let c = this.cursor[link]!;
    for (let n = 0; n < CIRCUITS; n++) {
      c = c + 1 > CIRCUITS ? 1 : c + 1;
      if (this.freeAt[base + c - 1]! <= t) {
        this.freeAt[base + c - 1] = until;
        this.cursor[link] = c;
        return c;
      }
    }
    return -1;
  }
}
