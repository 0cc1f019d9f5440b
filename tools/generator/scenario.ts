// The scenario model: N subscribers living through a stretch of time,
// rendered as time-ordered signalling frames. Generation walks time in
// slices; in each slice it asks every traffic source which subscribers act
// (periodic sources through PhaseRing, random ones as a Poisson draw per
// slice), turns each act into its message exchange, and emits the queued
// frames that fall inside the slice. A subscriber's state (powered on? which
// MSC area?) is a pure function of (seed, index, time), so nothing is stored
// per subscriber and ten million of them cost no more memory than ten.
import { Encoder } from './encoder.ts';
import type { Protocol } from './encoder.ts';
import { EventQueue } from './eventQueue.ts';
import { IMS_DOMAIN, numbering, subscriberImsi, subscriberMsisdn } from './identity.ts';
import type { NumberingOptions } from './identity.ts';
import { ISUP_CAUSE } from './isup.ts';
import type { MapError, MapOperation, MapValues } from './map.ts';
import { OFF_SHARES, resolveMix } from './mix.ts';
import type { Mix } from './mix.ts';
import { SSN, buildNetwork, ipString, ueIp } from './network.ts';
import type { NetNode, Network } from './network.ts';
import { PhaseRing } from './phaseRing.ts';
import { pidf } from './pidf.ts';
import type { Activity } from './pidf.ts';
import { Rng, hash, unit } from './rng.ts';
import { sipRequest, sipResponse } from './sip.ts';
import { TrunkGroups } from './trunks.ts';
import type { SipBody, SipTransaction } from './sip.ts';

export interface ScenarioOptions extends NumberingOptions {
  subscribers: number;
  durationSeconds: number;
  seed: number;
  mix?: Partial<Mix>;
  /** Capture start, Unix seconds (default 2026-01-01T00:00:00Z, fixed for reproducible files). */
  startTime?: number;
  /** Length of a generation slice in seconds (default 1). */
  sliceSeconds?: number;
  /** Frames are consumed before the next is requested (lets the encoder reuse its buffer). */
  transientFrames?: boolean;
}

/** One generated frame; the record is reused between yields (copy what you keep). */
export interface PacketRecord {
  /** Seconds since the start of the capture. */
  t: number;
  frame: Buffer;
  protocol: Protocol;
  message: string;
  /** Subscriber index, or -1 for traffic about numbers that do not exist. */
  subscriber: number;
}

// Salts keep the per-purpose hashes independent.
const enum Salt {
  Power = 1,
  Mobility,
  PeriodicLu,
  Register,
  Home,
  Stay,
  Roam,
  Gprs,
  Ims,
  Cell,
  Slice,
  RingEvents,
}

/** Poisson traffic sources, each a per-subscriber hourly rate in the mix. */
const SOURCES = ['mtCallsPerHour', 'moCallsPerHour', 'mtSmsPerHour', 'moSmsPerHour', 'atiPerHour', 'sipCallsPerHour', 'publishPerHour', 'subscribePerHour', 'messagePerHour'] as const;
type Source = (typeof SOURCES)[number];

const SMS_TEXTS = ['See you at 6', 'Call me back please', 'On my way', 'Running 10 min late', 'OK thanks', 'Meeting moved to 3pm'];
const ACTIVITIES: (Activity | undefined)[] = [undefined, 'busy', 'away', 'meeting'];
const K = OFF_SHARES.length;

interface CallPlan {
  outcome: 'answered' | 'busy' | 'noAnswer';
  /** Seconds after the IAM. */
  acm: number;
  anm: number;
  rel: number;
  releasedByCaller: boolean;
  /** When the circuit is free again (RLC). */
  end: number;
}

export class Scenario {
  readonly n: number;
  readonly seed: number;
  readonly mix: Mix;
  readonly net: Network;
  readonly startTime: number;
  readonly durationSeconds: number;
  private readonly cc: string;
  private readonly mcc: string;
  private readonly mnc: string;
  private readonly slice: number;
  private readonly enc: Encoder;
  private readonly q = new EventQueue();
  private readonly powerRings: PhaseRing[] = [];
  private readonly offSeconds: number[];
  private readonly mobility: PhaseRing;
  private readonly periodicLu: PhaseRing;
  private readonly register: PhaseRing;
  private readonly trunks: TrunkGroups;
  private sipSeq = 0;

