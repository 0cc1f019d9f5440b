// Ties ISUP messages of one call to its IAM: a circuit (CIC) is shared by
// the two exchanges at either end, so calls are keyed by CIC and the
// unordered point-code pair (both directions map to the same call). ACM,
// CPG, ANM, REL, RLC etc. get the IAM's calling/called numbers; RLC (or a
// circuit reset) ends the call. Bounded, and expired on message timestamps.
//
// A mobile-terminated call's IAM towards the visited MSC is addressed to the
// roaming number (MSRN) the HLR handed the gateway MSC in its sendRoutingInfo
// answer, not to the subscriber's MSISDN: the roaming numbers seen in those
// answers are remembered briefly (an MSRN is released within seconds of the
// call set-up, TS 23.018) so such an IAM names its subscriber (calledSubscriber).
import type { MapAddress } from '../../protocols/decode/map/addressString.ts';
import type { Ss7Message } from '../../protocols/decode/ss7Dissector.ts';
import type { IsupNumber } from '../../protocols/decode/isup/number.ts';

export interface CallInfo {
  calling?: IsupNumber;
  called?: IsupNumber;
  /** Time of the IAM, ns. */
  startNs: bigint;
  /** Time of the ANM/CON, if answered. */
  answerNs?: bigint;
  /** Point code that sent the IAM (the originating exchange). */
  originOpc: number;
  /** The called number was a roaming number a sendRoutingInfo answer gave for this subscriber (its MSISDN). */
  calledSubscriber?: MapAddress;
}

export type CorrelatedIsupMessage = Ss7Message & { call?: CallInfo };

export interface IsupCallsOptions {
  /** Forget calls idle for longer than this (ns); answered calls can be silent for hours. */
  timeoutNs?: bigint;
  maxCalls?: number;
  /** How long a roaming number from a sendRoutingInfo answer may still address an IAM (ns). Default 90 s. */
  roamingNumberNs?: bigint;
}

const digitsOf = (n: { digits: string }) => n.digits.replace(/[^0-9]/g, '');

interface Call extends CallInfo {
  key: string;
  lastNs: bigint;
}

export class IsupCalls {
  private readonly calls = new Map<string, Call>(); // LRU order
  /** Roaming number digits → the subscriber it was allocated for, oldest first. */
  private readonly roaming = new Map<string, { subscriber: MapAddress; atNs: bigint }>();
  private readonly timeoutNs: bigint;
  private readonly maxCalls: number;
  private readonly roamingNumberNs: bigint;
  readonly stats = { started: 0, released: 0, expired: 0, evicted: 0, unmatched: 0, roamingNumbers: 0, roamingMatched: 0 };

  constructor(opts: IsupCallsOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 4n * 3600n * 1_000_000_000n;
    this.maxCalls = opts.maxCalls ?? 500_000;
    this.roamingNumberNs = opts.roamingNumberNs ?? 90n * 1_000_000_000n;
  }

  /** A sendRoutingInfo answer allocated `roamingNumber` for the subscriber `msisdn` at `atNs`. */
  rememberRoamingNumber(roamingNumber: MapAddress, msisdn: MapAddress, atNs: bigint): void {
    const digits = digitsOf(roamingNumber);
    if (!digits) return;
    this.roaming.delete(digits);
    if (this.roaming.size >= this.maxCalls) this.roaming.delete(this.roaming.keys().next().value as string);
    this.roaming.set(digits, { subscriber: msisdn, atNs });
    this.stats.roamingNumbers++;
  }

  private roamingSubscriber(called: { digits: string }, nowNs: bigint): MapAddress | undefined {
    for (const [d, r] of this.roaming) {
      if (nowNs - r.atNs <= this.roamingNumberNs) break;
      this.roaming.delete(d);
    }
    const digits = digitsOf(called);
    const hit = this.roaming.get(digits);
    if (!hit) return undefined;
    this.roaming.delete(digits); // one call per allocation
    this.stats.roamingMatched++;
    return hit.subscriber;
  }

  get size(): number {
    return this.calls.size;
  }

  /** Adds `call` (the IAM's numbers) to msg in place; returns it. */
  observe(msg: Ss7Message): CorrelatedIsupMessage {
    const isup = msg.isup;
    if (!isup) return msg;
    this.expire(msg.timeNs);
    const key = msg.opc < msg.dpc ? `${msg.opc}|${msg.dpc}|${isup.cic}` : `${msg.dpc}|${msg.opc}|${isup.cic}`;
    let call = this.calls.get(key);
    if (isup.name === 'IAM') {
      if (call) this.calls.delete(key); // circuit re-seized: a new call
      if (this.calls.size >= this.maxCalls) {
        this.calls.delete(this.calls.keys().next().value as string);
        this.stats.evicted++;
      }
      call = { key, startNs: msg.timeNs, lastNs: msg.timeNs, originOpc: msg.opc };
      if (isup.callingNumber) call.calling = isup.callingNumber;
      if (isup.calledNumber) call.called = isup.calledNumber;
      const subscriber = isup.calledNumber ? this.roamingSubscriber(isup.calledNumber, msg.timeNs) : undefined;
      if (subscriber) call.calledSubscriber = subscriber;
      this.stats.started++;
    } else if (!call) {
      this.stats.unmatched++;
      return msg;
    } else {
      this.calls.delete(key); // re-inserted below: keeps LRU order
    }
    if (msg.timeNs > call.lastNs) call.lastNs = msg.timeNs;
    if ((isup.name === 'ANM' || isup.name === 'CON') && call.answerNs === undefined) call.answerNs = msg.timeNs;
    if (isup.name === 'SAM' && isup.subsequentDigits && call.called) {
      call.called = { ...call.called, digits: call.called.digits + isup.subsequentDigits };
    }
    if (isup.name === 'RLC' || isup.name === 'RSC') this.stats.released++;
    else this.calls.set(key, call); // RLC / circuit reset: the circuit is idle again
    const info: CallInfo = { startNs: call.startNs, originOpc: call.originOpc };
    if (call.calling) info.calling = call.calling;
    if (call.called) info.called = call.called;
    if (call.answerNs !== undefined) info.answerNs = call.answerNs;
    if (call.calledSubscriber) info.calledSubscriber = call.calledSubscriber;
    const out = msg as CorrelatedIsupMessage; // enriched in place, like TcapTransactions
    out.call = info;
    return out;
  }

  /** Drops calls idle for longer than the timeout at `nowNs`. */
  expire(nowNs: bigint): void {
    for (const [key, c] of this.calls) {
      if (nowNs - c.lastNs <= this.timeoutNs) break;
      this.calls.delete(key);
      this.stats.expired++;
    }
  }
}
