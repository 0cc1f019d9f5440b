// Turns one signalling message into one complete Ethernet frame, carved from
// a shared slab so frames need no allocation of their own yet stay valid after
// the next one is built (a consumer may keep them, e.g. a Kafka batch).
import { BerWriter } from '../../protocols/decode/ber/encode.ts';
import { SctpAssociations, SI_ISUP, SI_SCCP, SIP_PORT, beginM3ua, beginUdp, endM3ua, endUdp } from './framing.ts';
import * as isup from './isup.ts';
import type { IsupMessage } from './isup.ts';
import { MAP_ERRORS, MAP_OPERATIONS } from './map.ts';
import type { MapError, MapOperation, MapValues } from './map.ts';
import type { NetNode } from './network.ts';
import { beginUdt, endUdt } from './sccp.ts';
import { beginInvoke, beginResultLast, beginTcapBegin, beginTcapContinue, beginTcapEnd, endTcap, returnError } from './tcap.ts';
import type { Writer } from '../../protocols/decode/byteWriter.ts';

export type Protocol = 'map' | 'isup' | 'sip';

/** Where a component travels inside a dialogue opened by another operation. */
export interface DialogueStep {
  message: 'continue' | 'end';
  /** For a Continue: the peer's transaction id (the `tid` argument is ours). For an End, `tid` is the peer's. */
  dtid: number;
  /** First answer of the responder: include the AARE for `context`'s application context. */
  aare: boolean;
  context: MapOperation;
  invokeId: number;
}

const SLAB = 1 << 20;
/** Largest frame the generator builds (SIP with a PIDF body stays well below). */
const MAX_FRAME = 8192;

export class Encoder {
  /**
   * `reuse`: when the slab fills, start over at its beginning instead of
   * taking a fresh one. Only for consumers that copy each frame before asking
   * for the next (the pcap writer); it spares the garbage collector.
   */
  constructor(private readonly reuse = false) {}

  private slab = Buffer.alloc(SLAB);
  readonly w = new BerWriter(this.slab, 0);
  readonly assoc = new SctpAssociations();
  private start = 0;
  private tid = 0x1000;

  // The last frame and what it carries.
  frame: Buffer = this.slab.subarray(0, 0);
  protocol: Protocol = 'map';
  message = '';
  subscriber = -1;

  private open(): void {
    if (this.slab.length - this.w.pos < MAX_FRAME) {
      if (!this.reuse) this.slab = Buffer.alloc(SLAB);
      this.w.reset(this.slab, 0);
    }
    this.start = this.w.pos;
  }

  private close(protocol: Protocol, message: string, subscriber: number): void {
    if (this.w.pos - this.start > MAX_FRAME) throw new Error(`frame of ${this.w.pos - this.start} bytes overran the slab reserve`);
    this.frame = this.slab.subarray(this.start, this.w.pos);
    this.protocol = protocol;
    this.message = message;
    this.subscriber = subscriber;
  }

  /** A fresh TCAP transaction id for a dialogue. */
  nextTid(): number {
    this.tid = (this.tid + 1) >>> 0;
    return this.tid;
  }

  /**
   * A MAP message in its own TCAP dialogue: the invoke in a TC-BEGIN from
   * src to dst; the result or error in the TC-END coming back (so for those
   * `src` is the responder). `inDialogue` instead places the component in a
   * TC-CONTINUE or a bare TC-END of a dialogue opened by another operation.
   * `link` is the MTP/IP hop the frame is captured on when it is not src→dst
   * (through an STP); the SCCP addresses stay src's and dst's global titles.
   */
  map(
    kind: 'invoke' | 'result' | 'error',
    op: MapOperation,
    src: NetNode,
    srcSsn: number,
    dst: NetNode,
    dstSsn: number,
    tid: number,
    v: MapValues,
    subscriber: number,
    error?: MapError,
    inDialogue?: DialogueStep,
    link?: { from: NetNode; to: NetNode },
  ): void {
    this.open();
    const w = this.w;
    const spec = MAP_OPERATIONS[op];
    const frame = beginM3ua(w, this.assoc, link?.from ?? src, link?.to ?? dst, SI_SCCP, tid);
    const data = beginUdt(w, { ssn: dstSsn, gt: dst.gt }, { ssn: srcSsn, gt: src.gt });
    if (inDialogue) {
      const ac = inDialogue.aare ? MAP_OPERATIONS[inDialogue.context].ac : 0;
      if (inDialogue.message === 'continue') beginTcapContinue(w, tid, inDialogue.dtid, ac, spec.version);
      else beginTcapEnd(w, tid, ac, spec.version);
    } else if (kind === 'invoke') beginTcapBegin(w, tid, spec.ac, spec.version);
    else beginTcapEnd(w, tid, spec.ac, spec.version);
    const invokeId = inDialogue?.invokeId ?? 1;
    if (kind === 'invoke') {
      beginInvoke(w, invokeId, spec.opcode);
      spec.arg(w, v);
      w.end();
    } else {
      if (kind === 'result') {
        beginResultLast(w, invokeId, spec.opcode);
        spec.res?.(w, v);
        w.end();
        w.end();
      } else {
        returnError(w, invokeId, MAP_ERRORS[error ?? 'unknownSubscriber']);
      }
    }
    endTcap(w);
    endUdt(w, data);
    endM3ua(w, frame);
    this.close('map', kind === 'error' ? `${op}.error.${error ?? 'unknownSubscriber'}` : `${op}.${kind}`, subscriber);
  }

  isup(msg: IsupMessage, src: NetNode, dst: NetNode, cic: number, subscriber: number, called = '', calling = '', cause = 16): void {
    this.open();
    const w = this.w;
    const frame = beginM3ua(w, this.assoc, src, dst, SI_ISUP, cic);
    switch (msg) {
      case 'IAM':
        isup.iam(w, cic, called, calling);
        break;
      case 'ACM':
        isup.acm(w, cic);
        break;
      case 'CPG':
        isup.cpgAlerting(w, cic);
        break;
      case 'ANM':
        isup.anm(w, cic);
        break;
      case 'REL':
        isup.rel(w, cic, cause);
        break;
      case 'RLC':
        isup.rlc(w, cic);
        break;
    }
    endM3ua(w, frame);
    this.close('isup', msg, subscriber);
  }

  /** A SIP message over UDP 5060; `message` is the method or "<code> <method>". */
  sip(srcIp: number, dstIp: number, message: string, subscriber: number, write: (w: Writer) => void): void {
    this.open();
    const w = this.w;
    const frame = beginUdp(w, this.assoc, srcIp, dstIp, SIP_PORT, SIP_PORT);
    write(w);
    endUdp(w, frame);
    this.close('sip', message, subscriber);
  }
}
