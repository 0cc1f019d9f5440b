// The taps' decoding pipeline, Wireshark style: a captured frame goes down
// link → IP → UDP/TCP/SCTP (FrameDissector), then to the application layer
// chosen by content, not port: M3UA/M2PA by SCTP PPID, SIP by its start
// line (over UDP, TCP streams, SCTP, WebSocket), HEP by its magic. Messages
// are then correlated (TCAP transactions, ISUP calls, SIP transactions) so
// answers carry the identities and operation of what they answer.
// Bad input never throws out of here: it becomes a DecodeFailure with the
// raw bytes and `layer.reason`, counted, and decoding goes on.
import type { CapturedFrame } from '../decode/pcap/capturedFrame.ts';
import { FrameDissector, type TransportPayload } from '../decode/frameDissector.ts';
import { DecodeError } from '../decode/layer.ts';
import { Ss7Dissector, PPID_M2PA, PPID_M3UA } from '../decode/ss7Dissector.ts';
import { looksLikeSip } from '../decode/sip/detect.ts';
import { parseSipMessage } from '../decode/sip/message.ts';
import { SipStreamFramer } from '../decode/sip/framer.ts';
import { WebSocketFlowDecoder } from '../decode/websocket/flowDecoder.ts';
import { decodeHep, isHep3 } from '../decode/hep/decode.ts';
import { HepStreamFramer } from '../decode/hep/framer.ts';
import type { HepPacket } from '../decode/hep/packet.ts';
import { HEP_PROTO } from '../decode/hep/chunkTypes.ts';
import { IsupCalls } from './correlation/isupCalls.ts';
import { SipTransactionTracker } from './correlation/sipTransactions.ts';
import { TcapTransactions } from './correlation/tcapTransactions.ts';
import type { NumberingPlan } from './identity/msisdn.ts';
import { sipSignal, ss7Signal, type DecodedSignal } from './signal.ts';

export interface DecodeFailure {
  frame: number;
  timeNs: bigint;
  layer: string;
  reason: string;
  message: string;
  raw: Buffer;
}

export interface SignalingSink {
  signal(s: DecodedSignal): void;
  failure(f: DecodeFailure): void;
}

type FlowState =
  | { kind: 'sip'; framer: SipStreamFramer }
  | { kind: 'ws'; ws: WebSocketFlowDecoder }
  | { kind: 'hep'; framer: HepStreamFramer }
  | { kind: 'other' };

const SCTP_PPID_SIP = new Set([0, 46 /* unofficial, seen */]);
const M3UA_PORT = 2905;
const MAX_FLOWS = 100_000;

export interface SignalingDecoderOptions {
  plan: NumberingPlan;
}

export class SignalingDecoder {
  readonly frames: FrameDissector;
  readonly ss7 = new Ss7Dissector();
  readonly tcap = new TcapTransactions();
  readonly isup = new IsupCalls();
  readonly sipTx = new SipTransactionTracker();
  /** Counters by `layer.reason` of failures, and of input skipped without failure. */
  readonly failures: Record<string, number> = Object.create(null);
  readonly skipped: Record<string, number> = Object.create(null);
  private readonly flows = new Map<string, FlowState>();
  private frame = 0;
  private timeNs = 0n;
  private index = 0;

  constructor(private readonly sink: SignalingSink, private readonly opts: SignalingDecoderOptions) {
    this.frames = new FrameDissector();
  }