  constructor(opts: ScenarioOptions) {
    if (!Number.isInteger(opts.subscribers) || opts.subscribers < 1) throw new Error('subscribers must be a positive integer');
    if (opts.subscribers > 50_000_000) throw new Error('subscribers above 50,000,000 are not supported');
    if (!(opts.durationSeconds > 0)) throw new Error('durationSeconds must be positive');
    const num = numbering(opts);
    this.enc = new Encoder(opts.transientFrames ?? false);
    this.cc = num.countryCode;
    this.mcc = num.mcc;
    this.mnc = num.mnc;
    this.n = opts.subscribers;
    this.seed = opts.seed >>> 0;
    this.mix = resolveMix(opts.mix, opts.subscribers);
    for (const k of ['powerCycleSeconds', 'periodicLuSeconds', 'mobilitySeconds', 'registerSeconds'] as const) {
      if (!(this.mix[k] > 0)) throw new Error(`mix.${k} must be positive`);
    }
    this.net = buildNetwork(this.cc, this.mix.mscCount, this.mix.gmscCount);
    this.startTime = opts.startTime ?? 1_767_225_600;
    this.durationSeconds = opts.durationSeconds;
    this.slice = opts.sliceSeconds ?? 1;
    const m = this.mix;
    for (let c = 0; c < K; c++) {
      const members = c < this.n ? Math.floor((this.n - 1 - c) / K) + 1 : 0;
      this.powerRings.push(new PhaseRing(members, m.powerCycleSeconds, this.seed, Salt.Power * 16 + c));
    }
    this.offSeconds = OFF_SHARES.map((s) => s * m.powerCycleSeconds);
    this.mobility = new PhaseRing(this.n, m.mobilitySeconds, this.seed, Salt.Mobility);
    this.periodicLu = new PhaseRing(this.n, m.periodicLuSeconds, this.seed, Salt.PeriodicLu);
    this.register = new PhaseRing(this.n, m.registerSeconds * 0.9, this.seed, Salt.Register);
    this.trunks = new TrunkGroups(m.mscCount * m.gmscCount);
  }

  // ---- who the subscribers are and where they stand (pure functions) ----

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

  // ---- the frame stream ----

  /** Time-ordered frames for the whole run. The yielded record is reused. */
  *packets(): Generator<PacketRecord> {
    const rec: PacketRecord = { t: 0, frame: this.enc.frame, protocol: 'map', message: '', subscriber: -1 };
    const end = this.durationSeconds;
    for (let s = 0; s * this.slice < end; s++) {
      const t0 = s * this.slice;
      const t1 = Math.min(end, t0 + this.slice);
      this.schedule(s, t0, t1);
      while (this.q.peekTime() < t1) {
        const step = this.q.pop()!;
        step.run();
        rec.t = step.t;
        rec.frame = this.enc.frame;
        rec.protocol = this.enc.protocol;
        rec.message = this.enc.message;
        rec.subscriber = this.enc.subscriber;
        yield rec;
      }
    }
  }

  /** Frames still queued (in-flight exchanges); for memory checks. */
  get pending(): number {
    return this.q.size;
  }

  private at(t: number, run: () => void): void {
    if (t < this.durationSeconds) this.q.push(t, run);
  }

