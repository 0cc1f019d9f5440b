// Ties ISUP messages of one call to its IAM: a circuit (CIC) is shared by
// the two exchanges at either end, so calls are keyed by CIC and the
// unordered point-code pair (both directions map to the same call). ACM,
// CPG, ANM, REL, RLC etc. get the IAM's calling/called numbers; RLC (or a
// circuit reset) ends the call. Bounded, and expired on message timestamps.
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
}

export type CorrelatedIsupMessage = Ss7Message & { call?: CallInfo };

export interface IsupCallsOptions {
  /** Forget calls idle for longer than this (ns); answered calls can be silent for hours. */
  timeoutNs?: bigint;
  maxCalls?: number;
}

interface Call extends CallInfo {
  key: string;
  lastNs: bigint;
}

export class IsupCalls {
  private readonly calls = new Map<string, Call>(); // LRU order
  private readonly timeoutNs: bigint;
  private readonly maxCalls: number;
  readonly stats = { started: 0, released: 0, expired: 0, evicted: 0, unmatched: 0 };

  constructor(opts: IsupCallsOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 4n * 3600n * 1_000_000_000n;
    this.maxCalls = opts.maxCalls ?? 500_000;
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
