// The scenario model: N subscribers living through a stretch of time,
// rendered as time-ordered signalling frames. Generation walks time in
// slices; in each slice it asks every traffic source which subscribers act
// (periodic sources through PhaseRing, random ones as a Poisson draw per
// slice), turns each act into its message exchange (mobility, call, SMS and
// SIP flows), and emits the queued frames that fall inside the slice. A
// subscriber's state (powered on? which MSC area?) is a pure function of
// (seed, index, time) (Subscribers), so nothing is stored per subscriber and
// ten million of them cost no more memory than ten.
import { CallFlows } from './callFlows.ts';
import { Encoder } from './encoder.ts';
import type { Protocol } from './encoder.ts';
import { Exchanges } from './exchanges.ts';
import { numbering } from './identity.ts';
import type { NumberingOptions } from './identity.ts';
import { resolveMix } from './mix.ts';
import type { Mix } from './mix.ts';
import { MobilityFlows } from './mobilityFlows.ts';
import { buildNetwork } from './network.ts';
import type { Network } from './network.ts';
import { PhaseRing } from './phaseRing.ts';
import type { Activity } from './pidf.ts';
import { Rng } from './rng.ts';
import { SipFlows } from './sipFlows.ts';
import { SmsFlows } from './smsFlows.ts';
import { K, Salt, Subscribers } from './subscribers.ts';

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

/** Poisson traffic sources, each a per-subscriber hourly rate in the mix. */
const SOURCES = [
  'mtCallsPerHour',
  'moCallsPerHour',
  'mtSmsPerHour',
  'moSmsPerHour',
  'atiPerHour',
  'sipCallsPerHour',
  'publishPerHour',
  'subscribePerHour',
  'messagePerHour',
  'voicemailPerHour',
] as const;
type Source = (typeof SOURCES)[number];

const ACTIVITIES: (Activity | undefined)[] = [undefined, 'busy', 'away', 'meeting'];

export class Scenario {
  readonly n: number;
  readonly seed: number;
  readonly mix: Mix;
  readonly net: Network;
  readonly startTime: number;
  readonly durationSeconds: number;
  readonly subscribers: Subscribers;
  private readonly slice: number;
  private readonly enc: Encoder;
  private readonly x: Exchanges;
  private readonly periodicLu: PhaseRing;
  private readonly register: PhaseRing;
  private readonly mobility: MobilityFlows;
  private readonly calls: CallFlows;
  private readonly sms: SmsFlows;
  private readonly sip: SipFlows;

  constructor(opts: ScenarioOptions) {
    if (!Number.isInteger(opts.subscribers) || opts.subscribers < 1) throw new Error('subscribers must be a positive integer');
    if (opts.subscribers > 50_000_000) throw new Error('subscribers above 50,000,000 are not supported');
    if (!(opts.durationSeconds > 0)) throw new Error('durationSeconds must be positive');
    const num = numbering(opts);
    this.enc = new Encoder(opts.transientFrames ?? false);
    this.n = opts.subscribers;
    this.seed = opts.seed >>> 0;
    this.mix = resolveMix(opts.mix, opts.subscribers);
    for (const k of ['powerCycleSeconds', 'periodicLuSeconds', 'mobilitySeconds', 'registerSeconds'] as const) {
      if (!(this.mix[k] > 0)) throw new Error(`mix.${k} must be positive`);
    }
    this.net = buildNetwork(num.countryCode, this.mix.mscCount, this.mix.gmscCount);
    this.startTime = opts.startTime ?? 1_767_225_600;
    this.durationSeconds = opts.durationSeconds;
    this.slice = opts.sliceSeconds ?? 1;
    const m = this.mix;
    this.subscribers = new Subscribers(this.n, this.seed, m, num.countryCode, num.mcc, num.mnc);
    this.periodicLu = new PhaseRing(this.n, m.periodicLuSeconds, this.seed, Salt.PeriodicLu);
    this.register = new PhaseRing(this.n, m.registerSeconds * 0.9, this.seed, Salt.Register);
    this.x = new Exchanges(this.enc, this.net, m, this.subscribers, num.countryCode, num.mcc, num.mnc, this.startTime, this.durationSeconds);
    this.sip = new SipFlows(this.x);
    this.mobility = new MobilityFlows(this.x, this.sip);
    this.calls = new CallFlows(this.x);
    this.sms = new SmsFlows(this.x);
  }

