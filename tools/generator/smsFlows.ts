// Short messages: mobile-terminated (SRI-for-SM, then mt-ForwardSM to the
// serving MSC when the handset is on) and mobile-originated (mo-ForwardSM).
import { SMS_TEXTS, type Exchanges } from './exchanges.ts';
import { SSN } from './network.ts';
import type { Rng } from './rng.ts';

export class SmsFlows {
  constructor(private readonly x: Exchanges) {}

  mtSms(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    const text = SMS_TEXTS[r.int(SMS_TEXTS.length)]!;
    if (r.next() < x.mix.unknownShare) {
      const v = { imsi: '', msisdn: x.unknownNumber(r), smscAddress: net.smsc.gt };
      x.mapPair(t, 'sendRoutingInfoForSM', net.smsc, SSN.msc, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const attached = x.subs.attached(i, t);
    const msc = net.mscs[x.subs.mscAt(i, t)]!;
    const peer = x.subs.msisdn(r.int(x.subs.n));
    const v = { ...x.values(i), smscAddress: net.smsc.gt, mscNumber: msc.gt, text, peer, epochSeconds: x.startTime + Math.floor(t) };
    const tt = x.mapPair(t, 'sendRoutingInfoForSM', net.smsc, SSN.msc, net.hlr, SSN.hlr, v, i, r, attached ? undefined : 'absentSubscriberSM');
    if (attached) x.mapPair(tt + 0.02 + r.next() * 0.05, 'mt-ForwardSM', net.smsc, SSN.msc, msc, SSN.msc, v, i, r);
  }

  moSms(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    const msc = net.mscs[x.subs.mscAt(i, t)]!;
    const v = {
      ...x.values(i),
      smscAddress: net.smsc.gt,
      peer: x.subs.msisdn(r.int(x.subs.n)),
      text: SMS_TEXTS[r.int(SMS_TEXTS.length)]!,
      vectorSeed: r.int(256),
    };
    x.mapPair(t, 'mo-ForwardSM', msc, SSN.msc, net.smsc, SSN.msc, v, i, r);
  }
}