  private schedule(s: number, t0: number, t1: number): void {
    const m = this.mix;
    const rr = new Rng(this.seed, Salt.RingEvents, s);
    for (let c = 0; c < K; c++) {
      const ring = this.powerRings[c]!;
      ring.each(t0, t1, 0, (j, t) => this.powerOn(c + K * j, t, rr));
      ring.each(t0, t1, m.powerCycleSeconds - this.offSeconds[c]!, (j, t) => this.powerOff(c + K * j, t, rr));
    }
    this.mobility.each(t0, t1, 0, (i, t, k) => {
      if (!this.attached(i, t)) return;
      const from = this.mscInEpoch(i, k - 1);
      const to = this.mscInEpoch(i, k);
      if (from !== to) this.move(i, t, from, to, rr);
    });
    this.periodicLu.each(t0, t1, 0, (i, t) => {
      if (this.attached(i, t)) this.locationUpdate(i, t, this.mscAt(i, t), -1, rr);
    });
    this.register.each(t0, t1, 0, (i, t) => {
      if (this.hasIms(i) && this.attached(i, t)) this.sipRegister(i, t, m.registerSeconds, rr);
    });
    const dt = t1 - t0;
    for (let k = 0; k < SOURCES.length; k++) {
      const src = SOURCES[k]!;
      const rate = m[src];
      if (rate <= 0) continue;
      const r = new Rng(this.seed, Salt.Slice * 64 + k, s);
      const count = r.poisson((this.n * rate * dt) / 3600);
      for (let e = 0; e < count; e++) {
        const i = r.int(this.n);
        const t = t0 + r.next() * dt;
        this.random(src, i, t, r);
      }
    }
  }

  private random(src: Source, i: number, t: number, r: Rng): void {
    switch (src) {
      case 'mtCallsPerHour':
        return this.mtCall(i, t, r);
      case 'moCallsPerHour':
        if (this.attached(i, t)) this.moCall(i, t, r);
        return;
      case 'mtSmsPerHour':
        return this.mtSms(i, t, r);
      case 'moSmsPerHour':
        if (this.attached(i, t)) this.moSms(i, t, r);
        return;
      case 'atiPerHour':
        return this.ati(i, t, r);
      case 'sipCallsPerHour':
        if (this.hasIms(i) && this.attached(i, t)) this.sipCall(i, t, r);
        return;
      case 'publishPerHour':
        if (this.hasIms(i) && this.attached(i, t)) this.sipPublish(i, t, true, ACTIVITIES[r.int(ACTIVITIES.length)], r);
        return;
      case 'subscribePerHour':
        if (this.hasIms(i) && this.attached(i, t)) this.sipSubscribe(i, t, r.int(this.n), r);
        return;
      case 'messagePerHour':
        if (this.hasIms(i) && this.attached(i, t)) this.sipMessage(i, t, r.int(this.n), r);
        return;
    }
  }

  // ---- MAP exchanges ----

  /** Invoke at t, result/error a few milliseconds later; returns the answer time. */
  private mapPair(t: number, op: MapOperation, req: NetNode, reqSsn: number, resp: NetNode, respSsn: number, v: MapValues, sub: number, r: Rng, error?: MapError): number {
    const tid = this.enc.nextTid();
    const tr = t + 0.004 + r.next() * 0.02;
    this.at(t, () => this.enc.map('invoke', op, req, reqSsn, resp, respSsn, tid, v, sub));
    if (error) this.at(tr, () => this.enc.map('error', op, resp, respSsn, req, reqSsn, tid, v, sub, error));
    else this.at(tr, () => this.enc.map('result', op, resp, respSsn, req, reqSsn, tid, v, sub));
    return tr;
  }

  private values(i: number): MapValues {
    return { imsi: this.imsi(i), msisdn: this.msisdn(i), hlrNumber: this.net.hlr.gt };
  }