  // ---- ground truth for end-to-end checks (see Subscribers) ----

  imsi(i: number): string {
    return this.subscribers.imsi(i);
  }

  msisdn(i: number): string {
    return this.subscribers.msisdn(i);
  }

  aor(i: number): string {
    return this.subscribers.aor(i);
  }

  hasGprs(i: number): boolean {
    return this.subscribers.hasGprs(i);
  }

  hasIms(i: number): boolean {
    return this.subscribers.hasIms(i);
  }

  /** Handset powered on (registered in the CS domain) at time t. */
  attached(i: number, t: number): boolean {
    return this.subscribers.attached(i, t);
  }

  /** Index of the MSC/VLR serving subscriber i in mobility epoch e. */
  mscInEpoch(i: number, e: number): number {
    return this.subscribers.mscInEpoch(i, e);
  }

  mscAt(i: number, t: number): number {
    return this.subscribers.mscAt(i, t);
  }

  // ---- the frame stream ----

  /** Time-ordered frames for the whole run. The yielded record is reused. */
  *packets(): Generator<PacketRecord> {
    const q = this.x.q;
    const rec: PacketRecord = { t: 0, frame: this.enc.frame, protocol: 'map', message: '', subscriber: -1 };
    const end = this.durationSeconds;
    for (let s = 0; s * this.slice < end; s++) {
      const t0 = s * this.slice;
      const t1 = Math.min(end, t0 + this.slice);
      this.schedule(s, t0, t1);
      while (q.peekTime() < t1) {
        const step = q.pop()!;
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
    return this.x.q.size;
  }

  // ---- scheduling: who acts in slice s ----

  private schedule(s: number, t0: number, t1: number): void {
    const m = this.mix;
    const subs = this.subscribers;
    const rr = new Rng(this.seed, Salt.RingEvents, s);
    for (let c = 0; c < K; c++) {
      const ring = subs.powerRings[c]!;
      ring.each(t0, t1, 0, (j, t) => this.mobility.powerOn(c + K * j, t, rr));
      ring.each(t0, t1, m.powerCycleSeconds - subs.offSeconds[c]!, (j, t) => this.mobility.powerOff(c + K * j, t, rr));
    }
    subs.mobility.each(t0, t1, 0, (i, t, k) => {
      if (!subs.attached(i, t)) return;
      const from = subs.mscInEpoch(i, k - 1);
      const to = subs.mscInEpoch(i, k);
      if (from !== to) this.mobility.move(i, t, from, to, rr);
    });
    this.periodicLu.each(t0, t1, 0, (i, t) => {
      if (subs.attached(i, t)) this.mobility.locationUpdate(i, t, subs.mscAt(i, t), -1, rr);
    });
    this.register.each(t0, t1, 0, (i, t) => {
      if (subs.hasIms(i) && subs.attached(i, t)) this.sip.register(i, t, m.registerSeconds, rr);
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
    const subs = this.subscribers;
    const ims = (): boolean => subs.hasIms(i) && subs.attached(i, t);
    switch (src) {
      case 'mtCallsPerHour':
        return this.calls.mtCall(i, t, r);
      case 'moCallsPerHour':
        if (subs.attached(i, t)) this.calls.moCall(i, t, r);
        return;
      case 'mtSmsPerHour':
        return this.sms.mtSms(i, t, r);
      case 'moSmsPerHour':
        if (subs.attached(i, t)) this.sms.moSms(i, t, r);
        return;
      case 'atiPerHour':
        return this.mobility.ati(i, t, r);
      case 'sipCallsPerHour':
        if (ims()) this.sip.call(i, t, r);
        return;
      case 'publishPerHour':
        if (ims()) this.sip.publish(i, t, true, ACTIVITIES[r.int(ACTIVITIES.length)], r);
        return;
      case 'subscribePerHour':
        if (ims()) this.sip.subscribe(i, t, r.int(this.n), r);
        return;
      case 'messagePerHour':
        if (ims()) this.sip.message(i, t, r.int(this.n), r);
        return;
      case 'voicemailPerHour':
        if (ims()) this.sip.voicemail(i, t, r);
        return;
    }
  }
}
