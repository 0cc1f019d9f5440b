// TCAP (ITU-T Q.773) transaction sub-layer + component sub-layer. Values
// stay offsets into the input; parameters are handed to the application
// (MAP) as subarrays, decoded only for the operations presence needs.
import { DecodeError } from '../layer.ts';
import * as ber from '../ber/ber.ts';
import type { Tlv as TlvT } from '../ber/ber.ts';
import { appContextInfo } from './applicationContexts.ts';
import * as tags from './tags.ts';

// Imported functions/tables bound to module locals once: under tsx every access
// to an imported binding goes through a getter, which shows in profiles.
const { readInt, readOid, readTlv, Tlv } = ber;
const {
  COMPONENT_KINDS,
  DIALOGUE_PDUS,
  P_ABORT_CAUSES,
  REJECT_PROBLEM_TYPES,
  TAG_COMPONENT_PORTION,
  TAG_DIALOGUE_AC_NAME,
  TAG_DIALOGUE_PORTION,
  TAG_DTID,
  TAG_EXTERNAL,
  TAG_INTEGER,
  TAG_LINKED_ID,
  TAG_NULL,
  TAG_OID,
  TAG_OTID,
  TAG_P_ABORT_CAUSE,
  TAG_SEQUENCE,
  TCAP_MESSAGE_TYPES,
} = tags;

const LAYER = 'tcap';

export type TcapType = 'unidirectional' | 'begin' | 'end' | 'continue' | 'abort';

export interface TcapComponent {
  kind: 'invoke' | 'result' | 'error' | 'reject';
  /** ReturnResultLast (true) or ReturnResultNotLast (false); true for the other kinds. */
  last: boolean;
  /** Absent only in a Reject whose invoke id was not derivable (NULL). */
  invokeId?: number;
  linkedId?: number;
  /** Local operation code (invoke; result when present). */
  opCode?: number;
  /** Global operation/error code OID, rare in MAP. */
  globalCode?: string;
  errorCode?: number;
  problem?: { type: string; code: number };
  /** Whole parameter TLV (identifier + length + contents), when present. */
  param?: Buffer;
}

export interface TcapMessage {
  type: TcapType;
  /** Transaction ids as lowercase hex of their 1-4 octets. */
  otid?: string;
  dtid?: string;
  dialogue?: 'request' | 'response' | 'abort';
  /** Application context OID ("0.4.0.0.1.0.1.3"). */
  appContextOid?: string;
  /** Its name, e.g. "networkLocUpContext-v3", when known. */
  appContext?: string;
  /** MAP version from a MAP application context. */
  mapVersion?: number;
  /** P-abort cause name (provider abort). */
  abortCause?: string;
  components: TcapComponent[];
}

const MAX_COMPONENTS = 64;

export function decodeTcap(buf: Buffer): TcapMessage {
  const t = new Tlv();
  readTlv(LAYER, buf, 0, buf.length, t);
  const type = TCAP_MESSAGE_TYPES[t.tag];
  if (!type) throw new DecodeError(LAYER, 'unknown', `message tag 0x${t.tag.toString(16)}`);
  const msg: TcapMessage = { type, components: [] };
  const end = t.valueEnd;
  let p = t.valueStart;
  const e = new Tlv();
  while (p < end) {
    readTlv(LAYER, buf, p, end, e);
    switch (e.tag) {
      case TAG_OTID:
      case TAG_DTID: {
        const n = e.valueEnd - e.valueStart;
        if (n < 1 || n > 4) throw new DecodeError(LAYER, 'malformed', `transaction id of ${n} octets`);
        const id = buf.toString('hex', e.valueStart, e.valueEnd);
        if (e.tag === TAG_OTID) msg.otid = id;
        else msg.dtid = id;
        break;
      }
      case TAG_P_ABORT_CAUSE: {
        const c = e.valueEnd > e.valueStart ? buf[e.valueStart]! : -1;
        msg.abortCause = P_ABORT_CAUSES[c] ?? `cause${c}`;
        break;
      }
      case TAG_DIALOGUE_PORTION:
        decodeDialogue(buf, e.valueStart, e.valueEnd, msg);
        break;
      case TAG_COMPONENT_PORTION:
        decodeComponents(buf, e.valueStart, e.valueEnd, msg.components);
        break;
      default:
        // Unknown elements are skipped, as Wireshark does, so one odd field
        // does not hide the transaction from the counts.
        break;
    }
    p = e.end;
  }
  return msg;
}

