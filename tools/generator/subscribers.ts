// Subscriber behaviour: who subscriber i is and where it stands at time t
// (powered on? which MSC area? GPRS, IMS?), each a pure function of
// (seed, index, time), so nothing is stored per subscriber.
import { IMS_DOMAIN, subscriberImsi, subscriberMsisdn } from './identity.ts';
import { OFF_SHARES } from './mix.ts';
import type { Mix } from './mix.ts';
import { PhaseRing } from './phaseRing.ts';
import { hash, unit } from './rng.ts';

/** Salts keep the per-purpose hashes independent. */
export const Salt = {
  Power: 1,
  Mobility: 2,
  PeriodicLu: 3,
  Register: 4,
  Home: 5,
  Stay: 6,
  Roam: 7,
  Gprs: 8,
  Ims: 9,
  Cell: 10,
  Slice: 11,
  RingEvents: 12,
} as const;

/** Power-cycle classes: subscriber i is in class i % K, each with its own off-time share. */
export const K = OFF_SHARES.length;

export class Subscribers {
  /** Power cycles, one ring per class; member j of class c is subscriber c + K·j. */
  readonly powerRings: PhaseRing[] = [];
  /** Seconds a handset of class c stays off per cycle. */
  readonly offSeconds: number[];
  /** Mobility epochs: the serving MSC may change at each. */
  readonly mobility: PhaseRing;

  constructor(
    readonly n: number,
    readonly seed: number,
    private readonly mix: Mix,
    private readonly cc: string,
    private readonly mcc: string,
    private readonly mnc: string,
  ) {
    for (let c = 0; c < K; c++) {
      const members = c < n ? Math.floor((n - 1 - c) / K) + 1 : 0;
      this.powerRings.push(new PhaseRing(members, mix.powerCycleSeconds, seed, Salt.Power * 16 + c));
    }
    this.offSeconds = OFF_SHARES.map((s) => s * mix.powerCycleSeconds);
    this.mobility = new PhaseRing(n, mix.mobilitySeconds, seed, Salt.Mobility);
  }

  imsi(i: number): string {
    return subscriberImsi(i, this.mcc, this.mnc);
  }

  msisdn(i: number): string {
    return subscriberMsisdn(i, this.cc);
  }

  aor(i: number): string {
    return `sip:+${this.msisdn(i)}@${IMS_DOMAIN}`;
  }

  hasGprs(i: number): boolean {
    return unit(this.seed, i, Salt.Gprs) < this.mix.gprsShare;
  }

  hasIms(i: number): boolean {
    return unit(this.seed, i, Salt.Ims) < this.mix.imsShare;
  }

  /** Handset powered on (registered in the CS domain) at time t. */
  attached(i: number, t: number): boolean {
    const c = i % K;
    const since = this.powerRings[c]!.sinceLast(Math.floor(i / K), t);
    return since < this.mix.powerCycleSeconds - this.offSeconds[c]!;
  }

  /** Index of the MSC/VLR serving subscriber i in mobility epoch e. */
  mscInEpoch(i: number, e: number): number {
    const v = this.mix.mscCount;
    const home = hash(this.seed, i, Salt.Home) % v;
    return unit(this.seed, i, e, Salt.Stay) < this.mix.homeShare ? home : hash(this.seed, i, e, Salt.Roam) % v;
  }

  mscAt(i: number, t: number): number {
    return this.mscInEpoch(i, Math.floor((t - this.mobility.phase(i)) / this.mobility.period));
  }
}
