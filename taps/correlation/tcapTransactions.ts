// Ties TCAP results, errors and later invokes to their dialogue (ITU-T Q.774
// transaction ids), so a result without an opCode gets its operation name and
// every component gets the identities (IMSI/MSISDN) seen earlier in the
// dialogue. A transaction id is local to the node that allocated it, so it is
// keyed with that node's address, as a monitoring probe must: the SCCP global
// title when there is one (the Begin's calling GT is the answer's called GT,
// whichever STPs relayed either way), else its point code (the SCCP address's,
// else the MTP label's). The originator's otid is keyed with the Begin's
// calling address, the responder's with its first Continue's; a message's
// dtid is looked up under its called address. Invoke ids belong to the side
// that invokes (Q.773), so invokes are remembered per side. Bounded (oldest
// dialogues evicted) and expired on message timestamps, so replays are
// deterministic.
import type { Ss7Message } from '../../protocols/decode/ss7Dissector.ts';
import type { MapAddress } from '../../protocols/decode/map/map.ts';
import type { SccpAddress } from '../../protocols/decode/sccp/address.ts';
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
  invokes: Map<string, number>; // side + invokeId → opCode
}

/** The end of the dialogue a transaction id (and an invoke id) belongs to. */
type Side = 'o' | 'r';

interface Entry {
  d: Dialogue;
  side: Side;
}

const MAX_INVOKES = 32;

/**
 * Keys of a transaction id at a node, most specific first: by global title
 * when the address has one, and always by point code (for answers routed on
 * SSN and point code). `pc` is the MTP label's, used when the address has none.
 */
function nodeKeys(addr: SccpAddress | undefined, pc: number, tid: string): string[] {
  const byPc = `p${addr?.pc ?? pc}|${tid}`;
  return addr?.gt?.digits ? [`g${addr.gt.digits}|${tid}`, byPc] : [byPc];
}

/** The most specific of nodeKeys, for look-ups (one string on the hot path). */
function nodeKey(addr: SccpAddress | undefined, pc: number, tid: string): string {
  return addr?.gt?.digits ? `g${addr.gt.digits}|${tid}` : `p${addr?.pc ?? pc}|${tid}`;
}

export class TcapTransactions {
  private readonly byKey = new Map<string, Entry>();
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
    // Which side sent this message: the Begin's is the originator; an answer's
    // dtid names the receiver, so the sender is the other side.
    let sender: Side = 'o';
    if (t.type === 'begin') {
      if (t.otid !== undefined) {
        const keys = nodeKeys(msg.sccp?.calling, msg.opc, t.otid);
        d = this.live(keys[0]!, msg.frame)?.d;
        if ((!d || d.beginFrame !== msg.frame) && !passive) d = this.create(keys, msg);
      }
    } else if (t.dtid !== undefined) {
      // The most specific key the called address offers: a GT is not given up
      // for a point code, which after translation may be an STP's.
      const found = this.live(nodeKey(msg.sccp?.called, msg.dpc, t.dtid), msg.frame);
      if (found) {
        d = found.d;
        sender = found.side === 'o' ? 'r' : 'o';
        if (!passive && t.otid !== undefined) this.alias(d, nodeKeys(msg.sccp?.calling, msg.opc, t.otid), sender, false);
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
        if (d.invokes.size < MAX_INVOKES) d.invokes.set(sender + m.invokeId, m.opCode);
      }
      if (m.opCode !== undefined && d.mapVersion !== undefined) {
        // Continue/End carry no application context: name by the dialogue's MAP version.
        const name = mapOperationName(m.opCode, d.mapVersion);
        if (name) m.operation = name;
      }
      let invokeOperation: string | undefined;
      if (m.kind !== 'invoke' && m.invokeId !== undefined) {
        // A result, error or reject answers an invoke of the other side.
        const op = d.invokes.get((sender === 'o' ? 'r' : 'o') + m.invokeId);
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

  private live(key: string, frame: number): Entry | undefined {
    const e = this.byKey.get(key);
    if (e && e.d.endFrame !== undefined && e.d.endFrame !== frame) {
      this.remove(e.d);
      return undefined;
    }
    return e;
  }

  /** Maps keys to the dialogue for `side`; `replace`: take keys another dialogue holds (a newer Begin wins a shared STP point code). */
  private alias(d: Dialogue, keys: string[], side: Side, replace: boolean): void {
    for (const k of keys) {
      if (!replace && this.byKey.has(k)) continue;
      this.byKey.set(k, { d, side });
      d.keys.push(k);
    }
  }

  private create(keys: string[], msg: Ss7Message): Dialogue {
    const key = keys[0]!;
    const old = this.byKey.get(key);
    if (old) this.remove(old.d); // transaction id reused
    if (this.order.size >= this.maxDialogues) {
      const oldest = this.order.values().next().value as Dialogue;
      this.remove(oldest);
      this.stats.evicted++;
    }
    const d: Dialogue = { primary: key, keys: [], startNs: msg.timeNs, lastNs: msg.timeNs, beginFrame: msg.frame, invokes: new Map() };
    const ac = msg.tcap?.appContextOid;
    if (ac) {
      const v = Number(ac.slice(ac.lastIndexOf('.') + 1));
      if (ac.startsWith('0.4.0.0.1.0.') && v > 0) d.mapVersion = v;
    }
    this.alias(d, keys, 'o', true);
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
    for (const k of d.keys) if (this.byKey.get(k)?.d === d) this.byKey.delete(k);
  }
}