function decodeDialogue(buf: Buffer, start: number, end: number, msg: TcapMessage): void {
  const ext = readTlv(LAYER, buf, start, end, new Tlv());
  if (ext.tag !== TAG_EXTERNAL) throw new DecodeError(LAYER, 'malformed', `dialogue portion tag 0x${ext.tag.toString(16)}`);
  const e = new Tlv();
  let p = ext.valueStart;
  while (p < ext.valueEnd) {
    readTlv(LAYER, buf, p, ext.valueEnd, e);
    p = e.end;
    if (e.tag !== 0xa0) continue; // skip direct-reference OID (dialogue-as-id)
    const pdu = readTlv(LAYER, buf, e.valueStart, e.valueEnd, new Tlv());
    const kind = DIALOGUE_PDUS[pdu.tag];
    if (!kind) return; // e.g. a structured dialogue we do not need
    msg.dialogue = kind;
    const f = new Tlv();
    let q = pdu.valueStart;
    while (q < pdu.valueEnd) {
      readTlv(LAYER, buf, q, pdu.valueEnd, f);
      q = f.end;
      if (f.tag === TAG_DIALOGUE_AC_NAME) {
        const oid = readTlv(LAYER, buf, f.valueStart, f.valueEnd, new Tlv());
        if (oid.tag !== TAG_OID) throw new DecodeError(LAYER, 'malformed', 'application context name is not an OID');
        msg.appContextOid = readOid(LAYER, buf, oid.valueStart, oid.valueEnd);
        const info = appContextInfo(msg.appContextOid);
        if (info.name) msg.appContext = info.name;
        if (info.mapVersion) msg.mapVersion = info.mapVersion;
      }
    }
    return;
  }
}

function decodeComponents(buf: Buffer, start: number, end: number, out: TcapComponent[]): void {
  const c = new Tlv();
  const f = new Tlv();
  let p = start;
  while (p < end) {
    readTlv(LAYER, buf, p, end, c);
    p = c.end;
    const k = COMPONENT_KINDS[c.tag];
    if (!k) throw new DecodeError(LAYER, 'malformed', `component tag 0x${c.tag.toString(16)}`);
    if (out.length >= MAX_COMPONENTS) throw new DecodeError(LAYER, 'malformed', 'too many components');
    const comp: TcapComponent = { kind: k.kind, last: k.last };
    let q = c.valueStart;
    const ce = c.valueEnd;
    // invokeID: INTEGER, or NULL in a Reject.
    readTlv(LAYER, buf, q, ce, f);
    if (f.tag === TAG_INTEGER) comp.invokeId = readInt(LAYER, buf, f.valueStart, f.valueEnd);
    else if (!(f.tag === TAG_NULL && k.kind === 'reject')) {
      throw new DecodeError(LAYER, 'malformed', `invoke id tag 0x${f.tag.toString(16)}`);
    }
    q = f.end;
    switch (k.kind) {
      case 'invoke':
        if (q < ce) {
          if (readTlv(LAYER, buf, q, ce, f).tag === TAG_LINKED_ID) {
            comp.linkedId = readInt(LAYER, buf, f.valueStart, f.valueEnd);
            q = f.end;
          }
        }
        q = readCode(buf, q, ce, f, comp, 'op');
        if (q < ce) comp.param = buf.subarray(q, readTlv(LAYER, buf, q, ce, f).end);
        break;
      case 'result':
        if (q < ce) {
          if (readTlv(LAYER, buf, q, ce, f).tag !== TAG_SEQUENCE) throw new DecodeError(LAYER, 'malformed', 'result is not a SEQUENCE');
          const se = f.valueEnd;
          const r = readCode(buf, f.valueStart, se, f, comp, 'op');
          if (r < se) comp.param = buf.subarray(r, readTlv(LAYER, buf, r, se, f).end);
        }
        break;
      case 'error':
        q = readCode(buf, q, ce, f, comp, 'error');
        if (q < ce) comp.param = buf.subarray(q, readTlv(LAYER, buf, q, ce, f).end);
        break;
      case 'reject': {
        readTlv(LAYER, buf, q, ce, f);
        const type = REJECT_PROBLEM_TYPES[f.tag];
        if (!type) throw new DecodeError(LAYER, 'malformed', `reject problem tag 0x${f.tag.toString(16)}`);
        comp.problem = { type, code: readInt(LAYER, buf, f.valueStart, f.valueEnd) };
        break;
      }
    }
    out.push(comp);
  }
}

/** Reads a local (INTEGER) or global (OID) operation/error code; returns the next offset. */
function readCode(buf: Buffer, q: number, end: number, f: TlvT, comp: TcapComponent, what: 'op' | 'error'): number {
  readTlv(LAYER, buf, q, end, f);
  if (f.tag === TAG_INTEGER) {
    const v = readInt(LAYER, buf, f.valueStart, f.valueEnd);
    if (what === 'op') comp.opCode = v;
    else comp.errorCode = v;
  } else if (f.tag === TAG_OID) {
    comp.globalCode = readOid(LAYER, buf, f.valueStart, f.valueEnd);
  } else {
    throw new DecodeError(LAYER, 'malformed', `${what} code tag 0x${f.tag.toString(16)}`);
  }
  return f.end;
}
