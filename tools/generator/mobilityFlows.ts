// Mobility management: power-on (SAI, UL with ISD, GPRS UL, IMS
// registration), power-off (IMS de-registration, purgeMS), moving between
// MSC/VLR areas (UL from the new VLR, cancelLocation to the old one), and
// anyTimeInterrogation, which asks the HLR where a subscriber is.
import type { Exchanges } from './exchanges.ts';
import { SSN } from './network.ts';
import { hash, type Rng } from './rng.ts';
import type { SipFlows } from './sipFlows.ts';
import { Salt } from './subscribers.ts';

export class MobilityFlows {
  constructor(
    private readonly x: Exchanges,
    private readonly sip: SipFlows,
  ) {}

  /** Location update at MSC k (from MSC `old` when moving, -1 otherwise). */
  locationUpdate(i: number, t: number, k: number, old: number, r: Rng): number {
    const x = this.x;
    const net = x.net;
    const enc = x.enc;
    const vlr = net.mscs[k]!;
    const v = { ...x.values(i), mscNumber: vlr.gt, vlrNumber: net.vlrNumber(k) };
    const tid = enc.nextTid();
    const inDialogue = r.next() < x.mix.ulContinueShare;
    x.at(t, () => enc.map('invoke', 'updateLocation', vlr, SSN.vlr, net.hlr, SSN.hlr, tid, v, i));
    let tt = t + 0.01 + r.next() * 0.01;
    if (old >= 0) tt = x.mapPair(tt, 'cancelLocation', net.hlr, SSN.hlr, net.mscs[old]!, SSN.vlr, v, i, r) + 0.002;
    if (!inDialogue) {
      tt = x.mapPair(tt, 'insertSubscriberData', net.hlr, SSN.hlr, vlr, SSN.vlr, v, i, r) + 0.003;
      x.at(tt, () => enc.map('result', 'updateLocation', net.hlr, SSN.hlr, vlr, SSN.vlr, tid, v, i));
      return tt;
    }
    // HLR answers the Begin with a Continue carrying ISD (and the AARE); the
    // VLR's Continue returns the ISD result; the HLR's End closes with the UL result.
    const hlrTid = enc.nextTid();
    const isd = { context: 'updateLocation', invokeId: 1 } as const;
    const tr = tt + 0.004 + r.next() * 0.01;
    const te = tr + 0.003 + r.next() * 0.01;
    x.at(tt, () =>
      enc.map('invoke', 'insertSubscriberData', net.hlr, SSN.hlr, vlr, SSN.vlr, hlrTid, v, i, undefined, {
        ...isd,
        message: 'continue',
        dtid: tid,
        aare: true,
      }),
    );
    x.at(tr, () =>
      enc.map('result', 'insertSubscriberData', vlr, SSN.vlr, net.hlr, SSN.hlr, tid, v, i, undefined, {
        ...isd,
        message: 'continue',
        dtid: hlrTid,
        aare: false,
      }),
    );
    x.at(te, () =>
      enc.map('result', 'updateLocation', net.hlr, SSN.hlr, vlr, SSN.vlr, tid, v, i, undefined, { ...isd, message: 'end', dtid: tid, aare: false }),
    );
    return te;
  }

  powerOn(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    const k = x.subs.mscAt(i, t);
    const vlr = net.mscs[k]!;
    let tt = x.mapPair(t, 'sendAuthenticationInfo', vlr, SSN.vlr, net.hlr, SSN.hlr, { ...x.values(i), vectorSeed: hash(x.subs.seed, i, Math.floor(t)) }, i, r);
    tt = this.locationUpdate(i, tt + 0.3 + r.next() * 0.3, k, -1, r);
    if (x.subs.hasGprs(i)) {
      const v = { ...x.values(i), sgsnNumber: net.sgsn.gt, sgsnIp: net.sgsn.ip };
      tt = x.mapPair(tt + 0.5 + r.next(), 'updateGprsLocation', net.sgsn, SSN.sgsn, net.hlr, SSN.hlr, v, i, r);
    }
    if (x.subs.hasIms(i)) {
      tt = this.sip.register(i, tt + 0.5 + r.next(), x.mix.registerSeconds, r);
      this.sip.publish(i, tt + 0.2, true, undefined, r);
    }
  }

  powerOff(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    let tt = t;
    if (x.subs.hasIms(i)) {
      tt = this.sip.publish(i, tt, false, undefined, r);
      tt = this.sip.register(i, tt + 0.05, 0, r) + 0.2;
    }
    const k = x.subs.mscAt(i, t);
    tt = x.mapPair(tt, 'purgeMS', net.mscs[k]!, SSN.vlr, net.hlr, SSN.hlr, { ...x.values(i), vlrNumber: net.vlrNumber(k) }, i, r);
    if (x.subs.hasGprs(i)) x.mapPair(tt + 0.1 + r.next(), 'purgeMS', net.sgsn, SSN.sgsn, net.hlr, SSN.hlr, { ...x.values(i), sgsnNumber: net.sgsn.gt }, i, r);
  }

  move(i: number, t: number, from: number, to: number, r: Rng): void {
    this.locationUpdate(i, t, to, from, r);
  }

  ati(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    if (r.next() < x.mix.unknownShare) {
      const v = { imsi: '', msisdn: x.unknownNumber(r), scfAddress: net.scf.gt };
      x.mapPair(t, 'anyTimeInterrogation', net.scf, SSN.scf, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const k = x.subs.mscAt(i, t);
    const cell = hash(x.subs.seed, i, Math.floor(t / x.mix.mobilitySeconds), Salt.Cell);
    const v = {
      ...x.values(i),
      scfAddress: net.scf.gt,
      reachable: x.subs.attached(i, t),
      vlrNumber: net.vlrNumber(k),
      mcc: x.mcc,
      mnc: x.mnc,
      lac: 0x100 * (k + 1) + (cell & 0x0f),
      ci: ((cell >>> 8) % 65535) + 1,
    };
    x.mapPair(t, 'anyTimeInterrogation', net.scf, SSN.scf, net.hlr, SSN.hlr, v, i, r);
  }
}
