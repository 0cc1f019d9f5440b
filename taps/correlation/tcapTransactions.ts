// Ties TCAP results, errors and later invokes to their dialogue (ITU-T Q.774
// transaction ids), so a result without an opCode gets its operation name and
// every component gets the identities (IMSI/MSISDN) seen earlier in the
// dialogue. A transaction id is local to the node that allocated it: the
// originator's otid is keyed with its point code (the Begin's OPC) and the
// responder's with its own (the first Continue's OPC); a message's dtid is
// looked up under its DPC. Bounded (oldest dialogues evicted) and expired
// on message timestamps, so replays are deterministic.
import type { Ss7Message } from '../../protocols/decode/ss7Dissector.ts';
import type { MapAddress } from '../../protocols/decode/map/map.ts';
import { mapOperationName } from '../../protocols/decode/map/operations.ts';

export interface DialogueInfo {
  appContext?: string;
  imsi?: string;
  msisdn?: MapAddress;
  /** Operation of the invoke this result/error answers (from the invoke id). */
  invokeOperation?: string;
  /** Time of the Begin, ns. */
  startNs: bigint;
}

export type CorrelatedSs7Message = Ss7Message & { dialogue?: DialogueInfo };

export interface TcapTransactionsOptions {
  /** Forget dialogues idle for longer than this (ns); MAP timers are at most ~10 min, most < 30 s. */
  timeoutNs?: bigint;
  maxDialogues?: number;
}

interface Dialogue {
  primary: string;
  keys: string[];
  startNs: bigint;
  lastNs: bigint;
  beginFrame: number;
  /** Frame of the End/Abort: the dialogue stays visible to that frame's other components only. */
  endFrame?: number;
  appContext?: string;
  mapVersion?: number;
  imsi?: string;
  msisdn?: MapAddress;
  invokes: Map<number, number>; // invokeId → opCode
}

const MAX_INVOKES = 32;

export class TcapTransactions {
  private readonly byKey = new Map<string, Dialogue>();
  /** LRU order of dialogues (least recently seen first), by primary key. */
  private readonly order = new Map<string, Dialogue>();
  private readonly ending: Dialogue[] = [];
  private readonly timeoutNs: bigint;
  private readonly maxDialogues: number;
  readonly stats = { started: 0, ended: 0, expired: 0, evicted: 0, unmatched: 0 };

  constructor(opts: TcapTransactionsOptions = {}) {
    this.timeoutNs = opts.timeoutNs ?? 60_000_000_000n;
    this.maxDialogues = opts.maxDialogues ?? 200_000;
  }

  get size(): number {
    return this.order.size;
  }

