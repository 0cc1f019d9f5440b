// Glue from transport payloads (FrameDissector's TransportPayload) to SIP
// messages, whatever carries them: UDP/SCTP datagrams, TCP streams (framed by
// Content-Length), WebSocket over TCP (RFC 7118) and HEP over UDP/TCP. Per-flow
// state (framer / WebSocket / HEP framer) is chosen from the first bytes of
// the flow, so SIP is found on any port. Errors are returned, not thrown, so
// one bad message does not hide the others of the same chunk.
import { decodeHep, isHep3 } from '../hep/decode.ts';
import { HepStreamFramer } from '../hep/framer.ts';
import type { HepPacket } from '../hep/packet.ts';
import { DecodeError } from '../layer.ts';
import { WebSocketFlowDecoder } from '../websocket/flowDecoder.ts';
import { looksLikeSip } from './detect.ts';
import { SipStreamFramer } from './framer.ts';
import { parseSipMessage, type SipMessage } from './message.ts';

/** The fields of FrameDissector's TransportPayload this layer reads. */
interface SipCarrierInput {
  readonly timeNs: bigint;
  readonly transport: 'udp' | 'tcp' | 'sctp';
  readonly flow: string;
  readonly payload: Buffer;
  /** TCP: bytes lost before this chunk. */
  readonly gap?: number;
}

type SipCarrier = 'udp' | 'tcp' | 'sctp' | 'websocket' | 'hep';

export interface DecodedSip {
  readonly message: SipMessage;
  readonly timeNs: bigint;
  readonly flow: string;
  readonly carrier: SipCarrier;
  /** Set when the message came inside HEP: the original capture's addresses and time. */
  readonly hep?: HepPacket;
}

interface SipCarrierResult {
  readonly messages: DecodedSip[];
  readonly errors: DecodeError[];
}

interface SipCarrierStats {
  messages: number;
  errors: number;
  /** Datagrams / stream chunks that carried no SIP (RTP, other protocols). */
  nonSip: number;
  /** HEP packets of other protocol types (RTCP, M3UA...), not decoded here. */
  hepOther: number;
  flows: number;
  flowsEvicted: number;
}

type FlowState =
  { kind: 'sip'; framer: SipStreamFramer } | { kind: 'websocket'; ws: WebSocketFlowDecoder } | { kind: 'hep'; framer: HepStreamFramer } | { kind: 'other' };

export class SipCarrierDecoder {
  readonly stats: SipCarrierStats = { messages: 0, errors: 0, nonSip: 0, hepOther: 0, flows: 0, flowsEvicted: 0 };
  private readonly flows = new Map<string, FlowState>();
  private readonly maxFlows: number;

  constructor(options: { maxFlows?: number } = {}) {
    this.maxFlows = options.maxFlows ?? 50_000;
  }

  push(input: SipCarrierInput): SipCarrierResult {
    const out: SipCarrierResult = { messages: [], errors: [] };
    if (input.transport === 'tcp') this.stream(input, out);
    else this.datagram(input, input.payload, input.transport, out);
    this.stats.messages += out.messages.length;
    this.stats.errors += out.errors.length;
    return out;
  }

  /** Forgets a flow (TCP FIN/RST, or the caller's own idle timeout). */
  endFlow(flow: string): void {
    this.flows.delete(flow);
  }

  private datagram(input: SipCarrierInput, payload: Buffer, carrier: SipCarrier, out: SipCarrierResult): void {
    if (isHep3(payload) || ((payload[0] === 1 || payload[0] === 2) && (payload[1] === 16 || payload[1] === 40))) {
      this.hep(input, payload, out);
      return;
    }
    if (!looksLikeSip(payload)) {
      this.stats.nonSip++;
      return;
    }
    this.parse(input, payload, carrier, out);
  }

  private hep(input: SipCarrierInput, raw: Buffer, out: SipCarrierResult): void {
    let pkt: HepPacket;
    try {
      pkt = decodeHep(raw);
    } catch (e) {
      out.errors.push(asDecodeError(e));
      return;
    }
    if (pkt.protoType !== 1) {
      this.stats.hepOther++;
      return;
    }
    this.parse(input, pkt.payload, 'hep', out, pkt);
  }

  private parse(input: SipCarrierInput, payload: Buffer, carrier: SipCarrier, out: SipCarrierResult, hep?: HepPacket): void {
    try {
      const message = parseSipMessage(payload);
      out.messages.push(
        hep ? { message, timeNs: hep.timeNs || input.timeNs, flow: input.flow, carrier, hep } : { message, timeNs: input.timeNs, flow: input.flow, carrier },
      );
    } catch (e) {
      out.errors.push(asDecodeError(e));
    }
  }

  private stream(input: SipCarrierInput, out: SipCarrierResult): void {
    let st = this.flows.get(input.flow);
    if (st && input.gap) {
      // a hole in the stream: framers resync by content; WebSocket cannot, so start over
      if (st.kind === 'sip') st.framer.reset();
      else if (st.kind === 'websocket' || st.kind === 'hep') st = undefined;
    }
    if (!st) {
      st = this.classify(input.payload);
      if (this.flows.size >= this.maxFlows) {
        const oldest = this.flows.keys().next().value;
        if (oldest !== undefined) this.flows.delete(oldest);
        this.stats.flowsEvicted++;
      }
      this.flows.set(input.flow, st);
      this.stats.flows++;
    }
    switch (st.kind) {
      case 'sip':
        for (const raw of st.framer.push(input.payload)) this.parse(input, raw, 'tcp', out);
        break;
      case 'hep':
        for (const raw of st.framer.push(input.payload)) this.hep(input, raw, out);
        break;
      case 'websocket': {
        const r = st.ws.push(input.payload);
        if (r.error) out.errors.push(r.error);
        for (const m of r.messages) {
          if (looksLikeSip(m.payload)) this.parse(input, m.payload, 'websocket', out);
          else this.stats.nonSip++;
        }
        break;
      }
      default:
        this.stats.nonSip++;
    }
  }

  private classify(first: Buffer): FlowState {
    const head = first.toString('latin1', 0, Math.min(first.length, 16));
    if (head.startsWith('HEP3')) return { kind: 'hep', framer: new HepStreamFramer() };
    // SIP first: "SIP/2.0 ..." must not be mistaken for an HTTP response
    if (looksLikeSip(first) || /^[\r\n]*$/.test(head)) return { kind: 'sip', framer: new SipStreamFramer() };
    // WebSocket only on an Upgrade (client) or 101 (server); other HTTP is not ours
    if (head.startsWith('GET ')) {
      const hdr = first.toString('latin1', 0, Math.min(first.length, 4096));
      return /\r\nupgrade:[ \t]*websocket/i.test(hdr) ? { kind: 'websocket', ws: new WebSocketFlowDecoder() } : { kind: 'other' };
    }
    if (head.startsWith('HTTP/1.')) return /^HTTP\/1\.[01] 101/.test(head) ? { kind: 'websocket', ws: new WebSocketFlowDecoder() } : { kind: 'other' };
    // a flow joined mid-stream: the SIP framer resyncs on the next start line
    return { kind: 'sip', framer: new SipStreamFramer() };
  }
}

function asDecodeError(e: unknown): DecodeError {
  if (e instanceof DecodeError) return e;
  throw e; // anything else is a bug and must surface
}
