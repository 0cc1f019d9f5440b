// Circuit-switched calls: a mobile-terminated call asks the HLR for routing
// (SRI: absentSubscriber when the handset is off, unknownSubscriber for
// numbers that do not exist), then ISUP IAM/ACM/CPG/ANM/REL/RLC on a free
// circuit; a mobile-originated call is ISUP from the serving MSC. Outcomes:
// answered, busy (cause 17), no answer (cause 19).
import type { Exchanges } from './exchanges.ts';
import { ISUP_CAUSE } from './isup.ts';
import { SSN } from './network.ts';
import type { NetNode } from './network.ts';
import type { Rng } from './rng.ts';
import { TrunkGroups } from './trunks.ts';

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

export class CallFlows {
  private readonly trunks: TrunkGroups;

  constructor(private readonly x: Exchanges) {
    this.trunks = new TrunkGroups(x.mix.mscCount * x.mix.gmscCount);
  }

  private pstnNumber(r: Rng): string {
    return `${this.x.cc}3${String(r.int(1e8)).padStart(8, '0')}`;
  }

  mtCall(i: number, t: number, r: Rng): void {
    const x = this.x;
    const net = x.net;
    const m = x.mix;
    const gmsc = net.gmscs[r.int(net.gmscs.length)]!;
    if (r.next() < m.unknownShare) {
      const v = { imsi: '', msisdn: x.unknownNumber(r), gmscAddress: gmsc.gt };
      x.mapPair(t, 'sendRoutingInfo', gmsc, SSN.msc, net.hlr, SSN.hlr, v, -1, r, 'unknownSubscriber');
      return;
    }
    const attached = x.subs.attached(i, t);
    const k = x.subs.mscAt(i, t);
    const msc = net.mscs[k]!;
    const plan = this.planCall(r);
    // The IAM follows the SRI answer (at most ~25 ms later); the circuit is held from t.
    const tIam = t + 0.04;
    const seized = attached ? this.seize(k, gmsc.id, t, tIam + plan.end) : undefined;
    const from = seized ? net.gmscs[seized.g]! : gmsc;
    const v = { ...x.values(i), gmscAddress: from.gt, mscNumber: msc.gt, roamingNumber: `${x.cc}8${String(r.int(1e8)).padStart(8, '0')}` };
    x.mapPair(t, 'sendRoutingInfo', from, SSN.msc, net.hlr, SSN.hlr, v, i, r, attached ? undefined : 'absentSubscriber');
    if (seized) this.isupCall(i, tIam, from, msc, seized.cic, v.roamingNumber, this.pstnNumber(r), plan);
  }

  moCall(i: number, t: number, r: Rng): void {
    const net = this.x.net;
    const k = this.x.subs.mscAt(i, t);
    const plan = this.planCall(r);
    const seized = this.seize(k, net.gmscs[r.int(net.gmscs.length)]!.id, t, t + plan.end);
    if (seized) this.isupCall(i, t, net.mscs[k]!, net.gmscs[seized.g]!, seized.cic, this.pstnNumber(r), this.x.subs.msisdn(i), plan);
  }

  /** A free circuit between MSC k and a gateway, preferring the one with node id `prefer`. */
  private seize(k: number, prefer: number, t: number, until: number): { g: number; cic: number } | undefined {
    const gs = this.x.net.gmscs;
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
    const m = this.x.mix;
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
    const x = this.x;
    const enc = x.enc;
    const cause = plan.outcome === 'busy' ? ISUP_CAUSE.userBusy : plan.outcome === 'noAnswer' ? ISUP_CAUSE.noAnswer : ISUP_CAUSE.normalClearing;
    const [a, b] = plan.releasedByCaller ? [orig, term] : [term, orig];
    const release = (): void =>
      x.at(t + plan.rel, () => {
        enc.isup('REL', a, b, cic, i, '', '', cause);
        x.at(t + plan.rel + 0.02, () => enc.isup('RLC', b, a, cic, i));
      });
    x.at(t, () => {
      enc.isup('IAM', orig, term, cic, i, called, calling);
      if (plan.outcome === 'busy') release();
    });
    if (plan.outcome === 'busy') return;
    x.at(t + plan.acm, () => enc.isup('ACM', term, orig, cic, i));
    x.at(t + plan.acm + 0.1, () => {
      enc.isup('CPG', term, orig, cic, i);
      if (plan.outcome === 'noAnswer') release();
    });
    if (plan.outcome === 'answered') {
      x.at(t + plan.anm, () => {
        enc.isup('ANM', term, orig, cic, i);
        release();
      });
    }
  }
}