  /** Location update at MSC k (from MSC `old` when moving, -1 otherwise). */
  private locationUpdate(i: number, t: number, k: number, old: number, r: Rng): number {
    const net = this.net;
    const enc = this.enc;
    const vlr = net.mscs[k]!;
    const v = { ...this.values(i), mscNumber: vlr.gt, vlrNumber: net.vlrNumber(k) };
    const tid = enc.nextTid();
    const inDialogue = r.next() < this.mix.ulContinueShare;
    this.at(t, () => enc.map('invoke', 'updateLocation', vlr, SSN.vlr, net.hlr, SSN.hlr, tid, v, i));
    let tt = t + 0.01 + r.next() * 0.01;
    if (old >= 0) tt = this.mapPair(tt, 'cancelLocation', net.hlr, SSN.hlr, net.mscs[old]!, SSN.vlr, v, i, r) + 0.002;
    if (!inDialogue) {
      tt = this.mapPair(tt, 'insertSubscriberData', net.hlr, SSN.hlr, vlr, SSN.vlr, v, i, r) + 0.003;
      this.at(tt, () => enc.map('result', 'updateLocation', net.hlr, SSN.hlr, vlr, SSN.vlr, tid, v, i));
      return tt;
    }
    // HLR answers the Begin with a Continue carrying ISD (and the AARE); the
    // VLR's Continue returns the ISD result; the HLR's End closes with the UL result.
    const hlrTid = enc.nextTid();
    const isd = { context: 'updateLocation', invokeId: 1 } as const;
    const tr = tt + 0.004 + r.next() * 0.01;
    const te = tr + 0.003 + r.next() * 0.01;
    this.at(tt, () => enc.map('invoke', 'insertSubscriberData', net.hlr, SSN.hlr, vlr, SSN.vlr, hlrTid, v, i, undefined, { ...isd, message: 'continue', dtid: tid, aare: true }));
    this.at(tr, () => enc.map('result', 'insertSubscriberData', vlr, SSN.vlr, net.hlr, SSN.hlr, tid, v, i, undefined, { ...isd, message: 'continue', dtid: hlrTid, aare: false }));
    this.at(te, () => enc.map('result', 'updateLocation', net.hlr, SSN.hlr, vlr, SSN.vlr, tid, v, i, undefined, { ...isd, message: 'end', dtid: tid, aare: false }));
    return te;
  }

  private powerOn(i: number, t: number, r: Rng): void {
    const net = this.net;
    const k = this.mscAt(i, t);
    const vlr = net.mscs[k]!;
    let tt = this.mapPair(t, 'sendAuthenticationInfo', vlr, SSN.vlr, net.hlr, SSN.hlr, { ...this.values(i), vectorSeed: hash(this.seed, i, Math.floor(t)) }, i, r);
    tt = this.locationUpdate(i, tt + 0.3 + r.next() * 0.3, k, -1, r);
    if (this.hasGprs(i)) {
      const v = { ...this.values(i), sgsnNumber: net.sgsn.gt, sgsnIp: net.sgsn.ip };
      tt = this.mapPair(tt + 0.5 + r.next(), 'updateGprsLocation', net.sgsn, SSN.sgsn, net.hlr, SSN.hlr, v, i, r);
    }
    if (this.hasIms(i)) {
      tt = this.sipRegister(i, tt + 0.5 + r.next(), this.mix.registerSeconds, r);
      this.sipPublish(i, tt + 0.2, true, undefined, r);
    }
  }

  private powerOff(i: number, t: number, r: Rng): void {
    const net = this.net;
    let tt = t;
    if (this.hasIms(i)) {
      tt = this.sipPublish(i, tt, false, undefined, r);
      tt = this.sipRegister(i, tt + 0.05, 0, r) + 0.2;
    }
    const k = this.mscAt(i, t);
    tt = this.mapPair(tt, 'purgeMS', net.mscs[k]!, SSN.vlr, net.hlr, SSN.hlr, { ...this.values(i), vlrNumber: net.vlrNumber(k) }, i, r);
    if (this.hasGprs(i)) this.mapPair(tt + 0.1 + r.next(), 'purgeMS', net.sgsn, SSN.sgsn, net.hlr, SSN.hlr, { ...this.values(i), sgsnNumber: net.sgsn.gt }, i, r);
  }

  private move(i: number, t: number, from: number, to: number, r: Rng): void {
    this.locationUpdate(i, t, to, from, r);
  }

  /** A number that belongs to nobody (for unknownSubscriber errors). */
  private unknownNumber(r: Rng): string {
    return `${this.cc}79${String(r.int(1e8)).padStart(8, '0')}`;
  }

  private pstnNumber(r: Rng): string {
    return `${this.cc}3${String(r.int(1e8)).padStart(8, '0')}`;
  }

