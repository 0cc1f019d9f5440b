// The taps' decoding pipeline, Wireshark style: a captured frame goes down
// link → IP → UDP/TCP/SCTP (FrameDissector), then to the application layer
// chosen by content, not port: M3UA/M2PA by SCTP PPID, everything else to
// the SIP carrier layer (SIP over UDP, TCP streams, SCTP, WebSocket, HEP). Messages
// are then correlated (TCAP transactions, ISUP calls, SIP transactions) so
// answers carry the identities and operation of what they answer.
// Bad input never throws out of here: it becomes a DecodeFailure with the
// raw bytes and `layer.reason`, counted, and decoding goes on.
import type { CapturedFrame } from '../protocols/decode/pcap/capturedFrame.ts';
import { FrameDissector, type TransportPayload } from '../protocols/decode/frameDissector.ts';
import { DecodeError } from '../protocols/decode/layer.ts';
import { Ss7Dissector, PPID_M2PA, PPID_M3UA } from '../protocols/decode/ss7Dissector.ts';
import { looksLikeSip } from '../protocols/decode/sip/detect.ts';
import { parseSipMessage, type SipMessage } from '../protocols/decode/sip/message.ts';
import { SipCarrierDecoder } from '../protocols/decode/sip/carrier.ts';
import type { HepPacket } from '../protocols/decode/hep/packet.ts';
import { HEP_PROTO } from '../protocols/decode/hep/chunkTypes.ts';
import { IsupCalls } from './correlation/isupCalls.ts';
import { SipTransactionTracker } from './correlation/sipTransactions.ts';
import { TcapTransactions } from './correlation/tcapTransactions.ts';
import type { NumberingPlan } from '../subscriber/identity/msisdn.ts';
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

const M3UA_PORT = 2905;

export interface SignalingDecoderOptions {
  plan: NumberingPlan;
}

export class SignalingDecoder {
  readonly frames: FrameDissector;
  readonly ss7 = new Ss7Dissector();
  readonly tcap = new TcapTransactions();
  readonly isup = new IsupCalls();
  readonly sipTx = new SipTransactionTracker();
  /** SIP over UDP, TCP streams, SCTP, WebSocket and HEP, found by content on any port. */
  readonly sipCarrier = new SipCarrierDecoder();
  /** Counters by `layer.reason` of failures, and of input skipped without failure. */
  readonly failures: Record<string, number> = Object.create(null);
  readonly skipped: Record<string, number> = Object.create(null);
  private frame = 0;
  private timeNs = 0n;
  private index = 0;

  constructor(
    private readonly sink: SignalingSink,
    private readonly opts: SignalingDecoderOptions,
  ) {
    this.frames = new FrameDissector();
  }

  private fail(err: unknown, raw: Buffer): void {
    const e =
      err instanceof DecodeError
        ? err
        : new DecodeError('tap', 'malformed', `unexpected ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
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
    if (p.transport === 'sctp') {
      const ppid = p.sctp?.ppid ?? 0;
      if (ppid === PPID_M3UA || ppid === PPID_M2PA) return this.decodeSs7(p.payload, ppid);
      // Old M3UA drafts predate the PPID assignment: recognise them by port.
      if (ppid === 0 && !looksLikeSip(p.payload) && (p.srcPort === M3UA_PORT || p.dstPort === M3UA_PORT)) return this.decodeSs7(p.payload, PPID_M3UA);
    }
    const before = this.sipCarrier.stats.nonSip;
    const r = this.sipCarrier.push(p);
    for (const e of r.errors) this.fail(e, p.payload);
    for (const m of r.messages) this.emitSip(m.message, m.timeNs);
    if (this.sipCarrier.stats.nonSip > before) this.skip(`${p.transport}.notSignaling`);
  }

  /** A HEP-encapsulated capture (live collector or HEP inside a capture). */
  decodeHepPacket(h: HepPacket): void {
    const timeNs = h.timeNs || this.timeNs;
    if (h.protoType === HEP_PROTO.M3UA) return this.decodeSs7(h.payload, PPID_M3UA, timeNs);
    if (h.protoType === HEP_PROTO.SIP || looksLikeSip(h.payload)) {
      let message: SipMessage;
      try {
        message = parseSipMessage(h.payload);
      } catch (err) {
        return this.fail(err, h.payload);
      }
      return this.emitSip(message, timeNs);
    }
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
      if (m.isup) {
        this.sink.signal(ss7Signal(this.isup.observe(m), this.index++, this.opts.plan));
        continue;
      }
      const correlated = this.tcap.observe(m);
      // The HLR's answer to sendRoutingInfo: the roaming number the coming IAM is addressed to, for this MSISDN.
      const map = correlated.map;
      if (map?.kind === 'result' && map.params.roamingNumber && (map.operation ?? correlated.dialogue?.invokeOperation) === 'sendRoutingInfo') {
        const msisdn = correlated.dialogue?.msisdn ?? map.params.msisdn;
        if (msisdn) this.isup.rememberRoamingNumber(map.params.roamingNumber, msisdn, correlated.timeNs);
      }
      this.sink.signal(ss7Signal(correlated, this.index++, this.opts.plan));
    }
  }

  private emitSip(message: SipMessage, timeNs: bigint): void {
    const match = this.sipTx.observe(message, timeNs);
    this.sink.signal(sipSignal(message, match, this.frame, timeNs, this.index++, this.opts.plan));
  }
}
