// What every flow shares: the encoder, the network, the subscribers, and the
// time-ordered queue of frames still to be sent. A flow schedules its frames
// with `at` (frames past the end of the run are not queued); MAP exchanges
// are invoke/answer pairs in their own TCAP dialogue.
import type { Encoder } from './encoder.ts';
import { EventQueue } from './eventQueue.ts';
import type { MapError, MapOperation, MapValues } from './map.ts';
import type { Mix } from './mix.ts';
import type { NetNode, Network } from './network.ts';
import type { Rng } from './rng.ts';
import type { Subscribers } from './subscribers.ts';

export const SMS_TEXTS = ['See you at 6', 'Call me back please', 'On my way', 'Running 10 min late', 'OK thanks', 'Meeting moved to 3pm'];

export class Exchanges {
  readonly q = new EventQueue();

  constructor(
    readonly enc: Encoder,
    readonly net: Network,
    readonly mix: Mix,
    readonly subs: Subscribers,
    readonly cc: string,
    readonly mcc: string,
    readonly mnc: string,
    readonly startTime: number,
    readonly durationSeconds: number,
  ) {}

  at(t: number, run: () => void): void {
    if (t < this.durationSeconds) this.q.push(t, run);
  }

  values(i: number): MapValues {
    return { imsi: this.subs.imsi(i), msisdn: this.subs.msisdn(i), hlrNumber: this.net.hlr.gt };
  }

  /** Invoke at t, result/error a few milliseconds later; returns the answer time. */
  mapPair(
    t: number,
    op: MapOperation,
    req: NetNode,
    reqSsn: number,
    resp: NetNode,
    respSsn: number,
    v: MapValues,
    sub: number,
    r: Rng,
    error?: MapError,
  ): number {
    const tid = this.enc.nextTid();
    const tr = t + 0.004 + r.next() * 0.02;
    // Drawn only when asked for, so scenarios without STP routes keep their random sequence.
    const [stp1, stp2] = this.net.stps;
    const viaStps = this.mix.stpAnswerShare > 0 && r.next() < this.mix.stpAnswerShare;
    const there = viaStps ? { from: req, to: stp1 } : undefined;
    const back = viaStps ? { from: resp, to: stp2 } : undefined;
    this.at(t, () => this.enc.map('invoke', op, req, reqSsn, resp, respSsn, tid, v, sub, undefined, undefined, there));
    this.at(tr, () => this.enc.map(error ? 'error' : 'result', op, resp, respSsn, req, reqSsn, tid, v, sub, error, undefined, back));
    return tr;
  }

  /** A number that belongs to nobody (for unknownSubscriber errors). */
  unknownNumber(r: Rng): string {
    return `${this.cc}79${String(r.int(1e8)).padStart(8, '0')}`;
  }
}
