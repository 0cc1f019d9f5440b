// SCCP connectionless messages (ITU-T Q.713 §4): UDT, XUDT, LUDT and their
// service variants (UDTS, XUDTS, LUDTS). Mandatory variable parameters are
// reached through relative pointers; XUDT/LUDT may carry a segmentation
// parameter in the optional part. Connection-oriented classes are not used by
// TCAP/MAP and are refused as unsupported.
import { DecodeError, need } from '../layer.ts';
import { decodeSccpAddress, type SccpAddress } from './address.ts';
import * as messageTypes from './messageTypes.ts';

// Imported tables bound to module locals once: under tsx every access to an
// imported binding goes through a getter, which shows in profiles.
const { SCCP_LUDT, SCCP_LUDTS, SCCP_MESSAGE_TYPES, SCCP_PARAM_END_OF_OPTIONAL, SCCP_PARAM_SEGMENTATION, SCCP_UDT, SCCP_UDTS, SCCP_XUDT, SCCP_XUDTS } =
  messageTypes;

const LAYER = 'sccp';

export interface SccpSegmentation {
  first: boolean;
  /** In-sequence delivery requested (protocol class 1). */
  inSequence: boolean;
  remaining: number;
  localRef: number;
}

export interface SccpMessage {
  type: number;
  typeName: string;
  protocolClass?: number;
  /** Service messages (UDTS/XUDTS/LUDTS) return undelivered data with a cause. */
  returnCause?: number;
  called: SccpAddress;
  calling: SccpAddress;
  /** Raw calling address octets: part of the reassembly key. */
  callingRaw: Buffer;
  data: Buffer;
  segmentation?: SccpSegmentation;
}

// End offset of the parameter last located by varParam (a module-level out
// value instead of a tuple: this runs for every message).
let paramEnd = 0;

/** Locates mandatory variable parameter `i` via its pointer; returns its start, sets paramEnd. */
function varParam(buf: Buffer, ptrAt: number, ptrSize: number, i: number, typeName: string, what: string): number {
  const at = ptrAt + i * ptrSize;
  const long = ptrSize === 2;
  const ptr = long ? buf.readUInt16LE(at) : buf[at]!;
  if (ptr === 0) throw new DecodeError(LAYER, 'malformed', `${typeName} ${what} pointer is 0`);
  const p = at + ptr;
  // LUDT's long data parameter has a two-octet length indicator.
  const lenSize = long && i === 2 ? 2 : 1;
  need(LAYER, buf, p, lenSize, `${typeName} ${what} length`);
  const len = lenSize === 2 ? buf.readUInt16LE(p) : buf[p]!;
  need(LAYER, buf, p + lenSize, len, `${typeName} ${what}`);
  paramEnd = p + lenSize + len;
  return p + lenSize;
}

export function decodeSccp(buf: Buffer): SccpMessage {
  need(LAYER, buf, 0, 1, 'message type');
  const type = buf[0]!;
  const typeName = SCCP_MESSAGE_TYPES[type];
  if (!typeName) throw new DecodeError(LAYER, 'unknown', `message type 0x${type.toString(16)}`);
  let ptrAt: number; // offset of the first mandatory-variable pointer
  let ptrSize: 1 | 2;
  let nptr: number;
  switch (type) {
    case SCCP_UDT:
    case SCCP_UDTS:
      ptrAt = 2;
      ptrSize = 1;
      nptr = 3;
      break;
    case SCCP_XUDT:
    case SCCP_XUDTS:
      ptrAt = 3;
      ptrSize = 1;
      nptr = 4;
      break;
    case SCCP_LUDT:
    case SCCP_LUDTS:
      ptrAt = 3;
      ptrSize = 2;
      nptr = 4;
      break;
    default:
      throw new DecodeError(LAYER, 'unsupported', `message type ${typeName}`);
  }
  need(LAYER, buf, 0, ptrAt + nptr * ptrSize, `${typeName} fixed part`);
  const service = type === SCCP_UDTS || type === SCCP_XUDTS || type === SCCP_LUDTS;
  const long = ptrSize === 2;

  const cdS = varParam(buf, ptrAt, ptrSize, 0, typeName, 'called address');
  const cdE = paramEnd;
  const cgS = varParam(buf, ptrAt, ptrSize, 1, typeName, 'calling address');
  const cgE = paramEnd;
  const dS = varParam(buf, ptrAt, ptrSize, 2, typeName, 'data');
  const dE = paramEnd;
  const msg: SccpMessage = {
    type,
    typeName,
    called: decodeSccpAddress(buf, cdS, cdE),
    calling: decodeSccpAddress(buf, cgS, cgE),
    callingRaw: buf.subarray(cgS, cgE),
    data: buf.subarray(dS, dE),
  };
  if (service) msg.returnCause = buf[1]!;
  else msg.protocolClass = buf[1]! & 0x0f;

  if (nptr === 4) {
    const at = ptrAt + 3 * ptrSize;
    const ptr = long ? buf.readUInt16LE(at) : buf[at]!;
    if (ptr !== 0) {
      let p = at + ptr;
      while (p < buf.length) {
        const name = buf[p]!;
        if (name === SCCP_PARAM_END_OF_OPTIONAL) break;
        need(LAYER, buf, p + 1, 1, `optional parameter ${name} length`);
        const len = buf[p + 1]!;
        need(LAYER, buf, p + 2, len, `optional parameter ${name}`);
        if (name === SCCP_PARAM_SEGMENTATION) {
          if (len !== 4) throw new DecodeError(LAYER, 'malformed', `segmentation length ${len}`);
          const o = buf[p + 2]!;
          msg.segmentation = {
            first: (o & 0x80) !== 0,
            inSequence: (o & 0x40) !== 0,
            remaining: o & 0x0f,
            localRef: (buf[p + 3]! << 16) | (buf[p + 4]! << 8) | buf[p + 5]!,
          };
        }
        p += 2 + len;
      }
    }
  }
  return msg;
}