  private mtCall(i: number, t: number, r: Rng): void {
    const net = this.net;
    const m = this.mix;
    const gmsc = net.gmscs[r.int(net.gmscs.length)]!;
    if (r.next() < m.unknownShare) {
      const v = { imsi: '', msisdn: this.unknownNumber(r), gmscAddress: gmsc.gt };
      this.mapPair(t, 'sendRoutingInfo', gmsc, SSN.msc, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const attached = this.attached(i, t);
    const k = this.mscAt(i, t);
    const msc = net.mscs[k]!;
    const plan = this.planCall(r);
    // The IAM follows the SRI answer (at most ~25 ms later); the circuit is held from t.
    const tIam = t + 0.04;
    const seized = attached ? this.seize(k, gmsc.id, t, tIam + plan.end) : undefined;
    const from = seized ? net.gmscs[seized.g]! : gmsc;
    const v = { ...this.values(i), gmscAddress: from.gt, mscNumber: msc.gt, roamingNumber: `${this.cc}8${String(r.int(1e8)).padStart(8, '0')}` };
    this.mapPair(t, 'sendRoutingInfo', from, SSN.msc, net.hlr, SSN.hlr, v, i, r, attached ? undefined : 'absentSubscriber');
    if (seized) this.isupCall(i, tIam, from, msc, seized.cic, v.roamingNumber, this.pstnNumber(r), plan);
  }

  private moCall(i: number, t: number, r: Rng): void {
    const k = this.mscAt(i, t);
    const plan = this.planCall(r);
    const seized = this.seize(k, this.net.gmscs[r.int(this.net.gmscs.length)]!.id, t, t + plan.end);
    if (seized) this.isupCall(i, t, this.net.mscs[k]!, this.net.gmscs[seized.g]!, seized.cic, this.pstnNumber(r), this.msisdn(i), plan);
  }

  /** A free circuit between MSC k and a gateway, preferring the one with node id `prefer`. */
  private seize(k: number, prefer: number, t: number, until: number): { g: number; cic: number } | undefined {
    const gs = this.net.gmscs;
    const first = gs.findIndex((g) => g.id === prefer);
    for (let n = 0; n < gs.length; n++) {
      const g = (first + n) % gs.length;
      const cic = this.trunks.seize(k * gs.length + g, t, until);
      if (cic > 0) return { g, cic };
    }
    return undefined; // all trunks busy: the call fails before any ISUP is sent
  }

  /** Call outcome and timeline relative to the IAM. */
  private planCall(r: Rng): CallPlan {
    const m = this.mix;
    const x = r.next();
    if (x < m.busyShare) {
      const rel = 0.3 + r.next();
      return { outcome: 'busy', acm: 0, anm: 0, rel, releasedByCaller: false, end: rel + 0.02 };
    }
    const acm = 0.8 + r.next() * 2;
    if (x < m.busyShare + m.noAnswerShare) return { outcome: 'noAnswer', acm, anm: 0, rel: acm + 30, releasedByCaller: false, end: acm + 30.02 };
    const anm = acm + 2 + r.next() * 12;
    const rel = anm + 1 + r.exp(m.meanCallSeconds);
    return { outcome: 'answered', acm, anm, rel, releasedByCaller: r.next() < 0.5, end: rel + 0.02 };
  }

  /**
   * ISUP call from `orig` to `term` on circuit `cic` following `plan`. The
   * release is scheduled only once the call reaches its last state before it,
   * so a call in conversation holds no queued frames (the queue then scales
   * with call attempts in progress, not with calls up).
   */
  private isupCall(i: number, t: number, orig: NetNode, term: NetNode, cic: number, called: string, calling: string, plan: CallPlan): void {
    const enc = this.enc;
    const cause = plan.outcome === 'busy' ? ISUP_CAUSE.userBusy : plan.outcome === 'noAnswer' ? ISUP_CAUSE.noAnswer : ISUP_CAUSE.normalClearing;
    const [a, b] = plan.releasedByCaller ? [orig, term] : [term, orig];
    const release = (): void =>
      this.at(t + plan.rel, () => {
        enc.isup('REL', a, b, cic, i, '', '', cause);
        this.at(t + plan.rel + 0.02, () => enc.isup('RLC', b, a, cic, i));
      });
    this.at(t, () => {
      enc.isup('IAM', orig, term, cic, i, called, calling);
      if (plan.outcome === 'busy') release();
    });
    if (plan.outcome === 'busy') return;
    this.at(t + plan.acm, () => enc.isup('ACM', term, orig, cic, i));
    this.at(t + plan.acm + 0.1, () => {
      enc.isup('CPG', term, orig, cic, i);
      if (plan.outcome === 'noAnswer') release();
    });
    if (plan.outcome === 'answered') {
      this.at(t + plan.anm, () => {
        enc.isup('ANM', term, orig, cic, i);
        release();
      });
    }
  }

  private mtSms(i: number, t: number, r: Rng): void {
    const net = this.net;
    const text = SMS_TEXTS[r.int(SMS_TEXTS.length)]!;
    if (r.next() < this.mix.unknownShare) {
      const v = { imsi: '', msisdn: this.unknownNumber(r), smscAddress: net.smsc.gt };
      this.mapPair(t, 'sendRoutingInfoForSM', net.smsc, SSN.msc, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const attached = this.attached(i, t);
    const msc = net.mscs[this.mscAt(i, t)]!;
    const peer = this.msisdn(r.int(this.n));
    const v = { ...this.values(i), smscAddress: net.smsc.gt, mscNumber: msc.gt, text, peer, epochSeconds: this.startTime + Math.floor(t) };
    const tt = this.mapPair(t, 'sendRoutingInfoForSM', net.smsc, SSN.msc, net.hlr, SSN.hlr, v, i, r, attached ? undefined : 'absentSubscriberSM');
    if (attached) this.mapPair(tt + 0.02 + r.next() * 0.05, 'mt-ForwardSM', net.smsc, SSN.msc, msc, SSN.msc, v, i, r);
  }

  private moSms(i: number, t: number, r: Rng): void {
    const net = this.net;
    const msc = net.mscs[this.mscAt(i, t)]!;
    const v = { ...this.values(i), smscAddress: net.smsc.gt, peer: this.msisdn(r.int(this.n)), text: SMS_TEXTS[r.int(SMS_TEXTS.length)]!, vectorSeed: r.int(256) };
    this.mapPair(t, 'mo-ForwardSM', msc, SSN.msc, net.smsc, SSN.msc, v, i, r);
  }

  private ati(i: number, t: number, r: Rng): void {
    const net = this.net;
    if (r.next() < this.mix.unknownShare) {
      const v = { imsi: '', msisdn: this.unknownNumber(r), scfAddress: net.scf.gt };
      this.mapPair(t, 'anyTimeInterrogation', net.scf, SSN.scf, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const k = this.mscAt(i, t);
    const cell = hash(this.seed, i, Math.floor(t / this.mix.mobilitySeconds), Salt.Cell);
    const v = {
      ...this.values(i),
      scfAddress: net.scf.gt,
      reachable: this.attached(i, t),
      vlrNumber: net.vlrNumber(k),
      mcc: this.mcc,
      mnc: this.mnc,
      lac: 0x100 * (k + 1) + (cell & 0x0f),
      ci: ((cell >>> 8) % 65535) + 1,
    };
    this.mapPair(t, 'anyTimeInterrogation', net.scf, SSN.scf, net.hlr, SSN.hlr, v, i, r);
  }

  // ---- SIP exchanges (handset ↔ P-CSCF) ----

  private token(): string {
    return (this.sipSeq++).toString(36);
  }

  private tx(i: number, method: string, requestUri: string, to: string, callId: string, fromTag: string, cseq: number): SipTransaction {
    return { method, requestUri, via: `${ipString(ueIp(i))}:5060`, branch: `z9hG4bK${this.token()}`, from: this.aor(i), fromTag, to, callId, cseq };
  }

  private contact(i: number): string {
    return `<sip:+${this.msisdn(i)}@${ipString(ueIp(i))}:5060>`;
  }

  /** UE → P-CSCF request at t, response `dt` later; returns the response time. */
  private sipPair(i: number, t: number, tx: SipTransaction, extra: string, body: SipBody | undefined, code: number, reason: string, toTag: string | undefined, respExtra: string, r: Rng, respBody?: SipBody): number {
    const enc = this.enc;
    const ue = ueIp(i);
    const pcscf = this.net.pcscf.ip;
    const tr = t + 0.01 + r.next() * 0.04;
    this.at(t, () => enc.sip(ue, pcscf, tx.method, i, (w) => sipRequest(w, tx, extra, body)));
    this.at(tr, () => enc.sip(pcscf, ue, `${code} ${tx.method}`, i, (w) => sipResponse(w, tx, code, reason, toTag, respExtra, respBody)));
    return tr;
  }

  private sipRegister(i: number, t: number, expires: number, r: Rng): number {
    const tx = this.tx(i, 'REGISTER', `sip:${IMS_DOMAIN}`, this.aor(i), `${this.token()}@${ipString(ueIp(i))}`, this.token(), 1 + (Math.floor(t) % 100000));
    const contact = this.contact(i);
    return this.sipPair(i, t, tx, `Contact: ${contact};expires=${expires}\r\nExpires: ${expires}\r\n`, undefined, 200, 'OK', this.token(), `Contact: ${contact};expires=${expires}\r\n`, r);
  }

  private sipPublish(i: number, t: number, open: boolean, activity: Activity | undefined, r: Rng): number {
    const aor = this.aor(i);
    const tx = this.tx(i, 'PUBLISH', aor, aor, `${this.token()}@${ipString(ueIp(i))}`, this.token(), 1);
    const body = { type: 'application/pidf+xml', text: pidf(aor, open, activity) };
    return this.sipPair(i, t, tx, 'Event: presence\r\nExpires: 3600\r\n', body, 200, 'OK', this.token(), `SIP-ETag: e${this.token()}\r\nExpires: 3600\r\n`, r);
  }

  private sipSubscribe(w: number, t: number, p: number, r: Rng): void {
    const enc = this.enc;
    const target = this.aor(p);
    const callId = `${this.token()}@${ipString(ueIp(w))}`;
    const tx = this.tx(w, 'SUBSCRIBE', target, target, callId, this.token(), 1);
    const toTag = this.token();
    const tr = this.sipPair(w, t, tx, `Event: presence\r\nAccept: application/pidf+xml\r\nContact: ${this.contact(w)}\r\nExpires: 3600\r\n`, undefined, 200, 'OK', toTag, `Expires: 3600\r\nContact: <sip:pcscf1.${IMS_DOMAIN}>\r\n`, r);
    // The first NOTIFY carries the presentity's current state.
    const online = this.attached(p, t) && this.hasIms(p);
    const notify: SipTransaction = {
      method: 'NOTIFY',
      requestUri: `sip:+${this.msisdn(w)}@${ipString(ueIp(w))}:5060`,
      via: `${ipString(this.net.pcscf.ip)}:5060`,
      branch: `z9hG4bK${this.token()}`,
      from: target,
      fromTag: toTag,
      to: this.aor(w),
      toTag: tx.fromTag,
      callId,
      cseq: 1,
    };
    const body = { type: 'application/pidf+xml', text: pidf(target, online) };
    const ue = ueIp(w);
    const pcscf = this.net.pcscf.ip;
    const tn = tr + 0.01 + r.next() * 0.02;
    this.at(tn, () => enc.sip(pcscf, ue, 'NOTIFY', w, (wr) => sipRequest(wr, notify, `Event: presence\r\nSubscription-State: active;expires=3600\r\nContact: <sip:pcscf1.${IMS_DOMAIN}>\r\n`, body)));
    this.at(tn + 0.02, () => enc.sip(ue, pcscf, '200 NOTIFY', w, (wr) => sipResponse(wr, notify, 200, 'OK', undefined, '')));
  }

  private sipMessage(i: number, t: number, b: number, r: Rng): void {
    const to = this.aor(b);
    const tx = this.tx(i, 'MESSAGE', to, to, `${this.token()}@${ipString(ueIp(i))}`, this.token(), 1);
    this.sipPair(i, t, tx, '', { type: 'text/plain', text: SMS_TEXTS[r.int(SMS_TEXTS.length)]! }, 200, 'OK', this.token(), '', r);
  }

  private sdp(i: number, port: number): SipBody {
    const ip = ipString(ueIp(i));
    return { type: 'application/sdp', text: `v=0\r\no=- ${port} 1 IN IP4 ${ip}\r\ns=-\r\nc=IN IP4 ${ip}\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0 8\r\n` };
  }

  private sipCall(a: number, t: number, r: Rng): void {
    const enc = this.enc;
    const m = this.mix;
    const b = r.int(this.n);
    const to = this.aor(b);
    const ue = ueIp(a);
    const pcscf = this.net.pcscf.ip;
    const invite = this.tx(a, 'INVITE', to, to, `${this.token()}@${ipString(ue)}`, this.token(), 1);
    const toTag = this.token();
    const offer = this.sdp(a, 40000 + 2 * r.int(10000));
    const contactA = `Contact: ${this.contact(a)}\r\n`;
    const contactB = `Contact: <sip:+${this.msisdn(b)}@pcscf1.${IMS_DOMAIN}>\r\n`;
    this.at(t, () => enc.sip(ue, pcscf, 'INVITE', a, (w) => sipRequest(w, invite, contactA, offer)));
    const reachable = this.hasIms(b) && this.attached(b, t) && b !== a;
    const outcome = r.next();
    const fail = (tf: number, code: number, reason: string): void => {
      this.at(tf, () => enc.sip(pcscf, ue, `${code} INVITE`, a, (w) => sipResponse(w, invite, code, reason, toTag, '')));
      // ACK to a non-2xx final response is hop-by-hop: same branch, INVITE's CSeq number.
      const ack: SipTransaction = { ...invite, method: 'ACK', toTag };
      this.at(tf + 0.01, () => enc.sip(ue, pcscf, 'ACK', a, (w) => sipRequest(w, ack, '')));
    };
    if (!reachable) return fail(t + 0.2 + r.next() * 0.3, 480, 'Temporarily Unavailable');
    if (outcome < m.busyShare) return fail(t + 0.5 + r.next(), 486, 'Busy Here');
    const tRing = t + 0.3 + r.next();
    const noAnswer = outcome < m.busyShare + m.noAnswerShare;
    this.at(tRing, () => {
      enc.sip(pcscf, ue, '180 INVITE', a, (w) => sipResponse(w, invite, 180, 'Ringing', toTag, contactB));
      if (noAnswer) fail(tRing + 30, 480, 'Temporarily Unavailable');
    });
    if (noAnswer) return;
    const tOk = tRing + 2 + r.next() * 12;
    const tBye = tOk + 1 + r.exp(m.meanCallSeconds);
    const answer = this.sdp(b, 40000 + 2 * r.int(10000));
    this.at(tOk, () => enc.sip(pcscf, ue, '200 INVITE', a, (w) => sipResponse(w, invite, 200, 'OK', toTag, contactB, answer)));
    const ack: SipTransaction = { ...invite, method: 'ACK', branch: `z9hG4bK${this.token()}`, toTag, requestUri: `sip:+${this.msisdn(b)}@pcscf1.${IMS_DOMAIN}` };
    this.at(tOk + 0.02, () => {
      enc.sip(ue, pcscf, 'ACK', a, (w) => sipRequest(w, ack, ''));
      // What follows is scheduled now so a call in progress holds no queued frames.
      this.sipPublish(a, tOk + 0.2, true, 'on-the-phone', r);
      const bye: SipTransaction = { ...ack, method: 'BYE', branch: `z9hG4bK${this.token()}`, cseq: 2 };
      this.sipPair(a, tBye, bye, '', undefined, 200, 'OK', toTag, '', r);
      this.sipPublish(a, tBye + 0.3, true, undefined, r);
    });
  }
}
