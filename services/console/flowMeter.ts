// Live rates along the pipeline as the console shows them: signaling events
// (by tap, protocol and message), presence changes, NOTIFY requests, delivery
// outcomes, NOTIFYs that needed retries, and dead letters (by component, layer
// and reason, with the newest one as a sample). Counted from the records the
// console reads, so it needs nothing from the components themselves.
import type { DeadLetter } from '../../schemas/generated/records.ts';

/** Events per second over a sliding window, in small buckets so memory stays fixed whatever the rate. */
export class RateWindow {
  private readonly buckets: number[];
  private readonly stamps: number[];
  total = 0;

  constructor(
    readonly windowMs = 5000,
    readonly bucketMs = 250,
  ) {
    const n = Math.ceil(windowMs / bucketMs);
    this.buckets = new Array<number>(n).fill(0);
    this.stamps = new Array<number>(n).fill(-1);
  }

  add(n: number, nowMs: number): void {
    const slot = Math.floor(nowMs / this.bucketMs);
    const i = slot % this.buckets.length;
    if (this.stamps[i] !== slot) {
      this.stamps[i] = slot;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += n;
    this.total += n;
  }

  perSecond(nowMs: number): number {
    const newest = Math.floor(nowMs / this.bucketMs);
    const oldest = newest - this.buckets.length; // exclusive
    let sum = 0;
    this.stamps.forEach((slot, i) => {
      if (slot > oldest && slot <= newest) sum += this.buckets[i]!;
    });
    // Whole buckets: the rate is exact to within one bucket of the window.
    return sum / (this.windowMs / 1000);
  }
}

interface DeadLetterSample {
  message: string;
  origin: string | null;
  time: number;
  rawBytes: number;
}

export interface FlowSnapshot {
  at: number;
  rates: Record<FlowName, number>;
  totals: Record<FlowName, number>;
  /** By the tap that published them (SignalingEvent.source.tap: replay, hep, generator…), protocol and message. */
  signalingByMessage: Array<{ tap: string; protocol: string; message: string; total: number; perSecond: number }>;
  /** Retransmissions behind the retried NOTIFYs: attempts beyond the first, summed over their reports. */
  retransmissions: number;
  deliveriesByOutcome: Array<{ outcome: string; total: number; perSecond: number }>;
  deadLettersByReason: Array<{ component: string; layer: string; reason: string; total: number; perSecond: number; sample: DeadLetterSample }>;
}

/** retried: delivery reports after more than one attempt (the sink reports a NOTIFY once, when its retries end). */
type FlowName = 'signalingEvents' | 'presenceChanges' | 'notifyRequests' | 'deliveries' | 'retried' | 'deadLetters';
const FLOWS: FlowName[] = ['signalingEvents', 'presenceChanges', 'notifyRequests', 'deliveries', 'retried', 'deadLetters'];
const OTHER = '(other)';

export class FlowMeter {
  private readonly flows = new Map<FlowName, RateWindow>();
  private readonly byMessage = new Map<string, { tap: string; protocol: string; message: string; w: RateWindow }>();
  private retransmissions = 0;
  private readonly byOutcome = new Map<string, RateWindow>();
  private readonly byReason = new Map<string, { component: string; layer: string; reason: string; w: RateWindow; sample: DeadLetterSample }>();

  /**
   * @param windowMs the rates' window
   * @param maxKinds distinct message kinds / dead-letter reasons kept; the rest are counted under "(other)",
   *   since message names come from the wire and a flood of odd ones must not grow memory.
   */
  constructor(
    readonly windowMs = 5000,
    readonly maxKinds = 200,
  ) {
    for (const f of FLOWS) this.flows.set(f, this.window());
  }

  private window(): RateWindow {
    return new RateWindow(this.windowMs, Math.max(10, Math.floor(this.windowMs / 20)));
  }

  signaling(protocol: string, message: string, nowMs: number, tap = ''): void {
    this.flows.get('signalingEvents')!.add(1, nowMs);
    let k = `${tap}\u0000${protocol}\u0000${message}`;
    if (!this.byMessage.has(k) && this.byMessage.size >= this.maxKinds) {
      k = OTHER;
      tap = OTHER;
      protocol = OTHER;
      message = OTHER;
    }
    let e = this.byMessage.get(k);
    if (!e) this.byMessage.set(k, (e = { tap, protocol, message, w: this.window() }));
    e.w.add(1, nowMs);
  }

  presence(nowMs: number): void {
    this.flows.get('presenceChanges')!.add(1, nowMs);
  }

  notify(nowMs: number): void {
    this.flows.get('notifyRequests')!.add(1, nowMs);
  }

  delivery(outcome: string, nowMs: number, attempts = 1): void {
    this.flows.get('deliveries')!.add(1, nowMs);
    if (attempts > 1) {
      this.flows.get('retried')!.add(1, nowMs);
      this.retransmissions += attempts - 1;
    }
    if (!this.byOutcome.has(outcome) && this.byOutcome.size >= this.maxKinds) outcome = OTHER;
    let w = this.byOutcome.get(outcome);
    if (!w) this.byOutcome.set(outcome, (w = this.window()));
    w.add(1, nowMs);
  }

  deadLetter(d: DeadLetter, nowMs: number): void {
    this.flows.get('deadLetters')!.add(1, nowMs);
    let k = `${d.component}\u0000${d.layer}\u0000${d.reason}`;
    const sample = { message: d.message, origin: d.origin, time: d.time, rawBytes: d.raw.length };
    let names = { component: d.component, layer: d.layer, reason: d.reason };
    if (!this.byReason.has(k) && this.byReason.size >= this.maxKinds) {
      k = OTHER;
      names = { component: OTHER, layer: OTHER, reason: OTHER };
    }
    let e = this.byReason.get(k);
    if (!e) this.byReason.set(k, (e = { ...names, w: this.window(), sample }));
    e.sample = sample;
    e.w.add(1, nowMs);
  }

  snapshot(nowMs: number): FlowSnapshot {
    const rates = {} as Record<FlowName, number>;
    const totals = {} as Record<FlowName, number>;
    for (const [f, w] of this.flows) {
      rates[f] = w.perSecond(nowMs);
      totals[f] = w.total;
    }
    return {
      at: nowMs,
      rates,
      totals,
      signalingByMessage: [...this.byMessage.values()]
        .map((e) => ({ tap: e.tap, protocol: e.protocol, message: e.message, total: e.w.total, perSecond: e.w.perSecond(nowMs) }))
        .sort((a, b) => b.total - a.total || a.message.localeCompare(b.message)),
      retransmissions: this.retransmissions,
      deliveriesByOutcome: [...this.byOutcome.entries()]
        .map(([outcome, w]) => ({ outcome, total: w.total, perSecond: w.perSecond(nowMs) }))
        .sort((a, b) => b.total - a.total || a.outcome.localeCompare(b.outcome)),
      deadLettersByReason: [...this.byReason.values()]
        .map((e) => ({ component: e.component, layer: e.layer, reason: e.reason, total: e.w.total, perSecond: e.w.perSecond(nowMs), sample: e.sample }))
        .sort((a, b) => b.total - a.total || a.reason.localeCompare(b.reason)),
    };
  }
}
