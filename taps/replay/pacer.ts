// Paces a capture replay: at the original pace (speed 1), N times faster, or
// as fast as possible (speed Infinity). Time is taken from the capture's own
// timestamps, relative to its first frame.
export class ReplayPacer {
  private firstCaptureNs: bigint | undefined;
  private startedAt = 0;

  constructor(
    readonly speed: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(speed > 0)) throw new Error(`replay speed must be positive, got ${speed}`);
  }

  /** Milliseconds to wait before a frame captured at `timeNs` is due (0 when due or unpaced). */
  delayFor(timeNs: bigint): number {
    if (this.speed === Infinity) return 0;
    if (this.firstCaptureNs === undefined) {
      this.firstCaptureNs = timeNs;
      this.startedAt = this.now();
      return 0;
    }
    const offsetMs = Number(timeNs - this.firstCaptureNs) / 1e6 / this.speed;
    return Math.max(0, this.startedAt + offsetMs - this.now());
  }

  /** Waits until the frame is due. Only sleeps for gaps of a millisecond or more. */
  async wait(timeNs: bigint): Promise<void> {
    const ms = this.delayFor(timeNs);
    if (ms >= 1) await this.sleep(ms);
  }
}

/** Parses --speed: a positive number, or 'max' for as fast as possible. */
export function parseSpeed(raw: string): number {
  if (raw === 'max' || raw === 'inf') return Infinity;
  const n = Number(raw.replace(/x$/i, ''));
  if (!(n > 0)) throw new Error(`--speed must be a positive number (e.g. 1, 10, 0.5) or "max", not ${raw}`);
  return n;
}