  /** Adds `dialogue` (and a result's missing opCode/operation) to msg in place; returns it. */
  observe(msg: Ss7Message): CorrelatedSs7Message {
    const t = msg.tcap;
    if (!t || t.type === 'unidirectional') return msg; // no transaction to tie anything to
    // Dialogues ended by an earlier frame are gone; the other components of
    // the ending frame (one End may carry several) still see theirs.
    if (this.ending.length > 0 && this.ending[0]!.endFrame !== msg.frame) {
      for (const e of this.ending) this.remove(e);
      this.ending.length = 0;
    }
    this.expire(msg.timeNs);
    // Returned (UDTS) copies are enriched but never change dialogue state.
    const passive = msg.sccp?.returnCause !== undefined;
    let d: Dialogue | undefined;
    if (t.type === 'begin') {
      if (t.otid !== undefined) {
        const key = `${msg.opc}|${t.otid}`;
        d = this.live(key, msg.frame);
        if ((!d || d.beginFrame !== msg.frame) && !passive) d = this.create(key, msg);
      }
    } else if (t.dtid !== undefined) {
      d = this.live(`${msg.dpc}|${t.dtid}`, msg.frame);
      if (d && !passive && t.otid !== undefined) {
        const alias = `${msg.opc}|${t.otid}`;
        if (!this.byKey.has(alias)) {
          this.byKey.set(alias, d);
          d.keys.push(alias);
        }
      }
    }
    if (!d) {
      if (t.type !== 'begin') this.stats.unmatched++;
      return msg;
    }
    if (!passive) this.touch(d, msg.timeNs);
    if (t.appContext && !d.appContext) d.appContext = t.appContext;
    // Enriched in place: messages are fresh objects from the dissector, and
    // copying them per message costs more than the correlation itself.
    const out = msg as CorrelatedSs7Message;
    const m = msg.map;
    if (m) {
      if (m.kind === 'invoke' && m.invokeId !== undefined && m.opCode !== undefined && !passive) {
        if (d.invokes.size < MAX_INVOKES) d.invokes.set(m.invokeId, m.opCode);
      }
      if (m.opCode !== undefined && d.mapVersion !== undefined) {
        // Continue/End carry no application context: name by the dialogue's MAP version.
        const name = mapOperationName(m.opCode, d.mapVersion);
        if (name) m.operation = name;
      }
      let invokeOperation: string | undefined;
      if (m.kind !== 'invoke' && m.invokeId !== undefined) {
        const op = d.invokes.get(m.invokeId);
        if (op !== undefined) {
          invokeOperation = mapOperationName(op, d.mapVersion);
          if (m.opCode === undefined) {
            m.opCode = op;
            if (invokeOperation) m.operation = invokeOperation;
          }
        }
      }
      if (!passive) {
        if (m.params.imsi) d.imsi ??= m.params.imsi;
        if (m.params.msisdn) d.msisdn ??= m.params.msisdn;
      }
      const info: DialogueInfo = { startNs: d.startNs };
      if (d.appContext) info.appContext = d.appContext;
      if (d.imsi ?? m.params.imsi) info.imsi = (d.imsi ?? m.params.imsi)!;
      if (d.msisdn ?? m.params.msisdn) info.msisdn = (d.msisdn ?? m.params.msisdn)!;
      if (invokeOperation) info.invokeOperation = invokeOperation;
      out.dialogue = info;
    } else {
      const info: DialogueInfo = { startNs: d.startNs };
      if (d.appContext) info.appContext = d.appContext;
      if (d.imsi) info.imsi = d.imsi;
      if (d.msisdn) info.msisdn = d.msisdn;
      out.dialogue = info;
    }
    if ((t.type === 'end' || t.type === 'abort') && !passive && d.endFrame === undefined) {
      d.endFrame = msg.frame;
      this.stats.ended++;
      this.ending.push(d);
    }
    return out;
  }

  /** Drops dialogues idle for longer than the timeout at `nowNs`. */
  expire(nowNs: bigint): void {
    for (const d of this.order.values()) {
      if (nowNs - d.lastNs <= this.timeoutNs) break;
      this.remove(d);
      if (d.endFrame === undefined) this.stats.expired++;
    }
  }

  private live(key: string, frame: number): Dialogue | undefined {
    const d = this.byKey.get(key);
    if (d && d.endFrame !== undefined && d.endFrame !== frame) {
      this.remove(d);
      return undefined;
    }
    return d;
  }

  private create(key: string, msg: Ss7Message): Dialogue {
    const old = this.byKey.get(key);
    if (old) this.remove(old); // transaction id reused
    if (this.order.size >= this.maxDialogues) {
      const oldest = this.order.values().next().value as Dialogue;
      this.remove(oldest);
      this.stats.evicted++;
    }
    const d: Dialogue = { primary: key, keys: [key], startNs: msg.timeNs, lastNs: msg.timeNs, beginFrame: msg.frame, invokes: new Map() };
    const ac = msg.tcap?.appContextOid;
    if (ac) {
      const v = Number(ac.slice(ac.lastIndexOf('.') + 1));
      if (ac.startsWith('0.4.0.0.1.0.') && v > 0) d.mapVersion = v;
    }
    this.byKey.set(key, d);
    this.order.set(key, d);
    this.stats.started++;
    return d;
  }

  private touch(d: Dialogue, nowNs: bigint): void {
    if (nowNs > d.lastNs) d.lastNs = nowNs;
    this.order.delete(d.primary);
    this.order.set(d.primary, d);
  }

  private remove(d: Dialogue): void {
    this.order.delete(d.primary);
    for (const k of d.keys) if (this.byKey.get(k) === d) this.byKey.delete(k);
  }
}