  private fail(err: unknown, raw: Buffer): void {
    const e = err instanceof DecodeError ? err : new DecodeError('tap', 'malformed', `unexpected ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
    const key = `${e.layer}.${e.reason}`;
    this.failures[key] = (this.failures[key] ?? 0) + 1;
    this.sink.failure({ frame: this.frame, timeNs: this.timeNs, layer: e.layer, reason: e.reason, message: e.message, raw: Buffer.from(raw) });
  }

  private skip(what: string): void {
    this.skipped[what] = (this.skipped[what] ?? 0) + 1;
  }

  /** Decodes one captured frame (pcap/pcapng/live). */
  decodeFrame(f: CapturedFrame): void {
    this.frame = f.index;
    this.timeNs = f.timeNs;
    this.index = 0;
    let payloads: TransportPayload[];
    try {
      payloads = this.frames.dissect(f);
    } catch (err) {
      this.fail(err, f.data);
      return;
    }
    for (const p of payloads) this.decodeTransport(p);
  }

  /** End of input: flush partial TCP streams and reassemblies. */
  finish(): void {
    let payloads: TransportPayload[] = [];
    try {
      payloads = this.frames.flush();
    } catch (err) {
      this.fail(err, Buffer.alloc(0));
    }
    for (const p of payloads) this.decodeTransport(p);
  }

  decodeTransport(p: TransportPayload): void {
    this.frame = p.frame;
    this.timeNs = p.timeNs;
    if (p.transport === 'sctp') return this.decodeSctp(p);
    if (p.transport === 'udp') return this.decodeDatagram(p.payload, p.timeNs);
    return this.decodeStream(p);
  }

  private decodeSctp(p: TransportPayload): void {
    const ppid = p.sctp?.ppid ?? 0;
    if (ppid === PPID_M3UA || ppid === PPID_M2PA) return this.decodeSs7(p.payload, ppid);
    if (SCTP_PPID_SIP.has(ppid) && looksLikeSip(p.payload)) return this.decodeSip(p.payload, p.timeNs);
    // Old M3UA drafts predate the PPID assignment: recognise them by port.
    if (ppid === 0 && (p.srcPort === M3UA_PORT || p.dstPort === M3UA_PORT)) return this.decodeSs7(p.payload, PPID_M3UA);
    this.skip(`sctp.ppid${ppid}`);
  }

  private decodeDatagram(payload: Buffer, timeNs: bigint): void {
    if (looksLikeSip(payload)) return this.decodeSip(payload, timeNs);
    if (isHep3(payload) || (payload.length > 2 && (payload[0] === 1 || payload[0] === 2) && payload[1]! >= 16 && payload[1]! <= 40)) {
      // HEP v2 has no magic; only trust it on a plausible header length.
      try {
        return this.decodeHepPacket(decodeHep(payload));
      } catch (err) {
        if (isHep3(payload)) return this.fail(err, payload);
      }
    }
    this.skip('udp.notSignaling');
  }

  private flowState(p: TransportPayload): FlowState {
    let st = this.flows.get(p.flow);
    if (st) return st;
    const b = p.payload;
    const head = b.subarray(0, 16).toString('latin1');
    if (head.startsWith('GET ') || head.startsWith('HTTP/1.1 101') || head.startsWith('HTTP/1.0 101')) st = { kind: 'ws', ws: new WebSocketFlowDecoder() };
    else if (isHep3(b)) st = { kind: 'hep', framer: new HepStreamFramer() };
    else if (looksLikeSip(b)) st = { kind: 'sip', framer: new SipStreamFramer() };
    // A capture that starts mid-connection: a WebSocket text/binary frame header.
    else if ((b[0] === 0x81 || b[0] === 0x82) && b.length > 2) st = { kind: 'ws', ws: new WebSocketFlowDecoder() };
    else st = { kind: 'other' };
    if (this.flows.size >= MAX_FLOWS) this.flows.delete(this.flows.keys().next().value!);
    this.flows.set(p.flow, st);
    return st;
  }

  private decodeStream(p: TransportPayload): void {
    const st = this.flowState(p);
    try {
      switch (st.kind) {
        case 'sip':
          for (const m of st.framer.push(p.payload)) this.decodeSip(m, p.timeNs);
          return;
        case 'ws': {
          const r = st.ws.push(p.payload);
          for (const m of r.messages) {
            if (looksLikeSip(m.payload)) this.decodeSip(m.payload, p.timeNs);
            else this.skip('websocket.notSip');
          }
          if (r.error) this.fail(r.error, p.payload);
          return;
        }
        case 'hep':
          for (const m of st.framer.push(p.payload)) {
            try {
              this.decodeHepPacket(decodeHep(m));
            } catch (err) {
              this.fail(err, m);
            }
          }
          return;
        default:
          this.skip('tcp.notSignaling');
      }
    } catch (err) {
      this.fail(err, p.payload);
    }
  }

  /** A HEP-encapsulated capture (live collector or HEP inside a capture). */
  decodeHepPacket(h: HepPacket): void {
    const timeNs = h.timeNs || this.timeNs;
    if (h.protoType === HEP_PROTO.SIP) return this.decodeSip(h.payload, timeNs);
    if (h.protoType === HEP_PROTO.M3UA) return this.decodeSs7(h.payload, PPID_M3UA, timeNs);
    if (looksLikeSip(h.payload)) return this.decodeSip(h.payload, timeNs);
    this.skip(`hep.proto${h.protoType}`);
  }

  private decodeSs7(payload: Buffer, ppid: number, timeNs = this.timeNs): void {
    let messages;
    try {
      messages = this.ss7.decode(payload, ppid, { timeNs, frame: this.frame });
    } catch (err) {
      return this.fail(err, payload);
    }
    for (const m of messages) {
      const correlated = m.isup ? this.isup.observe(m) : this.tcap.observe(m);
      this.sink.signal(ss7Signal(correlated, this.index++, this.opts.plan));
    }
  }

  private decodeSip(payload: Buffer, timeNs: bigint): void {
    let message;
    try {
      message = parseSipMessage(payload);
    } catch (err) {
      return this.fail(err, payload);
    }
    const match = this.sipTx.observe(message, timeNs);
    this.sink.signal(sipSignal(message, match, this.frame, timeNs, this.index++, this.opts.plan));
  }
}
